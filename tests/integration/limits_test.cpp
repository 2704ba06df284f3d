// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// No call path that can starve the daemon (issue 16): a caller's credentials are asked of the bus
// asynchronously, once per client, and the calls that arrive meanwhile wait for that one lookup;
// a client that leaves while it is identified is dropped cleanly; a client with
// limits.calls_per_client calls in flight gets LimitExceeded and nothing else changes.

#include "fixture.h"

#include <fstream>
#include <future>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace itest {
namespace {

// dbus-monitor on the test bus, recording every GetConnectionCredentials call.
class CredentialsMonitor {
public:
    explicit CredentialsMonitor(DaemonEnv& env) : log_(env.root() + "/monitor.log") {
        std::string error;
        simtest::SpawnOptions spawn;
        spawn.logPath = log_;
        monitor_ =
            simtest::spawnLogged({"dbus-monitor", "--address", env.busAddress(),
                                  "type='method_call',interface='org.freedesktop.DBus',member='"
                                  "GetConnectionCredentials'"},
                                 spawn, error);
        error_ = error;
    }
    ~CredentialsMonitor() {
        if (monitor_.pid > 0) {
            ::kill(monitor_.pid, SIGTERM);
            ::waitpid(monitor_.pid, nullptr, 0);
        }
    }
    CredentialsMonitor(const CredentialsMonitor&) = delete;
    CredentialsMonitor& operator=(const CredentialsMonitor&) = delete;

    /// @brief "" once the monitor sees calls (a lookup of @p marker made by the test), else why.
    std::string ready(Client& client, const std::string& marker) {
        if (monitor_.pid < 0) {
            return "dbus-monitor did not start: " + error_;
        }
        const bool seen = simtest::waitFor(
            [&] {
                auto bus = sdbus::createProxy(client.connection(), "org.freedesktop.DBus",
                                              "/org/freedesktop/DBus");
                std::map<std::string, sdbus::Variant> creds;
                bus->callMethod("GetConnectionCredentials")
                    .onInterface("org.freedesktop.DBus")
                    .withArguments(marker)
                    .storeResultsTo(creds);
                return lookupsOf(marker) > 0;
            },
            10s, 100ms);
        return seen ? "" : "dbus-monitor saw nothing: " + text();
    }

    /// @brief How many GetConnectionCredentials calls asked about @p sender so far.
    size_t lookupsOf(const std::string& sender) const {
        const std::string needle = "string \"" + sender + "\"";
        const std::string all = text();
        size_t n = 0;
        for (size_t at = all.find(needle); at != std::string::npos;
             at = all.find(needle, at + needle.size())) {
            ++n;
        }
        return n;
    }

    std::string text() const {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    std::string log_;
    std::string error_;
    simtest::Spawned monitor_;
};

// The test bus lets root monitor it (BecomeMonitor), for dbus-monitor.
class Credentials : public DaemonTest {
    void configure(EnvOptions& o) override {
        const std::string file = policyDir_.path() + "/monitor.conf";
        std::ofstream(file)
            << R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
</busconfig>
)";
        o.busPolicies.push_back(file);
    }

    simtest::TempDir policyDir_{"rpmsgd-monitor"};
};

TEST_F(Credentials, ConcurrentFirstCallsOfAClientShareOneAsynchronousLookup) {
    CredentialsMonitor monitor(env());
    ASSERT_EQ(monitor.ready(root(), root().uniqueName()), "");
    SignalRecorder client; // a new connection: rpmsgd has never seen it
    std::vector<std::shared_future<AsyncPath>> waits;
    for (int i = 0; i < 10; ++i) {
        waits.push_back(client.waitForChannelAsync("never-" + std::to_string(i), "", 300));
    }
    for (auto& w : waits) {
        ASSERT_EQ(w.wait_for(10s), std::future_status::ready);
        // Identified and authorised (everyone may wait), then timed out: none refused.
        EXPECT_DBUS_ERROR(w.get().error, err::Timeout);
    }
    EXPECT_EQ(monitor.lookupsOf(client.uniqueName()), 1u) << monitor.text();
    // Known now: later calls ask nothing.
    EXPECT_DBUS_ERROR(client.waitForChannelAsync("never-x", "", 100).get().error, err::Timeout);
    EXPECT_EQ(monitor.lookupsOf(client.uniqueName()), 1u) << monitor.text();
}

TEST_F(Credentials, GroupsFromTheBusDecideAsBefore) {
    // The credentials now come from GetConnectionCredentials: the primary group of a manager
    // (users, 100) and a stranger's lack of one must decide as they did.
    EXPECT_EQ(runAs(NobodyManager,
                    [](Client& c) {
                        c.setRecovery(c.processorPath("remoteproc0"), true);
                        return std::string("allowed");
                    }),
              "allowed");
    const std::string denied = runAs(NobodyStranger, [](Client& c) {
        c.setRecovery(c.processorPath("remoteproc0"), true);
        return std::string("allowed");
    });
    EXPECT_EQ(denied.rfind("error " + err::AccessDenied, 0), 0u) << denied;
    EXPECT_NE(denied.find("65534"), std::string::npos) << denied;
}

TEST_F(Credentials, ClientsLeavingWhileIdentifiedAreDroppedCleanly) {
    for (int i = 0; i < 20; ++i) {
        const std::string r = runAs(NobodyManager, [](Client& c) {
            auto proxy = c.proxy(RootPath);
            for (int k = 0; k < 3; ++k) {
                proxy->callMethodAsync("WaitForChannel")
                    .onInterface(ManagerIface)
                    .withArguments(std::string("never"), std::string(""), uint32_t{60000})
                    .uponReplyInvoke([](const sdbus::Error*, sdbus::ObjectPath) {});
            }
            return std::string("left"); // before any answer
        });
        ASSERT_EQ(r, "left");
    }
    // rpmsgd keeps serving, and a new client is identified as usual.
    EXPECT_TRUE(env().daemonAlive());
    EXPECT_TRUE(errorOf([&] { root().version(); }).ok());
    EXPECT_DBUS_ERROR(errorOf([&] { root().waitForChannel("never", "", 100); }), err::Timeout);
    EXPECT_EQ(runAs(NobodyManager,
                    [](Client& c) {
                        c.setRecovery(c.processorPath("remoteproc0"), true);
                        return std::string("allowed");
                    }),
              "allowed");
    EXPECT_TRUE(env().daemonAlive());
}

class CallsPerClient : public DaemonTest {
    void configure(EnvOptions& o) override {
        o.editConfig = [](nlohmann::json& c) {
            c["limits"]["calls_per_client"] = 3;
            c["limits"]["waits_per_client"] = 100;
        };
    }
};

TEST_F(CallsPerClient, BeyondTheQuotaIsLimitExceededAndNothingElseChanges) {
    SignalRecorder flood;
    auto a = flood.waitForChannelAsync("later-a", "", 20000);
    auto b = flood.waitForChannelAsync("later-b", "", 20000);
    auto c = flood.waitForChannelAsync("later-c", "", 20000);
    flood.sync();
    auto fourth = flood.waitForChannelAsync("later-d", "", 20000);
    ASSERT_EQ(fourth.wait_for(5s), std::future_status::ready);
    EXPECT_DBUS_ERROR(fourth.get().error, err::LimitExceeded);
    EXPECT_NE(fourth.get().error.message.find("3 calls in flight (limits.calls_per_client)"),
              std::string::npos)
        << fourth.get().error.str();
    // Others are served.
    EXPECT_FALSE(root().listProcessors().empty());
    EXPECT_DBUS_ERROR(errorOf([&] { root().waitForChannel("never", "", 100); }), err::Timeout);
    // The three pending waits are still pending, and answer as usual.
    EXPECT_EQ(a.wait_for(0s), std::future_status::timeout);
    EXPECT_EQ(b.wait_for(0s), std::future_status::timeout);
    EXPECT_EQ(c.wait_for(0s), std::future_status::timeout);
    startCm4();
    ctlOk({"announce", "cm4", "later-a", "1100"});
    ASSERT_EQ(a.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(a.get().error.ok()) << a.get().error.str();
    // One place is free again: one more call is served, the next refused.
    auto e = flood.waitForChannelAsync("later-e", "", 20000);
    auto f = flood.waitForChannelAsync("later-f", "", 20000);
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_DBUS_ERROR(f.get().error, err::LimitExceeded);
    EXPECT_EQ(e.wait_for(0s), std::future_status::timeout);
    ctlOk({"announce", "cm4", "later-e", "1101"});
    ASSERT_EQ(e.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(e.get().error.ok()) << e.get().error.str();
}

} // namespace
} // namespace itest
