// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl against the real rpmsgd, a private system-like bus and rpmsg-sim (the daemon
// integration suite's DaemonTest fixture): every verb, its --json output parsed and checked,
// processors by id and by kernel name, channel I/O as the unprivileged user nobody, and the
// exit code of every error class.

#include "ctl_runner.h"
#include "fixture.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ctltest {
namespace {

using itest::DaemonTest;
using itest::EnvOptions;
using nlohmann::json;
namespace fs = std::filesystem;

// Exit codes (cli/exit_codes.h, documented in rpmsgctl --help and the README).
constexpr int Usage = 2, NotFound = 3, AccessDenied = 4, InvalidArgument = 5, InvalidState = 6,
              InvalidFirmware = 7, LimitExceeded = 8, Timeout = 9, Unavailable = 10,
              KernelError = 11, NoDaemon = 12, IoError = 13;

class Rpmsgctl : public DaemonTest {
protected:
    // rpmsgctl as root must succeed; returns its result.
    Result ok(const std::vector<std::string>& args, const RunOptions& o = {}) {
        Result r = ctl(args, o);
        EXPECT_EQ(r.code, 0) << "rpmsgctl " << joined(args) << "\n" << r.str();
        return r;
    }
    // rpmsgctl must fail with @p code and one line on stderr.
    Result fails(int code, const std::vector<std::string>& args, const RunOptions& o = {}) {
        Result r = ctl(args, o);
        EXPECT_EQ(r.code, code) << "rpmsgctl " << joined(args) << "\n" << r.str();
        EXPECT_TRUE(r.oneErrorLine()) << "rpmsgctl " << joined(args) << "\n" << r.str();
        EXPECT_EQ(r.err.rfind("rpmsgctl: ", 0), 0u) << r.str();
        return r;
    }
    static std::string joined(const std::vector<std::string>& args) {
        std::string s;
        for (const auto& a : args) {
            s += a + " ";
        }
        return s;
    }
    json processorJson(const std::string& key) { return ok({"status", key, "--json"}).json(); }
    RunOptions asNobody(std::string input = {}) {
        RunOptions o;
        o.cred = &itest::NobodyChannelUser;
        o.input = std::move(input);
        return o;
    }
};

TEST_F(Rpmsgctl, ListAndStatusReportEveryProcessor) {
    const json list = ok({"list", "--json"}).json();
    ASSERT_TRUE(list.is_array()) << list;
    ASSERT_EQ(list.size(), 2u) << list;
    EXPECT_EQ(list[0]["id"], "remoteproc0");
    EXPECT_EQ(list[0]["name"], "cm4");
    EXPECT_EQ(list[0]["state"], "offline");
    EXPECT_EQ(list[0]["firmware"], "echo.elf");
    EXPECT_EQ(list[0]["recovery"], "enabled");
    EXPECT_EQ(list[0]["crash_count"], 0);
    EXPECT_EQ(list[0]["channels"], json::array());
    EXPECT_EQ(list[1]["id"], "remoteproc1");
    EXPECT_EQ(list[1]["name"], "dsp");

    const Result text = ok({"list"});
    EXPECT_EQ(text.out.rfind("ID", 0), 0u) << text.out;
    EXPECT_NE(text.out.find("remoteproc0  cm4"), std::string::npos) << text.out;
    EXPECT_EQ(text.out.find("\033["), std::string::npos) << "no colour without a terminal";
    EXPECT_EQ(ok({"list", "-q"}).out, "remoteproc0\nremoteproc1\n");

    const json status = ok({"status", "--json"}).json();
    EXPECT_EQ(status["daemon_version"], RPMSGD_PROJECT_VERSION);
    EXPECT_EQ(status["processors"].size(), 2u);
    EXPECT_EQ(status["channels"], json::array());
    const Result statusText = ok({"status"});
    EXPECT_NE(statusText.out.find("rpmsgd " RPMSGD_PROJECT_VERSION ": 2 processors (0 running)"),
              std::string::npos)
        << statusText.out;

    // One processor, by id and by kernel name.
    const json byId = processorJson("remoteproc1");
    const json byName = processorJson("dsp");
    EXPECT_EQ(byId, byName);
    EXPECT_EQ(byId["id"], "remoteproc1");
    EXPECT_EQ(byId["coredump"], "disabled");
    EXPECT_EQ(byId["channel_details"], json::array());
    const Result one = ok({"status", "cm4"});
    EXPECT_NE(one.out.find("remoteproc0 (cm4)"), std::string::npos) << one.out;
    EXPECT_NE(one.out.find("State: offline"), std::string::npos) << one.out;
}

TEST_F(Rpmsgctl, StartStopRestartByIdAndNameWithChannels) {
    ok({"start", "cm4"});
    EXPECT_EQ(processorJson("remoteproc0")["state"], "running");
    // start returns once the processor runs; its channels follow the remote's announcement.
    ok({"wait", "rpmsg-echo", "-p", "cm4", "--timeout", "10000"});
    ok({"-p", "cm4", "--timeout", "10000", "wait", "rpmsg-sink"}); // options before the verb
    ok({"wait", "rpmsg-sensor", "-p", "cm4", "--timeout", "10000"});

    const json chans = ok({"channels", "--json"}).json();
    ASSERT_TRUE(chans.is_array());
    std::set<std::string> names;
    for (const auto& c : chans) {
        names.insert(c["name"].get<std::string>());
        EXPECT_EQ(c["processor"], "remoteproc0") << c;
        EXPECT_EQ(c["mtu"], 496) << c;
        EXPECT_EQ(c["endpoints"], 0) << c;
    }
    EXPECT_EQ(names, (std::set<std::string>{"rpmsg-echo", "rpmsg-sensor", "rpmsg-sink"}));
    EXPECT_EQ(chans[0]["name"], "rpmsg-echo"); // sorted by address
    EXPECT_EQ(chans[0]["remote_address"], 1024);
    EXPECT_NE(chans[0]["device"].get<std::string>().find("rpmsg-echo"), std::string::npos);
    EXPECT_EQ(ok({"channels", "remoteproc1", "--json"}).json(), json::array());
    EXPECT_EQ(ok({"channels", "cm4", "-q"}).out, "rpmsg-echo\nrpmsg-sensor\nrpmsg-sink\n");
    const Result table = ok({"channels"});
    EXPECT_EQ(table.out.rfind("NAME", 0), 0u) << table.out;
    const json p = processorJson("cm4");
    EXPECT_EQ(p["channels"], json::array({"rpmsg-echo", "rpmsg-sensor", "rpmsg-sink"}));
    EXPECT_EQ(p["channel_details"].size(), 3u);

    ok({"start", "remoteproc0"}); // already running: success
    ok({"stop", "remoteproc0"});
    EXPECT_EQ(processorJson("cm4")["state"], "offline");
    ok({"stop", "cm4"}); // already offline: success
    ok({"restart", "cm4"});
    EXPECT_EQ(processorJson("cm4")["state"], "running");
    ok({"restart", "remoteproc0"});
    EXPECT_EQ(processorJson("cm4")["state"], "running");
}

TEST_F(Rpmsgctl, FirmwareLoadRecoveryCoredumpTrace) {
    EXPECT_EQ(ok({"firmware", "cm4"}).out, "echo.elf\n");
    EXPECT_EQ(ok({"firmware", "remoteproc0", "--json"}).json(),
              (json{{"processor", "remoteproc0"}, {"firmware", "echo.elf"}}));

    // load: a file outside the firmware directory, uploaded by rpmsgctl.
    ASSERT_EQ(env().sim().mkfw("built.elf", itest::echoFirmwareSpec()).exitCode, 0);
    const std::string upload = env().root() + "/upload.elf";
    fs::copy_file(env().firmwareDir() + "/built.elf", upload);
    // rpmsgd stores uploads in its own subdirectory of the firmware directory.
    EXPECT_EQ(ok({"load", "cm4", upload}).out, "rpmsgd/upload.elf\n");
    EXPECT_EQ(processorJson("cm4")["firmware"], "rpmsgd/upload.elf");
    EXPECT_TRUE(fs::exists(env().firmwareDir() + "/rpmsgd/upload.elf"));
    const json loaded =
        ok({"load", "remoteproc0", upload, "--name", "renamed.elf", "--json"}).json();
    EXPECT_EQ(loaded["firmware"], "rpmsgd/renamed.elf") << loaded;
    EXPECT_EQ(ok({"firmware", "cm4"}).out, "rpmsgd/renamed.elf\n");

    ok({"firmware", "cm4", "echo.elf"});
    EXPECT_EQ(processorJson("cm4")["firmware"], "echo.elf");

    ok({"recovery", "cm4", "off"});
    EXPECT_EQ(processorJson("cm4")["recovery"], "disabled");
    ok({"recovery", "remoteproc0", "on"});
    EXPECT_EQ(processorJson("cm4")["recovery"], "enabled");
    ok({"coredump", "cm4", "inline"});
    EXPECT_EQ(processorJson("cm4")["coredump"], "inline");
    ok({"coredump", "remoteproc0", "enabled"});
    EXPECT_EQ(processorJson("cm4")["coredump"], "enabled");

    ok({"start", "cm4"});
    // The remote writes its trace while it boots.
    Result trace;
    EXPECT_TRUE(simtest::waitFor(
        [&] {
            trace = ok({"trace", "cm4"});
            return trace.out.find("echo ready") != std::string::npos;
        },
        10s))
        << trace.str();
    EXPECT_NE(trace.out.find("boot ok"), std::string::npos) << trace.out;
    const json traceJson = ok({"trace", "remoteproc0", "0", "--json"}).json();
    EXPECT_EQ(traceJson["index"], 0);
    EXPECT_NE(traceJson["trace"].get<std::string>().find("echo ready"), std::string::npos);
}

TEST_F(Rpmsgctl, RecoverACrashedProcessor) {
    ok({"recovery", "cm4", "off"});
    ok({"start", "cm4"});
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(simtest::waitFor([&] { return processorJson("cm4")["state"] == "crashed"; }, 10s));
    const json p = processorJson("cm4");
    EXPECT_EQ(p["crash_count"], 1) << p;
    EXPECT_NE(p["last_error"], "") << p;
    const Result table = ok({"list"});
    EXPECT_NE(table.out.find("crashed"), std::string::npos) << table.out;
    ok({"recover", "remoteproc0"});
    ASSERT_TRUE(simtest::waitFor([&] { return processorJson("cm4")["state"] == "running"; }, 10s));
    ok({"wait", "rpmsg-echo", "-p", "cm4", "--timeout", "10000"});
}

TEST_F(Rpmsgctl, ChannelIoAsNobody) {
    startCm4();
    // open: stdin lines out, echoed messages in.
    const Result open = ok({"open", "rpmsg-echo", "-n", "2"}, asNobody("hello\nworld\n"));
    EXPECT_EQ(open.out, "hello\nworld\n");
    const Result hex = ok({"open", "rpmsg-echo", "--hex", "-n", "1"}, asNobody("68 69 00 ff\n"));
    EXPECT_EQ(hex.out, "68 69 00 ff\n");
    const Result jsonOpen = ok({"open", "rpmsg-echo", "-n", "1", "--json"}, asNobody("hi"));
    const auto lines = jsonOpen.jsonLines();
    ASSERT_EQ(lines.size(), 1u) << jsonOpen.str();
    EXPECT_EQ(lines[0], (json{{"size", 2}, {"hex", "68 69"}, {"text", "hi"}}));
    // Without -n, open ends once stdin has ended and the channel stays quiet.
    const Result sink = ok({"open", "rpmsg-sink", "--linger", "100"}, asNobody("to the sink\n"));
    EXPECT_EQ(sink.out, "");

    const Result reply = ok({"send", "rpmsg-echo", "ping me", "--reply"}, asNobody());
    EXPECT_EQ(reply.out, "ping me\n");
    const Result replyJson =
        ok({"send", "rpmsg-echo", "01:02", "--hex", "--reply", "--json"}, asNobody());
    EXPECT_EQ(replyJson.jsonLines().at(0), (json{{"size", 2}, {"hex", "01 02"}}));
    EXPECT_EQ(ok({"send", "rpmsg-sink", "fire and forget"}, asNobody()).out, "");

    const Result recv = ok({"recv", "rpmsg-sensor", "--send", "start", "-n", "3", "--json"},
                           asNobody()); // streams to its last sender
    const auto samples = recv.jsonLines();
    ASSERT_EQ(samples.size(), 3u) << recv.str();
    for (const auto& s : samples) {
        EXPECT_EQ(s["size"], 16) << s;
    }
    const Result recvHex = ok({"recv", "rpmsg-sensor", "--send", "00", "--hex"}, asNobody());
    EXPECT_EQ(recvHex.out.size(), 16u * 3u) << recvHex.out; // "xx " * 15 + "xx\n"

    const json ping =
        ok({"ping", "rpmsg-echo", "-c", "5", "-s", "32", "--json"}, asNobody()).json();
    EXPECT_EQ(ping["sent"], 5);
    EXPECT_EQ(ping["received"], 5);
    EXPECT_EQ(ping["size"], 32);
    EXPECT_EQ(ping["processor"], "remoteproc0");
    EXPECT_EQ(ping["rtt_ms"].size(), 5u);
    EXPECT_LE(ping["min_ms"].get<double>(), ping["avg_ms"].get<double>());
    EXPECT_LE(ping["avg_ms"].get<double>(), ping["max_ms"].get<double>());
    EXPECT_LE(ping["p99_ms"].get<double>(), ping["max_ms"].get<double>());
    EXPECT_GT(ping["min_ms"].get<double>(), 0.0);
    const Result pingText = ok({"ping", "rpmsg-echo", "-c", "3"}, asNobody());
    EXPECT_NE(pingText.out.find("seq=3 time="), std::string::npos) << pingText.out;
    EXPECT_NE(pingText.out.find("3 sent, 3 received, 0% loss"), std::string::npos) << pingText.out;
    EXPECT_NE(pingText.out.find("rtt min/avg/p99/max = "), std::string::npos) << pingText.out;

    const json waited = ok({"wait", "rpmsg-echo", "--json"}, asNobody()).json();
    EXPECT_EQ(waited["name"], "rpmsg-echo");
    EXPECT_EQ(waited["processor"], "remoteproc0");
    EXPECT_EQ(ok({"wait", "rpmsg-echo", "-p", "remoteproc0"}, asNobody()).out,
              "rpmsg-echo on remoteproc0 (address 1024, mtu 496)\n");
}

TEST_F(Rpmsgctl, WaitSeesAChannelThatAppearsLater) {
    Background wait({rpmsgctlBinary(), "wait", "rpmsg-echo", "--timeout", "20000", "--json"},
                    asNobody());
    ok({"start", "cm4"});
    const auto line = wait.readLine(20s);
    ASSERT_TRUE(line) << wait.errors();
    EXPECT_EQ(wait.stop(0), 0);
}

TEST_F(Rpmsgctl, PingNeedsAnEchoAndSendChecksTheMtu) {
    startCm4();
    // The sink never answers: every probe is lost, and that is a timeout.
    const Result lost =
        fails(Timeout, {"ping", "rpmsg-sink", "-c", "2", "--timeout", "50"}, asNobody());
    EXPECT_NE(lost.out.find("2 sent, 0 received, 100% loss"), std::string::npos) << lost.str();
    fails(Usage, {"ping", "rpmsg-echo", "-s", "497"}, asNobody());
    fails(InvalidArgument, {"send", "rpmsg-echo", std::string(497, 'x')}, asNobody());
    fails(Timeout, {"recv", "rpmsg-echo", "--timeout", "100"}, asNobody());
    fails(Timeout, {"send", "rpmsg-sink", "x", "--reply", "--timeout", "100"}, asNobody());
}

TEST_F(Rpmsgctl, MonitorPrintsEventsAsTheyHappen) {
    Background monitor({rpmsgctlBinary(), "monitor", "--json"});
    std::vector<std::string> seen;
    ASSERT_TRUE(monitor.readUntil(
        [](const std::string& l) { return l.find("\"Monitoring\"") != std::string::npos; }, seen))
        << monitor.errors();
    ok({"start", "cm4"});
    auto has = [](const char* event, const char* what) {
        return [=](const std::string& l) {
            const json j = json::parse(l);
            return j["event"] == event &&
                   (j.value("channel", "") == what ||
                    (j.value("property", "") == "State" && j.value("value", "") == what));
        };
    };
    EXPECT_TRUE(monitor.readUntil(has("ProcessorChanged", "running"), seen)) << seen.size();
    const auto added = monitor.readUntil(has("ChannelAdded", "rpmsg-echo"), seen);
    ASSERT_TRUE(added);
    EXPECT_EQ(json::parse(*added)["processor"], "remoteproc0");
    // Both follow a stop, in either order.
    const size_t mark = seen.size();
    ok({"stop", "cm4"});
    auto seenOrRead = [&](const std::function<bool(const std::string&)>& pred) {
        for (size_t i = mark; i < seen.size(); ++i) {
            if (pred(seen[i])) {
                return true;
            }
        }
        return monitor.readUntil(pred, seen).has_value();
    };
    EXPECT_TRUE(seenOrRead(has("ChannelRemoved", "rpmsg-echo")));
    EXPECT_TRUE(seenOrRead(has("ProcessorChanged", "offline")));
    ok({"recovery", "cm4", "off"});
    ok({"start", "cm4"});
    ctlOk({"crash", "cm4"});
    const auto crashed = monitor.readUntil(
        [](const std::string& l) { return json::parse(l)["event"] == "Crashed"; }, seen);
    ASSERT_TRUE(crashed);
    EXPECT_EQ(json::parse(*crashed)["crash_count"], 1);
    EXPECT_EQ(json::parse(*crashed)["processor"], "remoteproc0");
    env().stopDaemon();
    EXPECT_TRUE(monitor.readUntil(
        [](const std::string& l) { return json::parse(l)["event"] == "DaemonStopped"; }, seen));
    EXPECT_EQ(monitor.stop(SIGINT), 0) << monitor.errors();

    // Text mode, ended after N events.
    ASSERT_EQ(env().startDaemon(), "");
    Background text({rpmsgctlBinary(), "monitor", "-n", "1"});
    ASSERT_TRUE(text.readLine()) << text.errors();
    ok({"recover", "cm4"});
    const auto line = text.readLine();
    ASSERT_TRUE(line) << text.errors();
    EXPECT_NE(line->find(" remoteproc0"), std::string::npos) << *line;
    EXPECT_EQ(text.stop(0), 0);
}

TEST_F(Rpmsgctl, AddressOptionReachesAPrivateBus) {
    RunOptions o;
    o.env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=/nonexistent/bus.sock";
    fails(NoDaemon, {"list"}, o);
    const json list = ok({"--address", env().busAddress(), "list", "--json"}, o).json();
    EXPECT_EQ(list.size(), 2u);
    ok({"list", "--address=" + env().busAddress()}, o);
}

TEST_F(Rpmsgctl, EveryErrorClassHasItsExitCode) {
    // Usage.
    fails(Usage, {});
    fails(Usage, {"frobnicate"});
    fails(Usage, {"start"});
    fails(Usage, {"start", "a", "b"});
    fails(Usage, {"list", "--bogus"});
    fails(Usage, {"recovery", "cm4", "maybe"});
    fails(Usage, {"recv", "rpmsg-echo", "-n", "many"});
    fails(Usage, {"send", "rpmsg-echo", "zz", "--hex"});
    fails(Usage, {"trace", "cm4", "x"});
    // rpmsgd's errors.
    const Result nf = fails(NotFound, {"status", "nosuch"});
    EXPECT_NE(nf.err.find("nosuch"), std::string::npos) << nf.err;
    fails(NotFound, {"start", "nosuch"});
    fails(NotFound, {"trace", "cm4", "7"});
    fails(NotFound, {"firmware", "cm4", "missing.elf"});
    fails(AccessDenied, {"start", "cm4"}, asNobody()); // nogroup is no manager
    fails(InvalidArgument, {"coredump", "cm4", "sometimes"});
    fails(InvalidArgument, {"firmware", "cm4", "../escape.elf"});
    ok({"start", "cm4"});
    fails(InvalidState, {"firmware", "cm4", "echo.elf"});
    fails(InvalidState, {"recover", "cm4"});
    ok({"stop", "cm4"});
    const std::string junk = env().root() + "/junk.elf";
    std::ofstream(junk) << std::string(8000, 'j');
    fails(InvalidFirmware, {"load", "cm4", junk});
    fails(IoError, {"load", "cm4", env().root() + "/no-such-file.elf"});
    fails(Timeout, {"wait", "nosuch", "--timeout", "100"});
    fails(Timeout, {"open", "nosuch", "--timeout", "100"});
    // KernelError: the selected firmware file vanished before start.
    ASSERT_EQ(env().sim().mkfw("gone.elf", itest::echoFirmwareSpec()).exitCode, 0);
    ok({"firmware", "cm4", "gone.elf"});
    ASSERT_EQ(::unlink((env().firmwareDir() + "/gone.elf").c_str()), 0);
    const Result kernel = fails(KernelError, {"start", "cm4"});
    EXPECT_NE(kernel.err.find("ENOENT"), std::string::npos) << kernel.err;
    // Unavailable: an endpoint whose processor goes away.
    ok({"firmware", "cm4", "echo.elf"});
    ok({"start", "cm4"});
    Background open({rpmsgctlBinary(), "open", "rpmsg-echo", "-n", "1"}, asNobody());
    ASSERT_TRUE(simtest::waitFor(
        [&] {
            const json c = ok({"channels", "--json"}).json();
            return !c.empty() && c[0]["endpoints"] == 1;
        },
        10s));
    ok({"stop", "cm4"});
    EXPECT_EQ(open.stop(0), Unavailable) << open.errors();
    EXPECT_NE(open.errors().find("ended"), std::string::npos) << open.errors();
    // rpmsgd not running.
    env().stopDaemon();
    const Result gone = fails(NoDaemon, {"list"});
    EXPECT_NE(gone.err.find("rpmsgd is not running"), std::string::npos) << gone.err;
}

class RpmsgctlLimits : public Rpmsgctl {
    void configure(EnvOptions& o) override {
        o.editConfig = [](json& c) {
            c["limits"] = {{"firmware_max_bytes", 4096}};
        };
    }
};

TEST_F(RpmsgctlLimits, TooLargeAnUploadIsLimitExceeded) {
    const std::string big = env().root() + "/big.elf";
    std::ofstream(big) << std::string(10000, 'b');
    fails(LimitExceeded, {"load", "cm4", big});
}

TEST(RpmsgctlHelp, EveryVerbHasHelpAndTheExitCodesAreDocumented) {
    const Result main = ctl({"--help"});
    ASSERT_EQ(main.code, 0) << main.str();
    EXPECT_NE(main.out.find("Exit status:"), std::string::npos);
    for (const char* code : {"  12  rpmsgd unreachable", "   9  timeout", "   4  access denied"}) {
        EXPECT_NE(main.out.find(code), std::string::npos) << code;
    }
    const std::vector<std::string> verbs = {
        "status",   "list", "channels", "start",    "stop",    "restart",
        "firmware", "load", "recovery", "coredump", "recover", "trace",
        "open",     "send", "recv",     "ping",     "wait",    "monitor"};
    for (const auto& v : verbs) {
        EXPECT_NE(main.out.find("\n  " + v + " "), std::string::npos) << v;
        const Result h = ctl({v, "--help"});
        EXPECT_EQ(h.code, 0) << v << h.str();
        EXPECT_EQ(h.out.rfind("Usage: rpmsgctl " + v, 0), 0u) << h.out;
        EXPECT_EQ(ctl({"help", v}).out, h.out) << v;
    }
    EXPECT_EQ(ctl({"--version"}).out, "rpmsgctl " RPMSGD_PROJECT_VERSION "\n");
}

} // namespace
} // namespace ctltest

namespace ctltest {
namespace {

// Runs the bash completion for the words of @p line (the last one being completed) and returns
// its candidates, sorted.
std::vector<std::string> complete(const std::vector<std::string>& words) {
    std::string array;
    for (const auto& w : words) {
        array += " '" + w + "'";
    }
    const std::string script = "source '" RPMSGCTL_COMPLETION "' && COMP_WORDS=(" + array +
                               ") && COMP_CWORD=" + std::to_string(words.size() - 1) +
                               " && _rpmsgctl && printf '%s\\n' \"${COMPREPLY[@]}\"";
    RunOptions o;
    o.env["PATH"] = pathWithRpmsgctl();
    const Result r = run({"/bin/bash", "-c", script}, o);
    EXPECT_EQ(r.code, 0) << r.str();
    std::vector<std::string> out;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) {
        if (!l.empty()) {
            out.push_back(l);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

using Strings = std::vector<std::string>;

TEST_F(Rpmsgctl, BashCompletionAsksRpmsgdForProcessorsAndChannels) {
    EXPECT_EQ(complete({"rpmsgctl", "re"}), (Strings{"recover", "recovery", "recv", "restart"}));
    EXPECT_EQ(complete({"rpmsgctl", "start", ""}),
              (Strings{"cm4", "dsp", "remoteproc0", "remoteproc1"}));
    EXPECT_EQ(complete({"rpmsgctl", "coredump", "cm4", ""}),
              (Strings{"disabled", "enabled", "inline"}));
    EXPECT_EQ(complete({"rpmsgctl", "ping", "--s"}), (Strings{"--size"}));
    EXPECT_EQ(complete({"rpmsgctl", "open", "-p", "d"}), (Strings{"dsp"}));
    startCm4();
    EXPECT_EQ(complete({"rpmsgctl", "open", "rpmsg-s"}), (Strings{"rpmsg-sensor", "rpmsg-sink"}));
    EXPECT_EQ(complete({"rpmsgctl", "--address", env().busAddress(), "wait", "rpmsg-e"}),
              (Strings{"rpmsg-echo"}));
}

} // namespace
} // namespace ctltest

namespace ctltest {
namespace {

TEST_F(Rpmsgctl, ColourOnlyOnATerminalAndNeverWithNoColor) {
    if (::access("/usr/bin/script", X_OK) != 0) {
        GTEST_SKIP() << "script(1) is not installed (util-linux), no way to get a terminal";
    }
    ok({"start", "cm4"});
    // script(1) runs the command on a pseudo-terminal.
    auto onTerminal = [&](const std::string& args, const std::string& noColor) {
        RunOptions o;
        o.env["NO_COLOR"] = noColor.empty() ? std::nullopt : std::optional<std::string>(noColor);
        o.env["TERM"] = "xterm";
        const Result r =
            run({"/usr/bin/script", "-qec", rpmsgctlBinary() + " " + args, "/dev/null"}, o);
        EXPECT_EQ(r.code, 0) << r.str();
        return r.out;
    };
    const std::string coloured = onTerminal("list", "");
    EXPECT_NE(coloured.find("\033[32mrunning\033[0m"), std::string::npos) << coloured;
    EXPECT_EQ(onTerminal("list", "1").find("\033["), std::string::npos);
    EXPECT_EQ(onTerminal("list --no-color", "").find("\033["), std::string::npos);
    EXPECT_EQ(ok({"list"}).out.find("\033["), std::string::npos);
}

} // namespace
} // namespace ctltest

namespace ctltest {
namespace {

TEST_F(Rpmsgctl, AStreamWhoseReaderLeftEndsWithAnIoError) {
    startCm4();
    // head takes one line and leaves; the next line rpmsgctl writes fails with EPIPE.
    const Result r = run({"/bin/bash", "-c",
                          "'" + rpmsgctlBinary() +
                              "' recv rpmsg-sensor --send go -n 1000 | head -1; exit "
                              "${PIPESTATUS[0]}"});
    EXPECT_EQ(r.code, IoError) << r.str();
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.str();
    EXPECT_TRUE(r.oneErrorLine()) << r.str();
    EXPECT_NE(r.err.find("writing to stdout failed"), std::string::npos) << r.str();
}

} // namespace
} // namespace ctltest
