// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl's shell completion, driven as the shells drive it, against the real rpmsgd, a private
// bus and rpmsg-sim (the DaemonTest fixture): bash with the script alone and after Debian's
// bash_completion (words split at ':' and '=' as readline splits them), and zsh at a prompt on
// a pseudo-terminal with the completion system loaded. Processors, channels and firmware images
// come from the live system; verbs and options from rpmsgctl's verb table.

#include "ctl_runner.h"
#include "fixture.h"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace ctltest {
namespace {

using itest::DaemonTest;
namespace fs = std::filesystem;
using Set = std::set<std::string>;

enum class Shell { Bash, BashCompletion, Zsh };

const char* shellName(Shell s) {
    switch (s) {
    case Shell::Bash:
        return "Bash";
    case Shell::BashCompletion:
        return "BashCompletion";
    case Shell::Zsh:
        return "Zsh";
    }
    return "Unknown";
}

void PrintTo(Shell s, std::ostream* os) {
    *os << shellName(s);
}

constexpr const char* BashCompletionLibrary = "/usr/share/bash-completion/bash_completion";

// What one completion offered: the candidates, and those offered without a space after them
// (zsh only: bash tells readline through compopt, which only works inside real completion).
struct Offered {
    Set values;
    Set unfinished;
    std::string log; // for failure messages
};

class Completion : public DaemonTest, public ::testing::WithParamInterface<Shell> {
protected:
    void SetUp() override {
        DaemonTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        if (GetParam() == Shell::Zsh && ::access("/usr/bin/zsh", X_OK) != 0) {
            GTEST_SKIP() << "zsh is not installed (scripts/deps.sh installs it)";
        }
        if (GetParam() == Shell::BashCompletion && ::access(BashCompletionLibrary, R_OK) != 0) {
            GTEST_SKIP() << "bash-completion is not installed (scripts/deps.sh installs it)";
        }
    }

    // Completes the last of @p words (words[0] is "rpmsgctl") in the shell under test, in
    // directory @p dir (default: the test's root).
    Offered complete(const std::vector<std::string>& words, RunOptions o = {},
                     std::string dir = {}) {
        if (dir.empty()) {
            dir = env().root();
        }
        o.env["PATH"] = pathWithRpmsgctl(o.cred != nullptr);
        if (o.env.count("RPMSGD_CONFIG") == 0) {
            o.env["RPMSGD_CONFIG"] = env().configPath(); // where rpmsgd's firmware is
        }
        std::vector<std::string> argv;
        if (GetParam() == Shell::Zsh) {
            std::string line;
            for (const auto& w : words) {
                line += (line.empty() ? "" : " ") + w;
            }
            argv = {"/usr/bin/zsh", "-f", COMPLETE_ZSH_DRIVER, RPMSGCTL_ZSH_COMPLETION, dir, line};
        } else {
            argv = {"/bin/bash", COMPLETE_BASH_DRIVER, RPMSGCTL_COMPLETION,
                    GetParam() == Shell::Bash ? "plain" : "bash-completion", dir};
            argv.insert(argv.end(), words.begin(), words.end());
        }
        const Result r = run(argv, o);
        EXPECT_EQ(r.code, 0) << r.str();
        EXPECT_EQ(r.err, "") << r.str();
        Offered offered;
        offered.log = r.str();
        std::istringstream in(r.out);
        for (std::string l; std::getline(in, l);) {
            if (GetParam() != Shell::Zsh) {
                offered.values.insert(l);
            } else if (l.rfind("MATCH ", 0) == 0) {
                offered.values.insert(l.substr(6));
            } else if (l.rfind("MATCH-NOSPACE ", 0) == 0) {
                offered.values.insert(l.substr(14));
                offered.unfinished.insert(l.substr(14));
            }
        }
        return offered;
    }

    Set values(const std::vector<std::string>& words, const RunOptions& o = {}) {
        return complete(words, o).values;
    }

    // An ELF image (the fixture's echo firmware) at @p path.
    void writeImage(const std::string& path) {
        fs::create_directories(fs::path(path).parent_path());
        fs::copy_file(env().firmwareDir() + "/echo.elf", path,
                      fs::copy_options::overwrite_existing);
    }
};

const Set globalOptions = {"--address", "--json", "--no-color", "--help", "-h", "--version"};

Set with(Set a, const Set& b) {
    a.insert(b.begin(), b.end());
    return a;
}

TEST_P(Completion, VerbsAndTheirOptionsComeFromTheVerbTable) {
    EXPECT_EQ(values({"rpmsgctl", ""}),
              (Set{"status",  "list",     "channels", "start",   "stop",  "restart", "firmware",
                   "load",    "recovery", "coredump", "recover", "trace", "logs",    "open",
                   "console", "send",     "recv",     "ping",    "wait",  "monitor", "help"}));
    EXPECT_EQ(values({"rpmsgctl", "re"}), (Set{"recover", "recovery", "recv", "restart"}));
    EXPECT_EQ(values({"rpmsgctl", "help", "re"}), (Set{"recover", "recovery", "recv", "restart"}));
    EXPECT_EQ(values({"rpmsgctl", "--json", "mo"}), (Set{"monitor"})); // after a global option
    EXPECT_EQ(values({"rpmsgctl", "-"}), globalOptions);
    EXPECT_EQ(values({"rpmsgctl", "recv", "rpmsg-echo", "-"}),
              with(globalOptions, {"--processor", "-p", "--hex", "--count", "-n", "--send", "-s",
                                   "--timeout", "-t"}));
    EXPECT_EQ(values({"rpmsgctl", "ping", "--s"}), (Set{"--size"}));
    EXPECT_EQ(values({"rpmsgctl", "logs", "cm4", "-"}),
              with(globalOptions, {"--follow", "-f", "--lines", "-n", "--trace"}));
    EXPECT_EQ(values({"rpmsgctl", "load", "--"}),
              (Set{"--name", "--address", "--json", "--no-color", "--help", "--version"}));
    // start prints nothing, so there is no --json to offer.
    EXPECT_EQ(values({"rpmsgctl", "start", "--"}),
              (Set{"--address", "--no-color", "--help", "--version"}));
    // Free text and numbers: nothing to offer (and no file names either).
    EXPECT_EQ(values({"rpmsgctl", "ping", "rpmsg-echo", "--count", ""}), Set{});
    EXPECT_EQ(values({"rpmsgctl", "send", "rpmsg-echo", ""}), Set{});
    EXPECT_EQ(values({"rpmsgctl", "list", ""}), Set{});
    EXPECT_EQ(values({"rpmsgctl", "frobnicate", ""}), Set{});
}

TEST_P(Completion, ProcessorsByIdAndNameFromRpmsgd) {
    const Set all = {"cm4", "dsp", "remoteproc0", "remoteproc1"};
    for (const char* verb : {"status", "channels", "start", "stop", "restart", "firmware", "load",
                             "recovery", "coredump", "recover", "trace", "logs"}) {
        EXPECT_EQ(values({"rpmsgctl", verb, ""}), all) << verb;
    }
    EXPECT_EQ(values({"rpmsgctl", "start", "remote"}), (Set{"remoteproc0", "remoteproc1"}));
    EXPECT_EQ(values({"rpmsgctl", "open", "-p", "d"}), (Set{"dsp"}));
    EXPECT_EQ(values({"rpmsgctl", "-p", ""}), all); // a verb's option before the verb
    // An inline value: readline (with bash_completion) replaces only what follows the '='.
    EXPECT_EQ(values({"rpmsgctl", "wait", "--processor=c"}),
              (Set{GetParam() == Shell::BashCompletion ? "cm4" : "--processor=cm4"}));
    // A processor's second argument is not a processor.
    EXPECT_EQ(values({"rpmsgctl", "trace", "cm4", ""}), Set{});
    EXPECT_EQ(values({"rpmsgctl", "start", "cm4", ""}), Set{});
}

TEST_P(Completion, ChannelsFromRpmsgdOfTheProcessorGiven) {
    EXPECT_EQ(values({"rpmsgctl", "open", ""}), Set{}) << "no processor runs yet";
    startCm4();
    ASSERT_EQ(ctl({"wait", "rpmsg-sink", "--timeout", "10000"}).code, 0);
    ASSERT_EQ(ctl({"wait", "rpmsg-sensor", "--timeout", "10000"}).code, 0);
    const Set all = {"rpmsg-echo", "rpmsg-sensor", "rpmsg-sink"};
    for (const char* verb : {"open", "console", "send", "recv", "ping", "wait"}) {
        EXPECT_EQ(values({"rpmsgctl", verb, ""}), all) << verb;
    }
    EXPECT_EQ(values({"rpmsgctl", "send", "rpmsg-s"}), (Set{"rpmsg-sensor", "rpmsg-sink"}));
    EXPECT_EQ(values({"rpmsgctl", "-p", "cm4", "ping", ""}), all);
    EXPECT_EQ(values({"rpmsgctl", "recv", "--processor", "dsp", ""}), Set{});
    EXPECT_EQ(values({"rpmsgctl", "recv", "-p", "nosuch", ""}), Set{});
}

TEST_P(Completion, FirmwareImagesOfRpmsgdsFirmwareDirectory) {
    const std::string fw = env().firmwareDir();
    writeImage(env().root() + "/upload.elf");
    ASSERT_EQ(ctl({"load", "cm4", env().root() + "/upload.elf"}).code, 0); // rpmsgd/upload.elf
    std::ofstream(fw + "/notes.txt") << "not an image\n";
    writeImage(fw + "/.hidden.elf");
    fs::create_directories(fw + "/m4/extra");
    writeImage(fw + "/m4/app.elf");

    const Offered top = complete({"rpmsgctl", "firmware", "cm4", ""});
    EXPECT_EQ(top.values, (Set{"echo.elf", "m4/", "rpmsgd/"})) << top.log;
    if (GetParam() == Shell::Zsh) {
        EXPECT_EQ(top.unfinished, (Set{"m4/", "rpmsgd/"})) << top.log;
    }
    EXPECT_EQ(values({"rpmsgctl", "firmware", "remoteproc0", "e"}), (Set{"echo.elf"}));
    EXPECT_EQ(values({"rpmsgctl", "firmware", "cm4", "rpmsgd/"}), (Set{"rpmsgd/upload.elf"}));
    EXPECT_EQ(values({"rpmsgctl", "firmware", "cm4", "m4/"}), (Set{"m4/app.elf", "m4/extra/"}));
    EXPECT_EQ(values({"rpmsgctl", "firmware", "cm4", "."}), (Set{".hidden.elf"}));
    EXPECT_EQ(values({"rpmsgctl", "firmware", "cm4", "../"}), Set{}) << "names rpmsgd refuses";
    // What completion offers, rpmsgd takes.
    EXPECT_EQ(ctl({"firmware", "cm4", "m4/app.elf"}).code, 0);

    // The directory is paths.firmware of the configuration, drop-ins included.
    const std::string config = env().root() + "/other.json";
    std::ofstream(config) << R"({"paths": {"firmware": ")" << env().root() << R"(/fw-a"}})";
    writeImage(env().root() + "/fw-a/a.elf");
    RunOptions other;
    other.env["RPMSGD_CONFIG"] = config;
    EXPECT_EQ(values({"rpmsgctl", "firmware", "cm4", ""}, other), (Set{"a.elf"}));
    fs::create_directories(config + ".d");
    std::ofstream(config + ".d/10-board.json")
        << R"({"paths": {"firmware": ")" << env().root() << R"(/fw-b"}})";
    writeImage(env().root() + "/fw-b/b.elf");
    EXPECT_EQ(values({"rpmsgctl", "firmware", "cm4", ""}, other), (Set{"b.elf"}));
}

TEST_P(Completion, LoadCompletesLocalFiles) {
    const std::string dir = env().root() + "/work";
    fs::create_directories(dir + "/images");
    writeImage(dir + "/upload.elf");
    writeImage(dir + "/unrelated.elf");
    EXPECT_EQ(complete({"rpmsgctl", "load", "cm4", "up"}, {}, dir).values, (Set{"upload.elf"}));
    EXPECT_EQ(complete({"rpmsgctl", "load", "cm4", "i"}, {}, dir).values, (Set{"images"}));
}

TEST_P(Completion, RecoveryAndCoredumpWords) {
    EXPECT_EQ(values({"rpmsgctl", "recovery", "cm4", ""}),
              (Set{"on", "off", "enabled", "disabled"}));
    EXPECT_EQ(values({"rpmsgctl", "coredump", "remoteproc1", ""}),
              (Set{"disabled", "enabled", "inline"}));
    EXPECT_EQ(values({"rpmsgctl", "coredump", "dsp", "in"}), (Set{"inline"}));
    // Every word offered is one rpmsgctl and rpmsgd take.
    for (const auto& w : values({"rpmsgctl", "recovery", "cm4", ""})) {
        EXPECT_EQ(ctl({"recovery", "cm4", w}).code, 0) << w;
    }
    for (const auto& w : values({"rpmsgctl", "coredump", "cm4", ""})) {
        EXPECT_EQ(ctl({"coredump", "cm4", w}).code, 0) << w;
    }
}

TEST_P(Completion, TheAddressOfTheLineAndNoDaemon) {
    RunOptions elsewhere;
    elsewhere.env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=/nonexistent/bus.sock";
    EXPECT_EQ(values({"rpmsgctl", "start", ""}, elsewhere), Set{});
    EXPECT_EQ(values({"rpmsgctl", "--address", env().busAddress(), "start", "c"}, elsewhere),
              (Set{"cm4"}));
    EXPECT_EQ(values({"rpmsgctl", "status", "--address=" + env().busAddress(), "d"}, elsewhere),
              (Set{"dsp"}));
    const Offered address = complete({"rpmsgctl", "--address", "un"});
    EXPECT_EQ(address.values, (Set{"unix:path="})) << address.log;
    if (GetParam() == Shell::Zsh) {
        EXPECT_EQ(address.unfinished, (Set{"unix:path="}));
    }
    // rpmsgd gone: nothing to offer, nothing printed, and the shell goes on.
    env().stopDaemon();
    EXPECT_EQ(values({"rpmsgctl", "start", ""}), Set{});
    EXPECT_EQ(values({"rpmsgctl", "st"}), (Set{"start", "status", "stop"}));
}

INSTANTIATE_TEST_SUITE_P(Shells, Completion,
                         ::testing::Values(Shell::Bash, Shell::BashCompletion, Shell::Zsh),
                         [](const ::testing::TestParamInfo<Shell>& info) {
                             return std::string(shellName(info.param));
                         });

} // namespace
} // namespace ctltest
