// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The daemon process: clean exit on SIGTERM, endpoints left by a killed instance, a bad config
// at startup.

#include "fixture.h"

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>

namespace itest {
namespace {

using Clock = std::chrono::steady_clock;

class Daemon : public DaemonTest {};

TEST_F(Daemon, SigtermExitsZeroWithinFiveSeconds) {
    const std::string echo = startCm4();
    Opened ep = root().open(echo);
    ASSERT_EQ(roundTrip(ep.fd.get(), "x"), "x");
    const auto t0 = Clock::now();
    const auto status = env().stopDaemon(5s);
    ASSERT_TRUE(status.has_value()) << "rpmsgd did not exit within 5 s of SIGTERM";
    EXPECT_TRUE(WIFEXITED(*status)) << *status;
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    EXPECT_LT(Clock::now() - t0, 5s);
    EXPECT_FALSE(env().nameHasOwner());
    // It ended its endpoints on the way out.
    EXPECT_EQ(sendMsg(ep.fd.get(), "gone"), EPIPE);
    EXPECT_TRUE(simtest::waitFor([&] { return simtest::eptdevNames(env().sim()).empty(); }, 2s));
}

TEST_F(Daemon, SigtermWhileAWaitIsPending) {
    SignalRecorder async;
    auto pending = async.waitForChannelAsync("never", "", 60000);
    async.sync();
    const auto status = env().stopDaemon(5s);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
    ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
    EXPECT_FALSE(pending.get().error.ok());
}

TEST_F(Daemon, StaleEndpointsOfAKilledInstanceAreDestroyedAtStartup) {
    const std::string echo = startCm4();
    std::string dev;
    {
        Opened ep = root().open(echo);
        dev = root().get<std::string>(ep.endpoint, EndpointIface, "Device");
        const auto name = simtest::readFile(env().mountPath("sys/class/rpmsg/" + dev + "/name"));
        ASSERT_EQ(name.data.rfind("rpmsgd-", 0), 0u) << name.data;
        env().killDaemon();
        ASSERT_FALSE(env().daemonAlive());
    } // the client closes its fd
    ASSERT_TRUE(existsInMount("dev/" + dev))
        << "precondition: the eptdev outlives the killed daemon";
    root_.reset();
    const std::string e = env().startDaemon();
    ASSERT_EQ(e, "");
    root_ = std::make_unique<Client>();
    EXPECT_TRUE(simtest::waitFor([&] { return !existsInMount("dev/" + dev); }, 2s))
        << dev << " left by the killed rpmsgd is still there";
    EXPECT_TRUE(simtest::eptdevNames(env().sim()).empty());
    // The new instance works as usual.
    const std::string again = root().waitForChannel("rpmsg-echo", "cm4", 5000);
    Opened ep2 = root().open(again);
    EXPECT_EQ(roundTrip(ep2.fd.get(), "new"), "new");
}

TEST_F(Daemon, EndpointsOfOthersAreLeftAlone) {
    // A kernel endpoint not made by rpmsgd (another program's) survives a daemon restart.
    const std::string echo = startCm4();
    const std::string ctrl = simProcessor()["ctrl"].get<std::string>();
    simtest::Fd ctrlFd(::open(env().mountPath("dev/" + ctrl).c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(ctrlFd.valid());
    ASSERT_EQ(simtest::createEpt(ctrlFd.get(), "other-app", 0xffffffffu, 1024), 0);
    const auto before = simtest::eptdevNames(env().sim());
    ASSERT_EQ(before.size(), 1u);
    root_.reset();
    ASSERT_TRUE(env().stopDaemon(5s).has_value());
    ASSERT_EQ(env().startDaemon(), "");
    root_ = std::make_unique<Client>();
    EXPECT_EQ(simtest::eptdevNames(env().sim()), before);
}

TEST(DaemonStartup, ABrokenConfigIsRefusedNamingTheFile) {
    if (auto reason = skipReason(); !reason.empty()) {
        GTEST_SKIP() << reason;
    }
    DaemonEnv env;
    EnvOptions options;
    options.startDaemon = false;
    ASSERT_EQ(env.start(options), "") << env.logs();
    nlohmann::json bad = env.config();
    bad["limits"]["endpoints_per_client"] = -1;
    env.writeConfig(bad);
    const std::string e = env.startDaemon(5s);
    EXPECT_NE(e.find("exited"), std::string::npos) << e;
    EXPECT_NE(e.find(env.configPath()), std::string::npos) << e;
    EXPECT_NE(e.find("/limits/endpoints_per_client"), std::string::npos) << e;
    EXPECT_FALSE(env.nameHasOwner());
}

} // namespace
} // namespace itest
