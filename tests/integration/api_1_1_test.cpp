// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// API 1.1 (docs/dbus-api.md "Additions in API version 1.1") on rpmsg-sim: Manager.ApiVersion,
// the counters (Processor.StartCount and RunningSince, Channel.OpenCount) with their
// PropertiesChanged, and the remote logs (Processor.TraceLines and the journal lines, following
// a firmware that writes "trace line N" every trace_every_ms into a ring that wraps).

#include "fixture.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <mutex>
#include <thread>

namespace itest {
namespace {

uint64_t realtimeMicros() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}

// ---- ApiVersion and counters -----------------------------------------------------------------

using Api11 = DaemonTest;

TEST_F(Api11, ApiVersionIsOnePointOne) {
    EXPECT_EQ(root().get<std::string>("/org/rpmsgd/Broker1", ManagerIface, "ApiVersion"), "1.1");
    EXPECT_EQ(root().version(), RPMSGD_PROJECT_VERSION) << "Version stays the daemon's";
}

TEST_F(Api11, StartCountAndRunningSinceFollowEveryBootTheDaemonSees) {
    const std::string p = cm4();
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "StartCount"), 0u);
    EXPECT_EQ(root().get<uint64_t>(p, ProcessorIface, "RunningSince"), 0u) << "offline";

    SignalRecorder rec;
    const uint64_t before = realtimeMicros();
    root().start(p);
    const uint64_t after = realtimeMicros();
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "StartCount"), 1u);
    const uint64_t since = root().get<uint64_t>(p, ProcessorIface, "RunningSince");
    EXPECT_GE(since, before);
    EXPECT_LE(since, after);
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.changes(p, "StartCount"); }))
        << rec.describe();
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.changes(p, "RunningSince"); }))
        << rec.describe();

    root().stop(p);
    EXPECT_EQ(root().get<uint64_t>(p, ProcessorIface, "RunningSince"), 0u) << "stopped";
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "StartCount"), 1u);

    root().restart(p); // offline: stop is a no-op, then a start
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "StartCount"), 2u);
    root().restart(p);
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "StartCount"), 3u);
    EXPECT_GT(root().get<uint64_t>(p, ProcessorIface, "RunningSince"), since);

    // A crash the kernel recovers is a boot too.
    root().waitForChannel("rpmsg-echo", "cm4", 5000);
    ctlOk({"crash", "cm4"});
    EXPECT_TRUE(simtest::waitFor(
        [&] { return root().get<uint32_t>(p, ProcessorIface, "StartCount") == 4u; }, 5s))
        << root().get<uint32_t>(p, ProcessorIface, "StartCount") << "\n"
        << env().daemonLog();
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "CrashCount"), 1u);
    EXPECT_NE(root().get<uint64_t>(p, ProcessorIface, "RunningSince"), 0u);
}

TEST_F(Api11, OpenCountCountsSuccessfulOpensOnly) {
    const std::string echo = startCm4();
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "OpenCount"), 0u);
    SignalRecorder rec;
    {
        Opened first = root().open(echo);
        root().close(first.endpoint);
    }
    Opened second = root().open(echo);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "OpenCount"), 2u);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 1u);
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) {
        return s.changes(echo, "OpenCount") && s.changed.count("OpenCount") &&
               s.changed.at("OpenCount").get<uint32_t>() == 2u;
    })) << rec.describe();
    // Refused: not counted.
    const std::string denied =
        runAs(NobodyStranger, [&](Client& c) { return errorOf([&] { c.open(echo); }).name; });
    EXPECT_EQ(denied, err::AccessDenied);
    EXPECT_EQ(errorOf([&] {
                  root().open(echo, {{"bogus", sdbus::Variant(true)}});
              }).name,
              err::InvalidArgument);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "OpenCount"), 2u);
}

// ---- remote logs -------------------------------------------------------------------------------

/// TraceLines of every processor, recorded on a connection of its own.
class TraceRecorder {
public:
    TraceRecorder() : conn_(sdbus::createSystemBusConnection()) {
        match_ = conn_->addMatch("type='signal',sender='org.rpmsgd.Broker1',"
                                 "interface='org.rpmsgd.Broker1.Processor',member='TraceLines'",
                                 [this](sdbus::Message& msg) {
                                     uint32_t index = 0;
                                     std::vector<std::string> lines;
                                     msg >> index >> lines;
                                     std::lock_guard lock(mutex_);
                                     ++signals_;
                                     for (auto& l : lines) {
                                         lines_.push_back(std::to_string(index) + ":" + l);
                                     }
                                 });
        conn_->enterEventLoopAsync();
    }
    ~TraceRecorder() { conn_->leaveEventLoop(); }
    std::vector<std::string> lines() {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    size_t signals() {
        std::lock_guard lock(mutex_);
        return signals_;
    }
    /// @brief Waits until a recorded line (as "INDEX:LINE") contains @p text.
    bool waitForLine(const std::string& text, std::chrono::milliseconds timeout = 10s) {
        return simtest::waitFor(
            [&] {
                for (const auto& l : lines()) {
                    if (l.find(text) != std::string::npos) {
                        return true;
                    }
                }
                return false;
            },
            timeout);
    }
    std::string dump() {
        std::string s;
        for (const auto& l : lines()) {
            s += l + "\n";
        }
        return s;
    }

private:
    std::unique_ptr<sdbus::IConnection> conn_;
    sdbus::Slot match_;
    std::mutex mutex_;
    std::vector<std::string> lines_;
    size_t signals_ = 0;
};

/// Checks that the counted lines come once each, in order; returns how many gap lines came.
/// With @p noGap, a line missing between two others fails too.
int checkCounted(const std::vector<std::string>& lines, bool noGap, int& last) {
    int gaps = 0;
    last = 0;
    for (const auto& l : lines) {
        if (l.find(" bytes of trace lost --") != std::string::npos) {
            EXPECT_EQ(l.rfind("0:-- ", 0), 0u) << l;
            ++gaps;
            continue;
        }
        if (l.rfind("0:trace line ", 0) != 0) {
            EXPECT_TRUE(l == "0:boot ok" || l == "0:echo ready") << "unexpected line '" << l << "'";
            continue;
        }
        const int n = std::stoi(l.substr(13));
        EXPECT_GT(n, last) << "line " << n << " repeated or out of order";
        if (noGap) {
            EXPECT_EQ(n, last + 1) << "line " << last + 1 << " lost";
        }
        last = n;
    }
    return gaps;
}

/// Firmware writing a line every @p EveryMs into a @p TraceLen-byte buffer, followed every
/// @p IntervalMs.
template <uint32_t EveryMs, uint32_t TraceLen, uint32_t IntervalMs>
class TraceFollowing : public DaemonTest {
protected:
    void configure(EnvOptions& o) override {
        o.firmware["trace_every_ms"] = EveryMs;
        o.firmware["image"] = {{"trace_len", TraceLen}};
        o.editConfig = [](nlohmann::json& c) {
            c["watch"]["trace_interval_ms"] = IntervalMs;
        };
    }
};

using TraceFollowingFast = TraceFollowing<20, 4096, 100>;
// ~16 bytes a line every 40 ms (400 B/s) into 256 bytes read every 50 ms (~20 bytes a read):
// the ring wraps every ~0.6 s and is always read in time.
using TraceFollowingWraps = TraceFollowing<40, 256, 50>;
// ~16 bytes every 5 ms (3 kB/s) into 256 bytes read once a second: lapped every read.
using TraceFollowingLaps = TraceFollowing<5, 256, 1000>;
using TraceFollowingOff = TraceFollowing<20, 4096, 0>;

TEST_F(TraceFollowingFast, NewLinesArriveAsTraceLinesAndInTheLog) {
    TraceRecorder rec;
    startCm4();
    ASSERT_TRUE(rec.waitForLine("0:trace line 20")) << rec.dump() << env().daemonLog();
    const auto lines = rec.lines();
    ASSERT_GE(lines.size(), 3u);
    EXPECT_EQ(lines[0], "0:boot ok") << "after a boot it saw, rpmsgd starts at the beginning";
    EXPECT_EQ(lines[1], "0:echo ready");
    int last = 0;
    EXPECT_EQ(checkCounted(lines, true, last), 0) << rec.dump();
    EXPECT_GE(last, 20);
    EXPECT_LT(rec.signals(), lines.size()) << "lines are batched per interval";
    // The same lines in the log (stderr here: no journal), with the processor and the buffer.
    EXPECT_TRUE(simtest::waitFor(
        [&] {
            return env().daemonLog().find("rpmsgd-remote: trace line 5 (RPMSGD_PROCESSOR=cm4 "
                                          "RPMSGD_PROCESSOR_ID=remoteproc0 RPMSGD_TRACE=0)") !=
                   std::string::npos;
        },
        5s))
        << env().daemonLog();
}

TEST_F(TraceFollowingFast, StoppingTheProcessorEndsFollowing) {
    TraceRecorder rec;
    const std::string p = cm4();
    startCm4();
    ASSERT_TRUE(rec.waitForLine("0:trace line 3")) << rec.dump();
    root().stop(p);
    std::this_thread::sleep_for(300ms); // a signal already on its way
    const size_t n = rec.signals();
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(rec.signals(), n) << rec.dump();
    // Started again: a new boot, followed from the start of its new buffer.
    root().start(p);
    ASSERT_TRUE(simtest::waitFor(
        [&] {
            const auto l = rec.lines();
            return std::count(l.begin(), l.end(), "0:trace line 1") == 2;
        },
        10s))
        << rec.dump();
}

TEST_F(TraceFollowingWraps, AWrappingRingGivesEveryLineOnce) {
    TraceRecorder rec;
    startCm4();
    ASSERT_TRUE(rec.waitForLine("0:trace line 60", 20s)) << rec.dump() << env().daemonLog();
    int last = 0;
    const int gaps = checkCounted(rec.lines(), true, last);
    EXPECT_EQ(gaps, 0) << rec.dump();
    // The buffer as read now is the ring: not the start of the log any more.
    const std::string buffer = root().readTrace(cm4(), 0);
    EXPECT_EQ(buffer.find("boot ok"), std::string::npos) << buffer;
}

TEST_F(TraceFollowingLaps, ALappedRingGivesAGapLineAndNoDuplicate) {
    TraceRecorder rec;
    startCm4();
    ASSERT_TRUE(rec.waitForLine("bytes of trace lost --", 10s)) << rec.dump();
    ASSERT_TRUE(simtest::waitFor([&] { return rec.signals() >= 4; }, 10s)) << rec.dump();
    int last = 0;
    const int gaps = checkCounted(rec.lines(), false, last);
    EXPECT_GE(gaps, 1);
    EXPECT_NE(rec.dump().find("0:-- 255 bytes of trace lost --"), std::string::npos)
        << "lapped between two reads: the ring's 255 bytes, at least\n"
        << rec.dump();
}

TEST_F(TraceFollowingOff, IntervalZeroSendsNothing) {
    TraceRecorder rec;
    startCm4();
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(rec.signals(), 0u) << rec.dump();
    EXPECT_EQ(env().daemonLog().find("rpmsgd-remote:"), std::string::npos);
    // The buffer is still there to read.
    EXPECT_NE(root().readTrace(cm4(), 0).find("trace line 1\n"), std::string::npos);
}

} // namespace
} // namespace itest
