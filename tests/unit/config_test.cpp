// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "config/config.h"
#include "config/config_example.h"
#include "config/identity.h"
#include "test_util.h"

#include <filesystem>
#include <grp.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

using namespace rpmsgd::config;
using unit::TempDir;
using unit::writeText;

namespace {

using Errors = std::vector<std::string>;

LoadResult parseOne(const std::string& text, const std::string& name = "rpmsgd.json") {
    return parseConfig({Source{name, text}});
}

// The errors of parsing @p text as "rpmsgd.json".
Errors errorsOf(const std::string& text) {
    return parseOne(text).errors;
}

// One expected error for `rpmsgd.json` at @p pointer.
Errors oneError(const std::string& pointer, const std::string& reason) {
    std::string line = "rpmsgd.json: ";
    line += pointer;
    line += ": ";
    line += reason;
    return {line};
}

// Restores the working directory at scope exit.
class ChangeDir {
public:
    explicit ChangeDir(const std::filesystem::path& to) : old_(std::filesystem::current_path()) {
        std::filesystem::current_path(to);
    }
    ~ChangeDir() { std::filesystem::current_path(old_); }
    ChangeDir(const ChangeDir&) = delete;
    ChangeDir& operator=(const ChangeDir&) = delete;

private:
    std::filesystem::path old_;
};

} // namespace

// ---- defaults --------------------------------------------------------------------------------

TEST(ConfigDefaults, EmptyObjectMeansDefaults) {
    const LoadResult r = parseOne("{}");
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_TRUE(r.warnings.empty());
    const Config& c = r.config;
    EXPECT_EQ(c, Config{});
    EXPECT_EQ(c.paths.sysfs, "/sys");
    EXPECT_EQ(c.paths.dev, "/dev");
    EXPECT_EQ(c.paths.debugfs, "/sys/kernel/debug");
    EXPECT_EQ(c.paths.firmware, "/lib/firmware");
    EXPECT_EQ(c.paths.state, "/var/lib/rpmsgd");
    EXPECT_EQ(c.watch.mode, WatchMode::Udev);
    EXPECT_EQ(c.watch.pollIntervalMs, 1000u);
    EXPECT_EQ(c.watch.stateIntervalMs, 1000u);
    EXPECT_TRUE(c.managers.users.empty());
    EXPECT_EQ(c.managers.groups, std::vector<std::string>{"rpmsg-admin"});
    ASSERT_EQ(c.channels.size(), 1u);
    EXPECT_EQ(c.channels[0].match, "*");
    EXPECT_EQ(c.channels[0].processor, "*");
    EXPECT_TRUE(c.channels[0].users.empty());
    EXPECT_EQ(c.channels[0].groups, std::vector<std::string>{"rpmsg"});
    EXPECT_TRUE(c.processors.empty());
    EXPECT_EQ(c.limits.endpointsPerClient, 32u);
    EXPECT_EQ(c.limits.endpointsTotal, 1024u);
    EXPECT_EQ(c.limits.firmwareMaxBytes, 67108864u);
    EXPECT_EQ(c.limits.coredumpsKept, 5u);
    EXPECT_EQ(c.limits.waitsPerClient, 16u);
}

TEST(ConfigDefaults, NoSourcesMeansDefaults) {
    const LoadResult r = parseConfig({});
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.config, Config{});
}

TEST(ConfigDefaults, MissingOptionalFileMeansDefaults) {
    TempDir dir;
    const LoadResult r = loadConfig(dir.file("rpmsgd.json"), false);
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    EXPECT_EQ(r.config, Config{});
    EXPECT_TRUE(r.files.empty());
    EXPECT_TRUE(r.errors.empty());
}

TEST(ConfigDefaults, MissingRequiredFileIsAnError) {
    TempDir dir;
    const std::string file = dir.file("rpmsgd.json");
    const LoadResult r = loadConfig(file, true);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.errors, Errors{file + ": cannot read: No such file or directory"});
}

TEST(ConfigDefaults, DropinsApplyWithoutTheMainFile) {
    TempDir dir;
    const std::string file = dir.file("rpmsgd.json");
    std::filesystem::create_directory(file + ".d");
    writeText(file + ".d/10-poll.json", R"({"watch": {"mode": "poll"}})");
    const LoadResult r = loadConfig(file, false);
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    EXPECT_EQ(r.config.watch.mode, WatchMode::Poll);
    EXPECT_EQ(r.files, Errors{file + ".d/10-poll.json"});
}

// ---- every key -------------------------------------------------------------------------------

TEST(ConfigParse, EveryKey) {
    const LoadResult r = parseOne(R"({
      "paths": { "sysfs": "/sim/sys", "dev": "/sim/dev", "debugfs": "/sim/debug",
                 "firmware": "/sim/firmware", "state": "/sim/state" },
      "watch": { "mode": "poll", "poll_interval_ms": 10, "state_interval_ms": 3600000 },
      "managers": { "users": ["alice", "bob"], "groups": ["wheel"] },
      "channels": [
        { "match": "rpmsg-tty*", "processor": "imx-rproc", "users": ["carol"], "groups": [] },
        { "match": "*", "processor": "remoteproc[01]", "groups": ["dialout", "rpmsg"] }
      ],
      "processors": [
        { "match": "imx-rproc", "firmware": "rpmsgd/m4_app.elf", "autostart": true,
          "recovery": "disabled", "coredump": "inline",
          "restart": { "max_crashes": 3, "window_s": 60 } },
        { "match": "remoteproc1", "recovery": "enabled", "coredump": "enabled",
          "autostart": false, "restart": {} },
        { "match": "dsp*", "coredump": "disabled" }
      ],
      "limits": { "endpoints_per_client": 64, "endpoints_total": 64,
                  "firmware_max_bytes": 4096, "coredumps_kept": 0, "waits_per_client": 1024 }
    })");
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);

    Config want;
    want.paths.sysfs = "/sim/sys";
    want.paths.dev = "/sim/dev";
    want.paths.debugfs = "/sim/debug";
    want.paths.firmware = "/sim/firmware";
    want.paths.state = "/sim/state";
    want.watch.mode = WatchMode::Poll;
    want.watch.pollIntervalMs = 10;
    want.watch.stateIntervalMs = 3600000;
    want.managers.users = {"alice", "bob"};
    want.managers.groups = {"wheel"};
    want.channels.clear();
    ChannelRule tty;
    tty.match = "rpmsg-tty*";
    tty.processor = "imx-rproc";
    tty.users = {"carol"};
    want.channels.push_back(tty);
    ChannelRule any;
    any.processor = "remoteproc[01]";
    any.groups = {"dialout", "rpmsg"};
    want.channels.push_back(any);

    ProcessorPolicy m4;
    m4.match = "imx-rproc";
    m4.firmware = "rpmsgd/m4_app.elf";
    m4.autostart = true;
    m4.recovery = Recovery::Disabled;
    m4.coredump = Coredump::Inline;
    m4.restart = RestartPolicy{3, 60};
    want.processors.push_back(m4);
    ProcessorPolicy rp1;
    rp1.match = "remoteproc1";
    rp1.recovery = Recovery::Enabled;
    rp1.coredump = Coredump::Enabled;
    rp1.autostart = false;
    rp1.restart = RestartPolicy{}; // an empty object means the defaults
    want.processors.push_back(rp1);
    ProcessorPolicy dsp;
    dsp.match = "dsp*";
    dsp.coredump = Coredump::Disabled;
    want.processors.push_back(dsp);

    want.limits.endpointsPerClient = 64;
    want.limits.endpointsTotal = 64;
    want.limits.firmwareMaxBytes = 4096;
    want.limits.coredumpsKept = 0;
    want.limits.waitsPerClient = 1024;

    EXPECT_EQ(r.config, want);
    EXPECT_EQ(r.config.processors[1].restart->maxCrashes, 5u);
    EXPECT_EQ(r.config.processors[1].restart->windowS, 300u);
    EXPECT_FALSE(r.config.processors[2].firmware.has_value());
    EXPECT_FALSE(r.config.processors[2].autostart.has_value());
    EXPECT_FALSE(r.config.processors[2].recovery.has_value());
    EXPECT_FALSE(r.config.processors[2].restart.has_value());
}

TEST(ConfigParse, OmittedKeysKeepTheirDefaults) {
    const LoadResult r =
        parseOne(R"({"paths": {"dev": "/x/dev"}, "limits": {"coredumps_kept": 9}})");
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    Config want;
    want.paths.dev = "/x/dev";
    want.limits.coredumpsKept = 9;
    EXPECT_EQ(r.config, want);
}

TEST(ConfigParse, RuleAndPolicyDefaults) {
    const LoadResult r = parseOne(R"({"channels": [{}], "processors": [{}]})");
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    ASSERT_EQ(r.config.channels.size(), 1u);
    EXPECT_EQ(r.config.channels[0], ChannelRule{}); // "*", "*", nobody
    EXPECT_TRUE(r.config.channels[0].groups.empty());
    ASSERT_EQ(r.config.processors.size(), 1u);
    EXPECT_EQ(r.config.processors[0], ProcessorPolicy{});
    EXPECT_EQ(r.config.processors[0].match, "*");
}

TEST(ConfigParse, EmptyChannelsMeansOnlyRootAndManagers) {
    const LoadResult r = parseOne(R"({"channels": []})");
    ASSERT_TRUE(r.ok);
    EXPECT_TRUE(r.config.channels.empty());
    EXPECT_EQ(matchChannelRule(r.config, "rpmsg-tty", "remoteproc0", "imx-rproc"), nullptr);
}

TEST(ConfigParse, EnumSpellings) {
    EXPECT_STREQ(toString(WatchMode::Udev), "udev");
    EXPECT_STREQ(toString(WatchMode::Poll), "poll");
    // Recovery and Coredump are the kernel's words of common/states.h.
    EXPECT_EQ(toString(Recovery::Enabled), "enabled");
    EXPECT_EQ(toString(Recovery::Disabled), "disabled");
    EXPECT_EQ(toString(Coredump::Disabled), "disabled");
    EXPECT_EQ(toString(Coredump::Enabled), "enabled");
    EXPECT_EQ(toString(Coredump::Inline), "inline");
}

// ---- errors ----------------------------------------------------------------------------------

TEST(ConfigErrors, SyntaxErrorNamesLineAndColumn) {
    const LoadResult r = parseOne("{\n  \"paths\": {\n    \"sysfs\": \"/sys\",\n  }\n}\n");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.errors, Errors{"rpmsgd.json: line 4, column 3: syntax error while parsing object "
                               "key - unexpected '}'; expected string literal"});
}

TEST(ConfigErrors, SyntaxErrorInvalidLiteral) {
    EXPECT_EQ(errorsOf("{\"watch\": {\"mode\": udev}}"),
              Errors{"rpmsgd.json: line 1, column 20: syntax error while parsing value - invalid "
                     "literal; last read: '\"mode\": u'"});
}

TEST(ConfigErrors, EmptyFileIsASyntaxError) {
    EXPECT_EQ(errorsOf(""), Errors{"rpmsgd.json: line 1, column 1: syntax error while parsing "
                                   "value - unexpected end of input; expected '[', '{', or a "
                                   "literal"});
}

TEST(ConfigErrors, TopLevelMustBeAnObject) {
    EXPECT_EQ(errorsOf("[]"), oneError("/", "expected an object, got an array"));
    EXPECT_EQ(errorsOf("null"), oneError("/", "expected an object, got null"));
}

TEST(ConfigErrors, DuplicateKey) {
    EXPECT_EQ(errorsOf(R"({"processors": [{"autostart": true, "autostart": false}]})"),
              oneError("/processors/0/autostart", "duplicate key"));
    EXPECT_EQ(errorsOf(R"({"watch": {}, "watch": {}})"), oneError("/watch", "duplicate key"));
}

TEST(ConfigErrors, UnknownKeysListTheAllowedOnes) {
    EXPECT_EQ(
        errorsOf(R"({"path": {}})"),
        oneError(
            "/path",
            "unknown key (allowed: authorization, paths, watch, managers, channels, processors, "
            "limits)"));
    EXPECT_EQ(
        errorsOf(R"({"paths": {"sysfss": "/sys"}})"),
        oneError("/paths/sysfss", "unknown key (allowed: sysfs, dev, debugfs, firmware, state)"));
    EXPECT_EQ(errorsOf(R"({"watch": {"interval": 5}})"),
              oneError("/watch/interval",
                       "unknown key (allowed: mode, poll_interval_ms, state_interval_ms, "
                       "trace_interval_ms)"));
    EXPECT_EQ(errorsOf(R"({"managers": {"user": []}})"),
              oneError("/managers/user", "unknown key (allowed: users, groups)"));
    EXPECT_EQ(
        errorsOf(R"({"channels": [{"name": "x"}]})"),
        oneError("/channels/0/name", "unknown key (allowed: match, processor, users, groups)"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"autostrat": true}]})"),
              oneError("/processors/0/autostrat",
                       "unknown key (allowed: match, firmware, autostart, recovery, coredump, "
                       "restart)"));
    EXPECT_EQ(
        errorsOf(R"({"processors": [{"restart": {"max": 1}}]})"),
        oneError("/processors/0/restart/max", "unknown key (allowed: max_crashes, window_s)"));
    EXPECT_EQ(errorsOf(R"({"limits": {"endpoints": 1}})"),
              oneError("/limits/endpoints",
                       "unknown key (allowed: endpoints_per_client, endpoints_total, "
                       "firmware_max_bytes, coredumps_kept, waits_per_client, calls_per_client, "
                       "kernel_write_timeout_ms)"));
}

TEST(ConfigErrors, PointerTokensAreEscaped) {
    EXPECT_EQ(
        errorsOf(R"({"a/b~c": 1})"),
        oneError(
            "/a~1b~0c",
            "unknown key (allowed: authorization, paths, watch, managers, channels, processors, "
            "limits)"));
}

TEST(ConfigErrors, SectionsOfTheWrongType) {
    EXPECT_EQ(errorsOf(R"({"paths": "/sys"})"),
              oneError("/paths", R"(expected an object, got "/sys")"));
    EXPECT_EQ(errorsOf(R"({"watch": []})"), oneError("/watch", "expected an object, got an array"));
    EXPECT_EQ(errorsOf(R"({"managers": null})"),
              oneError("/managers", "expected an object, got null"));
    EXPECT_EQ(errorsOf(R"({"channels": {}})"),
              oneError("/channels", "expected an array of channel rules, got an object"));
    EXPECT_EQ(errorsOf(R"({"processors": {}})"),
              oneError("/processors", "expected an array of processor policies, got an object"));
    EXPECT_EQ(errorsOf(R"({"limits": 5})"), oneError("/limits", "expected an object, got 5"));
    EXPECT_EQ(errorsOf(R"({"channels": ["*"]})"),
              oneError("/channels/0", R"(expected an object, got "*")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"restart": 5}]})"),
              oneError("/processors/0/restart", "expected an object, got 5"));
}

TEST(ConfigErrors, PathsMustBeAbsolute) {
    EXPECT_EQ(errorsOf(R"({"paths": {"sysfs": "sys"}})"),
              oneError("/paths/sysfs", R"(expected an absolute path, got "sys")"));
    EXPECT_EQ(errorsOf(R"({"paths": {"dev": ""}})"),
              oneError("/paths/dev", R"(expected an absolute path, got "")"));
    EXPECT_EQ(errorsOf(R"({"paths": {"state": 1}})"),
              oneError("/paths/state", "expected an absolute path, got 1"));
}

TEST(ConfigErrors, WatchValues) {
    EXPECT_EQ(errorsOf(R"({"watch": {"mode": "inotify"}})"),
              oneError("/watch/mode", R"(expected "udev" or "poll", got "inotify")"));
    EXPECT_EQ(errorsOf(R"({"watch": {"mode": "UDEV"}})"),
              oneError("/watch/mode", R"(expected "udev" or "poll", got "UDEV")"));
    EXPECT_EQ(errorsOf(R"({"watch": {"poll_interval_ms": 9}})"),
              oneError("/watch/poll_interval_ms", "expected an integer from 10 to 3600000, got 9"));
    EXPECT_EQ(errorsOf(R"({"watch": {"state_interval_ms": 3600001}})"),
              oneError("/watch/state_interval_ms",
                       "expected an integer from 10 to 3600000, got 3600001"));
    EXPECT_EQ(
        errorsOf(R"({"watch": {"state_interval_ms": -1000}})"),
        oneError("/watch/state_interval_ms", "expected an integer from 10 to 3600000, got -1000"));
    EXPECT_EQ(
        errorsOf(R"({"watch": {"poll_interval_ms": 100.5}})"),
        oneError("/watch/poll_interval_ms", "expected an integer from 10 to 3600000, got 100.5"));
    EXPECT_EQ(errorsOf(R"({"watch": {"poll_interval_ms": "100"}})"),
              oneError("/watch/poll_interval_ms",
                       R"(expected an integer from 10 to 3600000, got "100")"));
}

TEST(ConfigErrors, NamesAreNonEmptyWithoutWhitespace) {
    EXPECT_EQ(errorsOf(R"({"managers": {"users": "root"}})"),
              oneError("/managers/users", R"(expected an array of user names, got "root")"));
    EXPECT_EQ(
        errorsOf(R"({"managers": {"groups": ["wheel", "rpmsg admin"]}})"),
        oneError(
            "/managers/groups/1",
            R"(expected a group name (a non-empty string without whitespace), got "rpmsg admin")"));
    EXPECT_EQ(errorsOf(R"({"channels": [{"users": [""]}]})"),
              oneError("/channels/0/users/0",
                       R"(expected a user name (a non-empty string without whitespace), got "")"));
    EXPECT_EQ(errorsOf(R"({"channels": [{"groups": [0]}]})"),
              oneError("/channels/0/groups/0",
                       "expected a group name (a non-empty string without whitespace), got 0"));
    EXPECT_EQ(
        errorsOf(R"({"channels": [{"users": ["tab\tuser"]}]})"),
        oneError(
            "/channels/0/users/0",
            R"(expected a user name (a non-empty string without whitespace), got "tab\tuser")"));
}

TEST(ConfigErrors, Globs) {
    EXPECT_EQ(errorsOf(R"({"channels": [{"match": ""}]})"),
              oneError("/channels/0/match", R"(expected a non-empty glob pattern, got "")"));
    EXPECT_EQ(errorsOf(R"({"channels": [{"processor": 0}]})"),
              oneError("/channels/0/processor", "expected a non-empty glob pattern, got 0"));
    EXPECT_EQ(errorsOf(R"({"channels": [{"match": "rpmsg-[abc"}]})"),
              oneError("/channels/0/match", R"(unbalanced '[' in glob pattern "rpmsg-[abc")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"match": "m4[!]"}]})"),
              oneError("/processors/0/match", R"(unbalanced '[' in glob pattern "m4[!]")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"match": "m[[:digit:]"}]})"),
              oneError("/processors/0/match", R"(unbalanced '[' in glob pattern "m[[:digit:]")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"match": "m[[:digit]"}]})"),
              oneError("/processors/0/match", R"(unbalanced '[:' in glob pattern "m[[:digit]")"));
    EXPECT_EQ(errorsOf(R"({"channels": [{"match": "x\\"}]})"),
              oneError("/channels/0/match", R"(dangling '\' at the end of glob pattern "x\\")"));
    // Valid: classes, a leading ']' member, escapes, a lone ']'.
    EXPECT_EQ(errorsOf(R"({"channels": [{"match": "a[[:digit:]]b"}, {"match": "[]x]"},
                                         {"match": "\\[lit"}, {"match": "x]"},
                                         {"match": "[!a-z]?*"}]})"),
              Errors{});
}

TEST(ConfigErrors, FirmwareNames) {
    EXPECT_EQ(errorsOf(R"({"processors": [{"firmware": ""}]})"),
              oneError("/processors/0/firmware", R"(expected a firmware file name, got "")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"firmware": true}]})"),
              oneError("/processors/0/firmware", "expected a firmware file name, got true"));
    EXPECT_EQ(
        errorsOf(R"({"processors": [{"firmware": "/lib/firmware/m4.elf"}]})"),
        oneError("/processors/0/firmware",
                 R"(expected a file name relative to paths.firmware, got "/lib/firmware/m4.elf")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"firmware": "../m4.elf"}]})"),
              oneError("/processors/0/firmware",
                       R"(firmware name must not contain a ".." component, got "../m4.elf")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"firmware": "a/../../m4.elf"}]})"),
              oneError("/processors/0/firmware",
                       R"(firmware name must not contain a ".." component, got "a/../../m4.elf")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"firmware": "sub/.."}]})"),
              oneError("/processors/0/firmware",
                       R"(firmware name must not contain a ".." component, got "sub/..")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"firmware": "m4.elf\nx"}]})"),
              oneError("/processors/0/firmware",
                       R"(firmware name must not contain control characters, got "m4.elf\nx")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"firmware": ")" + std::string(256, 'f') + R"("}]})"),
              oneError("/processors/0/firmware",
                       "firmware name is 256 bytes long, at most 255 are allowed"));
    // Valid: 255 bytes, subdirectories, dots that are not a ".." component.
    EXPECT_EQ(errorsOf(R"({"processors": [{"firmware": ")" + std::string(255, 'f') + R"("},
                                           {"firmware": "rpmsgd/m4..v2.elf"},
                                           {"firmware": "..m4.elf"}]})"),
              Errors{});
}

TEST(ConfigErrors, ProcessorValues) {
    EXPECT_EQ(errorsOf(R"({"processors": [{"autostart": "yes"}]})"),
              oneError("/processors/0/autostart", R"(expected true or false, got "yes")"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"autostart": 1}]})"),
              oneError("/processors/0/autostart", "expected true or false, got 1"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"recovery": true}]})"),
              oneError("/processors/0/recovery", R"(expected "enabled" or "disabled", got true)"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"coredump": "on"}]})"),
              oneError("/processors/0/coredump",
                       R"(expected "disabled", "enabled" or "inline", got "on")"));
    EXPECT_EQ(
        errorsOf(R"({"processors": [{"restart": {"max_crashes": 0}}]})"),
        oneError("/processors/0/restart/max_crashes", "expected an integer from 1 to 1000, got 0"));
    EXPECT_EQ(errorsOf(R"({"processors": [{"restart": {"window_s": 0}}]})"),
              oneError("/processors/0/restart/window_s",
                       "expected an integer from 1 to 31536000, got 0"));
}

TEST(ConfigErrors, Limits) {
    EXPECT_EQ(
        errorsOf(R"({"limits": {"endpoints_per_client": 0}})"),
        oneError("/limits/endpoints_per_client", "expected an integer from 1 to 65536, got 0"));
    EXPECT_EQ(
        errorsOf(R"({"limits": {"endpoints_total": 65537}})"),
        oneError("/limits/endpoints_total", "expected an integer from 1 to 65536, got 65537"));
    EXPECT_EQ(errorsOf(R"({"limits": {"firmware_max_bytes": 4095}})"),
              oneError("/limits/firmware_max_bytes",
                       "expected an integer from 4096 to 1073741824, got 4095"));
    EXPECT_EQ(errorsOf(R"({"limits": {"firmware_max_bytes": 1073741825}})"),
              oneError("/limits/firmware_max_bytes",
                       "expected an integer from 4096 to 1073741824, got 1073741825"));
    EXPECT_EQ(errorsOf(R"({"limits": {"coredumps_kept": 1001}})"),
              oneError("/limits/coredumps_kept", "expected an integer from 0 to 1000, got 1001"));
    EXPECT_EQ(errorsOf(R"({"limits": {"waits_per_client": 0}})"),
              oneError("/limits/waits_per_client", "expected an integer from 1 to 1024, got 0"));
    EXPECT_EQ(errorsOf(R"({"limits": {"waits_per_client": 1025}})"),
              oneError("/limits/waits_per_client", "expected an integer from 1 to 1024, got 1025"));
    EXPECT_EQ(errorsOf(R"({"limits": {"waits_per_client": 18446744073709551616}})"),
              oneError("/limits/waits_per_client",
                       "expected an integer from 1 to 1024, got 1.8446744073709552e+19"));
}

TEST(ConfigErrors, PerClientMustNotExceedTotal) {
    EXPECT_EQ(errorsOf(R"({"limits": {"endpoints_per_client": 100, "endpoints_total": 50}})"),
              oneError("/limits/endpoints_per_client", "100 exceeds endpoints_total (50)"));
    // Only the total given: the error is on the key that was set.
    EXPECT_EQ(errorsOf(R"({"limits": {"endpoints_total": 16}})"),
              oneError("/limits/endpoints_total", "16 is less than endpoints_per_client (32)"));
    // A bad value on either side is reported alone.
    EXPECT_EQ(errorsOf(R"({"limits": {"endpoints_per_client": 100, "endpoints_total": 0}})"),
              oneError("/limits/endpoints_total", "expected an integer from 1 to 65536, got 0"));
}

TEST(ConfigErrors, LongValuesAreShortenedInMessages) {
    const std::string longPath = "x" + std::string(200, 'y');
    const Errors errors = errorsOf(R"({"paths": {"sysfs": ")" + longPath + R"("}})");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "rpmsgd.json: /paths/sysfs: expected an absolute path, got \"x" +
                             std::string(78, 'y') + "...");
}

TEST(ConfigErrors, AllErrorsAreCollected) {
    const LoadResult r = parseOne(R"({
      "paths": {"sysfs": "sys", "dev": 5},
      "bogus": 1,
      "processors": [{"autostart": "yes", "coredump": "on"}, {"firmware": "/abs"}],
      "limits": {"waits_per_client": 0}
    })");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.config, Config{}); // defaults when not ok
    EXPECT_EQ(
        r.errors,
        (Errors{
            "rpmsgd.json: /bogus: unknown key (allowed: authorization, paths, watch, managers, "
            "channels, "
            "processors, limits)",
            R"(rpmsgd.json: /paths/sysfs: expected an absolute path, got "sys")",
            "rpmsgd.json: /paths/dev: expected an absolute path, got 5",
            R"(rpmsgd.json: /processors/0/autostart: expected true or false, got "yes")",
            R"(rpmsgd.json: /processors/0/coredump: expected "disabled", "enabled" or "inline", got "on")",
            R"(rpmsgd.json: /processors/1/firmware: expected a file name relative to paths.firmware, got "/abs")",
            "rpmsgd.json: /limits/waits_per_client: expected an integer from 1 to 1024, got 0",
        }));
}

// ---- files and drop-ins ----------------------------------------------------------------------

TEST(ConfigDropins, ObjectsMergeKeyByKeyAndArraysAreReplaced) {
    TempDir dir;
    const std::string file = dir.file("rpmsgd.json");
    writeText(file, R"({
      "paths": {"sysfs": "/main/sys", "dev": "/main/dev"},
      "watch": {"mode": "poll", "poll_interval_ms": 500},
      "managers": {"users": ["alice"], "groups": ["wheel", "adm"]},
      "channels": [{"match": "a*"}, {"match": "b*"}]
    })");
    std::filesystem::create_directory(file + ".d");
    writeText(file + ".d/10-a.json", R"({
      "paths": {"dev": "/dropin/dev"},
      "watch": {"poll_interval_ms": 250},
      "managers": {"groups": ["staff"]},
      "channels": [{"match": "c*", "groups": ["rpmsg"]}]
    })");
    const LoadResult r = loadConfig(file, true);
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    EXPECT_EQ(r.files, (Errors{file, file + ".d/10-a.json"}));
    EXPECT_EQ(r.config.paths.sysfs, "/main/sys");
    EXPECT_EQ(r.config.paths.dev, "/dropin/dev");
    EXPECT_EQ(r.config.paths.state, "/var/lib/rpmsgd");
    EXPECT_EQ(r.config.watch.mode, WatchMode::Poll);
    EXPECT_EQ(r.config.watch.pollIntervalMs, 250u);
    EXPECT_EQ(r.config.managers.users, Errors{"alice"});
    EXPECT_EQ(r.config.managers.groups, Errors{"staff"});
    ASSERT_EQ(r.config.channels.size(), 1u);
    EXPECT_EQ(r.config.channels[0].match, "c*");
    EXPECT_EQ(r.config.channels[0].groups, Errors{"rpmsg"});
}

TEST(ConfigDropins, ReadInNameOrderAndOnlyJsonFiles) {
    TempDir dir;
    const std::string file = dir.file("rpmsgd.json");
    writeText(file, R"({"limits": {"coredumps_kept": 1}})");
    const std::string d = file + ".d/";
    std::filesystem::create_directory(d);
    writeText(d + "20-b.json", R"({"limits": {"coredumps_kept": 20}})");
    writeText(d + "10-a.json", R"({"limits": {"coredumps_kept": 10, "waits_per_client": 10}})");
    writeText(d + "30-c.json.bak", "not json");
    writeText(d + "README", "not json");
    writeText(d + ".hidden.json", "not json");
    writeText(d + ".json", "not json");
    std::filesystem::create_directory(d + "40-dir.json");
    const LoadResult r = loadConfig(file, true);
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    EXPECT_EQ(r.files, (Errors{file, d + "10-a.json", d + "20-b.json"}));
    EXPECT_EQ(r.config.limits.coredumpsKept, 20u);
    EXPECT_EQ(r.config.limits.waitsPerClient, 10u);
}

TEST(ConfigDropins, ErrorNamesTheDropinAsGiven) {
    TempDir dir;
    ChangeDir cd(dir.path());
    writeText("rpmsgd.json", R"({"processors": [{"match": "imx-rproc"}]})");
    std::filesystem::create_directory("rpmsgd.json.d");
    writeText("rpmsgd.json.d/10-m4.json", R"({"processors": [{"autostart": "yes"}]})");
    const LoadResult r = loadConfig("rpmsgd.json", true);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(
        r.errors,
        Errors{
            R"(rpmsgd.json.d/10-m4.json: /processors/0/autostart: expected true or false, got "yes")"});
}

TEST(ConfigDropins, EveryFileIsCheckedEvenWhereALaterOneReplacesTheValue) {
    TempDir dir;
    const std::string file = dir.file("rpmsgd.json");
    writeText(file, R"({"channels": [{"mach": "x"}], "watch": {"mode": "inotify"}})");
    std::filesystem::create_directory(file + ".d");
    writeText(file + ".d/10-a.json", R"({"channels": [], "watch": {"mode": "poll"}})");
    writeText(file + ".d/20-b.json", "{,}");
    const LoadResult r = loadConfig(file, true);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.errors,
              (Errors{file + ": /watch/mode: expected \"udev\" or \"poll\", got \"inotify\"",
                      file + ": /channels/0/mach: unknown key (allowed: match, processor, users, "
                             "groups)",
                      file + ".d/20-b.json: line 1, column 2: syntax error while parsing object "
                             "key - unexpected ','; expected string literal"}));
}

TEST(ConfigDropins, CrossKeyErrorNamesTheFileThatSetTheValue) {
    TempDir dir;
    const std::string file = dir.file("rpmsgd.json");
    writeText(file, R"({"limits": {"endpoints_total": 100}})");
    std::filesystem::create_directory(file + ".d");
    writeText(file + ".d/10-a.json", R"({"limits": {"endpoints_per_client": 200}})");
    LoadResult r = loadConfig(file, true);
    EXPECT_EQ(r.errors, Errors{file + ".d/10-a.json: /limits/endpoints_per_client: 200 exceeds "
                                      "endpoints_total (100)"});

    // The per-client value is the default: the file that lowered the total is named.
    writeText(file + ".d/10-a.json", R"({"limits": {"coredumps_kept": 1}})");
    writeText(file + ".d/20-b.json", R"({"limits": {"endpoints_total": 8}})");
    r = loadConfig(file, true);
    EXPECT_EQ(r.errors, Errors{file + ".d/20-b.json: /limits/endpoints_total: 8 is less than "
                                      "endpoints_per_client (32)"});

    // A later file replacing the whole object is the one named.
    writeText(file + ".d/20-b.json", R"({"limits": {"endpoints_per_client": 64}})");
    writeText(file + ".d/30-c.json", R"({"limits": {"endpoints_total": 100}})");
    writeText(file, R"({"limits": {"endpoints_per_client": 500, "endpoints_total": 1000}})");
    r = loadConfig(file, true);
    EXPECT_TRUE(r.ok) << testing::PrintToString(r.errors);
    EXPECT_EQ(r.config.limits.endpointsPerClient, 64u);
    EXPECT_EQ(r.config.limits.endpointsTotal, 100u);
}

TEST(ConfigDropins, CrossKeyErrorNamesAnEarlierFileWhenItSetTheOffendingKey) {
    TempDir dir;
    const std::string file = dir.file("rpmsgd.json");
    writeText(file, R"({"limits": {"endpoints_per_client": 10}})");
    std::filesystem::create_directory(file + ".d");
    writeText(file + ".d/10-a.json", R"({"limits": {"endpoints_total": 5}})");
    const LoadResult r = loadConfig(file, true);
    EXPECT_EQ(r.errors,
              Errors{file + ": /limits/endpoints_per_client: 10 exceeds endpoints_total (5)"});
}

TEST(ConfigDropins, UnreadableThingsAreErrors) {
    TempDir dir;
    const std::string file = dir.file("rpmsgd.json");
    std::filesystem::create_directory(file);
    LoadResult r = loadConfig(file, false);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.errors, Errors{file + ": cannot read: Is a directory"});

    const std::string other = dir.file("other.json");
    writeText(other, "{}");
    writeText(other + ".d", "");
    r = loadConfig(other, true);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.errors, Errors{other + ".d: not a directory"});

    const std::string third = dir.file("third.json");
    std::filesystem::create_directory(third + ".d");
    std::filesystem::create_symlink(dir.file("nowhere"), third + ".d/10-dangling.json");
    r = loadConfig(third, false);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.errors,
              Errors{third + ".d/10-dangling.json: cannot read: No such file or directory"});
}

TEST(ConfigExample, LoadsCleanlyAndShowsTheDefaults) {
    const LoadResult r = loadConfig(RPMSGD_CONFIG_EXAMPLE, true);
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    EXPECT_TRUE(r.warnings.empty());
    Config withoutExample = r.config;
    withoutExample.processors.clear();
    EXPECT_EQ(withoutExample, Config{});
    ASSERT_EQ(r.config.processors.size(), 1u);
    const ProcessorPolicy& p = r.config.processors[0];
    EXPECT_EQ(p.match, "example-cm4");
    EXPECT_EQ(p.firmware, "m4_app.elf");
    EXPECT_EQ(p.autostart, true);
    EXPECT_EQ(p.recovery, Recovery::Enabled);
    EXPECT_EQ(p.coredump, Coredump::Enabled);
    EXPECT_EQ(p.restart, RestartPolicy{});
}

// ---- matching --------------------------------------------------------------------------------

TEST(ConfigGlob, FnmatchWithoutPathnameOrPeriod) {
    EXPECT_TRUE(globMatch("*", ""));
    EXPECT_TRUE(globMatch("*", "rpmsg-tty"));
    EXPECT_TRUE(globMatch("*", "a/b"));
    EXPECT_TRUE(globMatch("*", ".hidden"));
    EXPECT_TRUE(globMatch("rpmsg-*", "rpmsg-client-sample"));
    EXPECT_FALSE(globMatch("rpmsg-*", "rpmsg"));
    EXPECT_TRUE(globMatch("remoteproc?", "remoteproc1"));
    EXPECT_FALSE(globMatch("remoteproc?", "remoteproc10"));
    EXPECT_TRUE(globMatch("remoteproc[0-3]", "remoteproc2"));
    EXPECT_FALSE(globMatch("remoteproc[!0-3]", "remoteproc2"));
    EXPECT_TRUE(globMatch("a\\*", "a*"));
    EXPECT_FALSE(globMatch("a\\*", "ab"));
    EXPECT_FALSE(globMatch("imx-rproc", "IMX-RPROC"));
}

TEST(ConfigMatch, FirstChannelRuleWinsAndProcessorGlobFitsIdOrName) {
    const LoadResult r = parseOne(R"({"channels": [
      {"match": "rpmsg-tty", "processor": "remoteproc1", "users": ["by-id"]},
      {"match": "rpmsg-tty", "processor": "imx-*", "users": ["by-name"]},
      {"match": "rpmsg-*", "users": ["any-rpmsg"]},
      {"match": "*", "users": ["fallback"]}
    ]})");
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    const Config& c = r.config;
    auto usersOf = [&](const std::string& ch, const std::string& id, const std::string& name) {
        const ChannelRule* rule = matchChannelRule(c, ch, id, name);
        return rule ? rule->users : Errors{"<none>"};
    };
    EXPECT_EQ(usersOf("rpmsg-tty", "remoteproc1", "stm32-m4"), Errors{"by-id"});
    EXPECT_EQ(usersOf("rpmsg-tty", "remoteproc0", "imx-rproc"), Errors{"by-name"});
    EXPECT_EQ(usersOf("rpmsg-tty", "remoteproc1", "imx-rproc"), Errors{"by-id"});
    EXPECT_EQ(usersOf("rpmsg-tty", "remoteproc0", "stm32-m4"), Errors{"any-rpmsg"});
    EXPECT_EQ(usersOf("echo", "virtio0", "virtio0"), Errors{"fallback"});

    const LoadResult narrow = parseOne(R"({"channels": [{"match": "a", "processor": "dsp"}]})");
    ASSERT_TRUE(narrow.ok);
    EXPECT_EQ(matchChannelRule(narrow.config, "b", "dsp", "dsp"), nullptr);
    EXPECT_EQ(matchChannelRule(narrow.config, "a", "m4", "m4"), nullptr);
    EXPECT_EQ(matchChannelRule(narrow.config, "a", "remoteproc0", "dsp"),
              &narrow.config.channels[0]);
}

TEST(ConfigMatch, DefaultRuleLetsGroupRpmsgOpenEverything) {
    const Config c;
    const ChannelRule* rule = matchChannelRule(c, "anything", "remoteproc7", "whatever");
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(rule->groups, Errors{"rpmsg"});
}

TEST(ConfigMatch, FirstProcessorPolicyWins) {
    const LoadResult r = parseOne(R"({"processors": [
      {"match": "remoteproc1", "firmware": "one.elf"},
      {"match": "imx-rproc", "firmware": "imx.elf", "autostart": true},
      {"match": "*", "coredump": "enabled"}
    ]})");
    ASSERT_TRUE(r.ok) << testing::PrintToString(r.errors);
    const Config& c = r.config;
    EXPECT_EQ(matchProcessorPolicy(c, "remoteproc1", "imx-rproc"), &c.processors[0]);
    EXPECT_EQ(matchProcessorPolicy(c, "remoteproc0", "imx-rproc"), &c.processors[1]);
    EXPECT_EQ(matchProcessorPolicy(c, "remoteproc2", "dsp"), &c.processors[2]);
    EXPECT_EQ(matchProcessorPolicy(Config{}, "remoteproc0", "imx-rproc"), nullptr);
}

// ---- identities ------------------------------------------------------------------------------

TEST(ConfigIdentity, ResolvesKnownNamesAndWarnsAboutUnknownOnes) {
    if (!getgrnam("nogroup")) {
        GTEST_SKIP() << "no group \"nogroup\" on this machine";
    }
    const gid_t nogroup = getgrnam("nogroup")->gr_gid;

    Config c;
    c.managers.users = {"root", "rpmsgd-test-no-such-user"};
    c.managers.groups = {"nogroup", "root", "nogroup"};
    c.channels.clear();
    ChannelRule first;
    first.groups = {"rpmsgd-test-no-such-group"};
    c.channels.push_back(first);
    ChannelRule second;
    second.users = {"root"};
    second.groups = {"nogroup"};
    c.channels.push_back(second);

    std::vector<std::string> warnings;
    const ResolvedIdentities ids = resolveIdentities(c, warnings);
    EXPECT_EQ(ids.managers.uids, std::vector<uid_t>{0});
    EXPECT_EQ(ids.managers.gids, (std::vector<gid_t>{nogroup, 0}));
    ASSERT_EQ(ids.channels.size(), 2u);
    EXPECT_TRUE(ids.channels[0].uids.empty());
    EXPECT_TRUE(ids.channels[0].gids.empty());
    EXPECT_EQ(ids.channels[1].uids, std::vector<uid_t>{0});
    EXPECT_EQ(ids.channels[1].gids, std::vector<gid_t>{nogroup});
    EXPECT_EQ(warnings,
              (Errors{R"(managers: unknown user "rpmsgd-test-no-such-user", ignoring)",
                      R"(channels/0: unknown group "rpmsgd-test-no-such-group", ignoring)"}));
}

TEST(ConfigIdentity, Admits) {
    ResolvedIds ids;
    ids.uids = {1000};
    ids.gids = {50, 60};
    const std::vector<gid_t> none;
    const std::vector<gid_t> groups{10, 60};
    EXPECT_TRUE(ids.admits(1000, none));
    EXPECT_FALSE(ids.admits(1001, none));
    EXPECT_TRUE(ids.admits(1001, groups));
    EXPECT_FALSE(ResolvedIds{}.admits(0, groups)); // root is the daemon's rule, not this one
}
