// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// org.rpmsgd.Broker1.Manager: Version, List*, GetProcessor, WaitForChannel, Reload (and SIGHUP).

#include "fixture.h"

#include <algorithm>
#include <csignal>
#include <thread>

namespace itest {
namespace {

using Clock = std::chrono::steady_clock;

class Manager : public DaemonTest {};

TEST_F(Manager, VersionIsTheProjectVersion) {
    std::string v;
    ASSERT_TRUE(errorOf([&] { v = root().version(); }).ok());
    EXPECT_EQ(v, RPMSGD_PROJECT_VERSION);
}

TEST_F(Manager, ListProcessorsGivesIdNameStateAndPath) {
    const auto rows = root().listProcessors();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].id, "remoteproc0");
    EXPECT_EQ(rows[0].name, "cm4");
    EXPECT_EQ(rows[0].state, "offline");
    EXPECT_EQ(rows[1].id, "remoteproc1");
    EXPECT_EQ(rows[1].name, "dsp");
    EXPECT_EQ(rows[1].state, "offline");
    for (const auto& r : rows) {
        EXPECT_EQ(r.path.rfind("/org/rpmsgd/Broker1/processor/", 0), 0u) << r.path;
        EXPECT_EQ(root().get<std::string>(r.path, ProcessorIface, "Id"), r.id);
        EXPECT_EQ(root().get<std::string>(r.path, ProcessorIface, "Name"), r.name);
    }
    EXPECT_NE(rows[0].path, rows[1].path);
}

TEST_F(Manager, ListProcessorsFollowsTheState) {
    startCm4();
    const auto rows = root().listProcessors();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].state, "running");
    EXPECT_EQ(rows[1].state, "offline");
}

TEST_F(Manager, ListChannelsAfterStart) {
    EXPECT_TRUE(root().listChannels().empty());
    startCm4();
    // rpmsg-sensor and rpmsg-sink are announced with rpmsg-echo; "hidden" is not announced.
    ASSERT_TRUE(simtest::waitFor([&] { return root().listChannels().size() >= 3; }, 5s));
    auto rows = root().listChannels();
    std::sort(rows.begin(), rows.end(),
              [](const ChannelRow& a, const ChannelRow& b) { return a.address < b.address; });
    ASSERT_EQ(rows.size(), 3u);
    const std::vector<std::pair<std::string, uint32_t>> want = {
        {"rpmsg-echo", 1024}, {"rpmsg-sensor", 1025}, {"rpmsg-sink", 1026}};
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(rows[i].name, want[i].first);
        EXPECT_EQ(rows[i].processor, "remoteproc0");
        EXPECT_EQ(rows[i].address, want[i].second);
        EXPECT_EQ(root().get<std::string>(rows[i].path, ChannelIface, "Name"), want[i].first);
    }
}

TEST_F(Manager, GetProcessorByIdAndByKernelName) {
    const std::string byId = root().getProcessor("remoteproc1");
    const std::string byName = root().getProcessor("dsp");
    EXPECT_EQ(byId, byName);
    EXPECT_EQ(root().get<std::string>(byId, ProcessorIface, "Id"), "remoteproc1");
    EXPECT_NE(root().getProcessor("cm4"), byId);
}

TEST_F(Manager, GetProcessorUnknownKeyIsNotFound) {
    const auto e = errorOf([&] { root().getProcessor("no-such-core"); });
    EXPECT_DBUS_ERROR(e, err::NotFound);
    EXPECT_NE(e.message.find("no-such-core"), std::string::npos) << e.message;
}

TEST_F(Manager, WaitForChannelReturnsAtOnceForAnExistingChannel) {
    const std::string echo = startCm4();
    ASSERT_FALSE(echo.empty());
    const auto t0 = Clock::now();
    std::string path;
    ASSERT_TRUE(errorOf([&] { path = root().waitForChannel("rpmsg-echo", "", 10000); }).ok());
    EXPECT_LT(Clock::now() - t0, 1s);
    EXPECT_EQ(path, echo);
    // By processor id and by kernel name too.
    EXPECT_EQ(root().waitForChannel("rpmsg-echo", "remoteproc0", 10000), echo);
    EXPECT_EQ(root().waitForChannel("rpmsg-echo", "cm4", 10000), echo);
}

TEST_F(Manager, WaitForChannelWaitsForALaterAnnouncement) {
    startCm4();
    SignalRecorder async;
    auto pending = async.waitForChannelAsync("late-svc", "cm4", 10000);
    async.sync(); // rpmsgd has the wait now
    ASSERT_EQ(pending.wait_for(0s), std::future_status::timeout)
        << "WaitForChannel answered before the channel existed: " << pending.get().error.str()
        << " " << pending.get().path;
    ctlOk({"announce", "cm4", "late-svc", "1100"});
    ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
    const AsyncPath r = pending.get();
    ASSERT_TRUE(r.error.ok()) << r.error.str();
    EXPECT_EQ(root().get<std::string>(r.path, ChannelIface, "Name"), "late-svc");
    EXPECT_EQ(root().get<uint32_t>(r.path, ChannelIface, "RemoteAddress"), 1100u);
}

TEST_F(Manager, WaitForChannelTimesOut) {
    const auto t0 = Clock::now();
    const auto e = errorOf([&] { root().waitForChannel("never-announced", "", 300); });
    const auto took = Clock::now() - t0;
    EXPECT_DBUS_ERROR(e, err::Timeout);
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 5s);
    EXPECT_NE(e.message.find("never-announced"), std::string::npos) << e.message;
}

TEST_F(Manager, WaitForChannelEmptyNameIsInvalidArgument) {
    EXPECT_DBUS_ERROR(errorOf([&] { root().waitForChannel("", "", 100); }), err::InvalidArgument);
}

TEST_F(Manager, WaitForChannelUnknownProcessorIsNotFound) {
    EXPECT_DBUS_ERROR(errorOf([&] { root().waitForChannel("rpmsg-echo", "no-such-core", 100); }),
                      err::NotFound);
}

TEST_F(Manager, WaitForChannelDoesNotBlockTheDaemon) {
    SignalRecorder async;
    auto pending = async.waitForChannelAsync("late-svc", "", 20000);
    async.sync();
    const auto t0 = Clock::now();
    std::vector<ProcessorRow> rows;
    ASSERT_TRUE(errorOf([&] { rows = root().listProcessors(); }).ok());
    EXPECT_LT(Clock::now() - t0, 1s);
    EXPECT_EQ(rows.size(), 2u);
    EXPECT_EQ(pending.wait_for(0s), std::future_status::timeout);
    // And it still answers when the channel comes.
    startCm4();
    ctlOk({"announce", "cm4", "late-svc", "1100"});
    ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(pending.get().error.ok()) << pending.get().error.str();
}

class ManagerWaitLimit : public DaemonTest {
    void configure(EnvOptions& o) override {
        o.editConfig = [](nlohmann::json& c) {
            c["limits"]["waits_per_client"] = 2;
        };
    }
};

TEST_F(ManagerWaitLimit, ThirdPendingWaitOfOneClientIsLimitExceeded) {
    SignalRecorder async;
    auto w1 = async.waitForChannelAsync("never-1", "", 10000);
    auto w2 = async.waitForChannelAsync("never-2", "", 10000);
    auto w3 = async.waitForChannelAsync("never-3", "", 10000);
    ASSERT_EQ(w3.wait_for(5s), std::future_status::ready);
    EXPECT_DBUS_ERROR(w3.get().error, err::LimitExceeded);
    EXPECT_EQ(w1.wait_for(0s), std::future_status::timeout);
    EXPECT_EQ(w2.wait_for(0s), std::future_status::timeout);
    // The limit is per client: another connection may still wait.
    EXPECT_DBUS_ERROR(errorOf([&] { root().waitForChannel("never-4", "", 100); }), err::Timeout);
}

TEST_F(Manager, ReloadAsRootSucceeds) {
    EXPECT_TRUE(errorOf([&] { root().reload(); }).ok());
    EXPECT_EQ(root().listProcessors().size(), 2u);
}

TEST_F(Manager, ReloadAsNobodyIsAccessDenied) {
    for (const Cred& who : {NobodyChannelUser, NobodyManager}) {
        const std::string r = runAs(who, [](Client& c) {
            c.reload();
            return std::string("ok");
        });
        EXPECT_EQ(r.rfind("error " + err::AccessDenied, 0), 0u) << who.describe() << ": " << r;
    }
}

// A config that no longer lets nogroup open channels (so the effect of a reload shows).
nlohmann::json withoutNogroup(nlohmann::json c) {
    c["channels"] = {{{"match", "*"}, {"processor", "*"}, {"groups", {"users"}}}};
    return c;
}

std::string nobodyOpens(const std::string& channel) {
    return runAs(NobodyChannelUser, [&](Client& c) {
        Opened o = c.open(channel);
        return std::string("opened ") + roundTrip(o.fd.get(), "hi");
    });
}

TEST_F(Manager, ReloadAppliesTheNewRules) {
    const std::string echo = startCm4();
    ASSERT_EQ(nobodyOpens(echo), "opened hi");
    env().writeConfig(withoutNogroup(env().config()));
    ASSERT_TRUE(errorOf([&] { root().reload(); }).ok());
    EXPECT_EQ(nobodyOpens(echo).rfind("error " + err::AccessDenied, 0), 0u);
}

TEST_F(Manager, ReloadWithABrokenConfigKeepsTheOldOne) {
    const std::string echo = startCm4();
    nlohmann::json broken = withoutNogroup(env().config());
    broken["watch"]["poll_interval_ms"] = "fast";
    env().writeConfig(broken);
    const auto e = errorOf([&] { root().reload(); });
    EXPECT_DBUS_ERROR(e, err::InvalidArgument);
    EXPECT_NE(e.message.find(env().configPath()), std::string::npos)
        << "the message must name the file: " << e.message;
    EXPECT_NE(e.message.find("/watch/poll_interval_ms"), std::string::npos)
        << "the message must name the JSON path: " << e.message;
    // Still working, with the old rules (nogroup may open).
    EXPECT_TRUE(env().daemonAlive());
    EXPECT_EQ(root().listProcessors().size(), 2u);
    EXPECT_EQ(nobodyOpens(echo), "opened hi");
    // A syntax error is refused the same way.
    env().writeConfigText("{ \"watch\": { \"mode\": \"poll\", }\n");
    const auto e2 = errorOf([&] { root().reload(); });
    EXPECT_DBUS_ERROR(e2, err::InvalidArgument);
    EXPECT_NE(e2.message.find(env().configPath()), std::string::npos) << e2.message;
    EXPECT_EQ(nobodyOpens(echo), "opened hi");
}

TEST_F(Manager, ReloadKeepsEndpointsTheRulesStillAllow) {
    const std::string echo = startCm4();
    // nobody (allowed through its group nogroup) holds an endpoint across a reload of the very
    // same config.
    Child holder(NobodyChannelUser, [&](ChildIo& io) {
        Client c;
        Opened o = c.open(echo);
        io.send(o.endpoint);
        io.recv(); // reload done
        io.send(roundTrip(o.fd.get(), "still"));
        io.recv(); // stay on the bus until the parent has looked
        return 0;
    });
    const auto ep = holder.readLine();
    ASSERT_TRUE(ep && ep->rfind("/", 0) == 0) << ep.value_or("<nothing>");
    ASSERT_TRUE(errorOf([&] { root().reload(); }).ok());
    holder.writeLine("go");
    // Regression: Registry::setPolicy once re-checked owners as Caller{owner, uid, {}}, without
    // their groups, so any Reload ended every endpoint a group rule allowed.
    EXPECT_EQ(holder.readLine().value_or("<nothing>"), "still")
        << "an endpoint the unchanged rules allow must survive Reload";
    EXPECT_TRUE(objectExists(*ep, EndpointIface));
    holder.writeLine("bye");
}

TEST_F(Manager, SighupReloads) {
    const std::string echo = startCm4();
    ASSERT_EQ(nobodyOpens(echo), "opened hi");
    env().writeConfig(withoutNogroup(env().config()));
    env().signalDaemon(SIGHUP);
    std::string last;
    EXPECT_TRUE(simtest::waitFor(
        [&] {
            last = nobodyOpens(echo);
            return last.rfind("error " + err::AccessDenied, 0) == 0;
        },
        5s, 50ms))
        << "after SIGHUP nobody(nogroup) still gets: " << last;
    EXPECT_TRUE(env().daemonAlive());
}

} // namespace
} // namespace itest
