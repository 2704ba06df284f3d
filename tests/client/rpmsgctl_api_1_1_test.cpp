// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl and the client library on API 1.1: the counters in status/list/channels (text and
// --json), the API version, `logs` (the buffer, -n, -f following TraceLines until the processor
// stops, bad options) and NotSupported's exit code.

#include "ctl_runner.h"
#include "fixture.h"
#include "rpmsgd/client.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include <gtest/gtest.h>

namespace ctltest {
namespace {

using itest::DaemonTest;
using itest::EnvOptions;
using nlohmann::json;

constexpr int Usage = 2;

class RpmsgctlApi11 : public DaemonTest {
protected:
    void configure(EnvOptions& o) override {
        o.firmware["trace_every_ms"] = 50;
        o.editConfig = [](nlohmann::json& c) {
            c["watch"]["trace_interval_ms"] = 100;
        };
    }
    Result ok(const std::vector<std::string>& args) {
        Result r = ctl(args);
        EXPECT_EQ(r.code, 0) << r.str();
        return r;
    }
};

TEST_F(RpmsgctlApi11, CountersInStatusListAndChannels) {
    startCm4();
    {
        rpmsgd::client::Client c;
        auto ep = c.openChannel("rpmsg-echo", "cm4");
        EXPECT_EQ(c.channelOpenCount("rpmsg-echo", "cm4"), 1u);
        const auto counters = c.processorCounters("cm4");
        EXPECT_EQ(counters.startCount, 1u);
        EXPECT_GT(counters.runningSince, 0u);
        EXPECT_EQ(c.apiVersion(), "1.1");
    }
    const json status = ok({"status", "cm4", "--json"}).json();
    EXPECT_EQ(status["start_count"], 1);
    EXPECT_GT(status["running_since_us"].get<uint64_t>(), 0u);
    bool sawEcho = false;
    for (const auto& c : status["channel_details"]) {
        if (c["name"] == "rpmsg-echo") {
            sawEcho = true;
            EXPECT_EQ(c["open_count"], 1) << c;
        }
    }
    EXPECT_TRUE(sawEcho) << status;
    const Result text = ok({"status", "cm4"});
    EXPECT_NE(text.out.find("Starts: 1"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("Up since: 20"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(" endpoints, 1 opens)"), std::string::npos) << text.out;
    EXPECT_EQ(ok({"status", "--json"}).json()["api_version"], "1.1");
    EXPECT_NE(ok({"status"}).out.find(", API 1.1"), std::string::npos);

    const json list = ok({"list", "--json"}).json();
    EXPECT_EQ(list[0]["start_count"], 1);
    EXPECT_EQ(list[1]["start_count"], 0);
    EXPECT_EQ(list[1]["running_since_us"], 0);
    EXPECT_NE(ok({"list"}).out.find("STARTS"), std::string::npos);
    const json chans = ok({"channels", "cm4", "--json"}).json();
    for (const auto& c : chans) {
        EXPECT_EQ(c["open_count"], c["name"] == "rpmsg-echo" ? 1 : 0) << c;
    }
    EXPECT_NE(ok({"channels"}).out.find("OPENS"), std::string::npos);
}

TEST_F(RpmsgctlApi11, LogsPrintsTheBufferAndTheLastNLines) {
    startCm4();
    ASSERT_TRUE(simtest::waitFor(
        [&] { return root().readTrace(cm4(), 0).find("trace line 3\n") != std::string::npos; },
        10s));
    const Result all = ok({"logs", "cm4"});
    EXPECT_EQ(all.out.rfind("boot ok\necho ready\ntrace line 1\ntrace line 2\n", 0), 0u) << all.out;
    const Result two = ok({"logs", "-n", "2", "cm4"});
    ASSERT_EQ(std::count(two.out.begin(), two.out.end(), '\n'), 2) << two.out;
    EXPECT_EQ(two.out.find("boot ok"), std::string::npos) << two.out;
    const Result none = ok({"logs", "--lines=0", "cm4"});
    EXPECT_EQ(none.out, "");
    const auto lines = ok({"logs", "-n", "1", "cm4", "--json"}).jsonLines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["processor"], "remoteproc0");
    EXPECT_EQ(lines[0]["trace"], 0);
    EXPECT_EQ(lines[0]["line"].get<std::string>().rfind("trace line ", 0), 0u);
}

TEST_F(RpmsgctlApi11, LogsFollowPrintsNewLinesOnceUntilTheProcessorStops) {
    startCm4();
    Background follow({rpmsgctlBinary(), "logs", "-f", "cm4"});
    std::vector<std::string> seen;
    ASSERT_TRUE(
        follow.readUntil([](const std::string& l) { return l == "trace line 30"; }, seen, 20s))
        << follow.errors();
    // Every line once, in order, across the buffer and the followed lines.
    int last = 0;
    for (const auto& l : seen) {
        if (l.rfind("trace line ", 0) == 0) {
            const int n = std::stoi(l.substr(11));
            EXPECT_EQ(n, last + 1) << "after line " << last << ": " << l;
            last = n;
        }
    }
    root().stop(cm4());
    // The processor stopped: logs -f ends by itself (end of output well before the timeout).
    std::vector<std::string> rest;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(follow.readUntil([](const std::string&) { return false; }, rest, 15s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "still following after the stop";
    EXPECT_EQ(follow.stop(SIGTERM, 5s), 0) << follow.errors();
}

TEST_F(RpmsgctlApi11, LogsRefusesBadArgumentsNamingThem) {
    const struct {
        std::vector<std::string> args;
        const char* says;
    } bad[] = {
        {{"logs"}, "PROC"},
        {{"logs", "-n", "x", "cm4"}, "--lines"},
        {{"logs", "-n", "-1", "cm4"}, "--lines"},
        {{"logs", "--trace", "abc", "cm4"}, "--trace"},
        {{"logs", "--follow=yes", "cm4"}, "--follow"},
        {{"logs", "--bogus", "cm4"}, "--bogus"},
        {{"logs", "cm4", "extra"}, "logs expects PROC, got 2 arguments"},
    };
    for (const auto& b : bad) {
        const Result r = ctl(b.args);
        EXPECT_EQ(r.code, Usage) << r.str();
        EXPECT_NE(r.err.find(b.says), std::string::npos) << r.str();
    }
    const Result missing = ctl({"logs", "nosuch"});
    EXPECT_EQ(missing.code, 3) << missing.str(); // NotFound
    const Result noBuffer = ctl({"logs", "--trace", "5", "cm4"});
    EXPECT_NE(noBuffer.code, 0) << noBuffer.str();
}

TEST(RpmsgctlApi11Help, NotSupportedHasItsExitCode) {
    const Result help = ctl({"--help"});
    EXPECT_NE(help.out.find("  14  not supported: the running kernel lacks what the call needs"),
              std::string::npos)
        << help.out;
}

} // namespace
} // namespace ctltest
