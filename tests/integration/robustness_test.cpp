// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Hostile or careless clients: garbage arguments, huge strings, clients that leave mid-call.

#include "fixture.h"

#include <thread>
#include <unistd.h>

namespace itest {
namespace {

class Robustness : public DaemonTest {
protected:
    void expectAlive() {
        EXPECT_TRUE(env().daemonAlive());
        const auto e = errorOf([&] { root().version(); });
        EXPECT_TRUE(e.ok()) << "rpmsgd no longer answers: " << e.str();
    }
};

Options manyUnknownOptions() {
    Options o;
    for (int i = 0; i < 100; ++i) {
        o["unknown_" + std::to_string(i)] = sdbus::Variant(static_cast<uint32_t>(i));
    }
    return o;
}

TEST_F(Robustness, HundredUnknownOptions) {
    const std::string echo = startCm4();
    const auto e = errorOf([&] { root().open(echo, manyUnknownOptions()); });
    EXPECT_DBUS_ERROR(e, err::InvalidArgument);
    EXPECT_LT(e.message.size(), 4096u) << "a message a person can read";
    const auto e2 =
        errorOf([&] { root().openEndpoint(cm4(), "hidden", 1027, manyUnknownOptions()); });
    EXPECT_DBUS_ERROR(e2, err::InvalidArgument);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 0u);
    EXPECT_TRUE(simtest::eptdevNames(env().sim()).empty());
    expectAlive();
}

TEST_F(Robustness, HugeStrings) {
    const std::string huge(100 * 1024, 'z');
    const auto e1 = errorOf([&] { root().getProcessor(huge); });
    EXPECT_DBUS_ERROR(e1, err::NotFound);
    const auto e2 = errorOf([&] { root().waitForChannel(huge, "", 200); });
    EXPECT_FALSE(e2.ok());
    EXPECT_EQ(e2.name.rfind(err::Prefix, 0), 0u) << "a clear error of rpmsgd's: " << e2.str();
    const auto e3 = errorOf([&] { root().waitForChannel("rpmsg-echo", huge, 200); });
    EXPECT_DBUS_ERROR(e3, err::NotFound);
    const auto e4 = errorOf([&] { root().setFirmware(cm4(), huge); });
    EXPECT_DBUS_ERROR(e4, err::InvalidArgument);
    const auto e5 = errorOf([&] { root().setCoredump(cm4(), huge); });
    EXPECT_DBUS_ERROR(e5, err::InvalidArgument);
    expectAlive();
    // Also from an unprivileged client.
    const std::string r = runAs(NobodyStranger, [&](Client& c) {
        const CallError e = errorOf([&] { c.getProcessor(huge); });
        return e.name;
    });
    EXPECT_EQ(r, err::NotFound);
    expectAlive();
}

TEST_F(Robustness, ClientLeavingDuringAWait) {
    // A child starts three waits and exits without waiting for the answers.
    const std::string r = runAs(NobodyStranger, [](Client& c) {
        auto proxy = c.proxy(RootPath);
        for (const char* name : {"late-svc", "never-a", "never-b"}) {
            proxy->callMethodAsync("WaitForChannel")
                .onInterface(ManagerIface)
                .withArguments(std::string(name), std::string(""), uint32_t{300})
                .uponReplyInvoke([](const sdbus::Error*, sdbus::ObjectPath) {});
        }
        // Messages of one connection are handled in order: after this, rpmsgd has the waits.
        c.proxy(RootPath)->callMethod("Ping").onInterface("org.freedesktop.DBus.Peer");
        return std::string("left");
    });
    ASSERT_EQ(r, "left");
    expectAlive();
    // The channel one of the gone waits wanted appears; the timeouts of the others pass.
    startCm4();
    ctlOk({"announce", "cm4", "late-svc", "1100"});
    std::this_thread::sleep_for(500ms); // past the 300 ms timeouts of the abandoned waits
    expectAlive();
    // Waits still work, immediate and pending.
    EXPECT_TRUE(errorOf([&] { root().waitForChannel("late-svc", "", 1000); }).ok());
    SignalRecorder async;
    auto pending = async.waitForChannelAsync("later-svc", "", 5000);
    async.sync();
    ctlOk({"announce", "cm4", "later-svc", "1101"});
    ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(pending.get().error.ok()) << pending.get().error.str();
    EXPECT_DBUS_ERROR(errorOf([&] { root().waitForChannel("never-c", "", 100); }), err::Timeout);
}

class RobustnessWaitLimit : public DaemonTest {
    void configure(EnvOptions& o) override {
        o.editConfig = [](nlohmann::json& c) {
            c["limits"]["waits_per_client"] = 2;
        };
    }
};

TEST_F(RobustnessWaitLimit, WaitsOfAGoneClientDoNotCountAgainstItsSuccessor) {
    // Many short-lived clients each fill their wait quota and leave: the daemon keeps serving
    // and a new client still gets its full quota.
    for (int i = 0; i < 5; ++i) {
        const std::string r = runAs(NobodyStranger, [](Client& c) {
            auto proxy = c.proxy(RootPath);
            for (const char* name : {"never-a", "never-b"}) {
                proxy->callMethodAsync("WaitForChannel")
                    .onInterface(ManagerIface)
                    .withArguments(std::string(name), std::string(""), uint32_t{60000})
                    .uponReplyInvoke([](const sdbus::Error*, sdbus::ObjectPath) {});
            }
            c.proxy(RootPath)->callMethod("Ping").onInterface("org.freedesktop.DBus.Peer");
            return std::string("left");
        });
        ASSERT_EQ(r, "left");
    }
    SignalRecorder async;
    auto w1 = async.waitForChannelAsync("late-svc", "", 10000);
    auto w2 = async.waitForChannelAsync("never-x", "", 300);
    async.sync();
    EXPECT_EQ(w1.wait_for(0s), std::future_status::timeout);
    ASSERT_EQ(w2.wait_for(5s), std::future_status::ready);
    EXPECT_DBUS_ERROR(w2.get().error, err::Timeout);
    startCm4();
    ctlOk({"announce", "cm4", "late-svc", "1100"});
    ASSERT_EQ(w1.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(w1.get().error.ok()) << w1.get().error.str();
    EXPECT_TRUE(env().daemonAlive());
}

TEST_F(Robustness, ClientLeavingRightAfterOpen) {
    const std::string echo = startCm4();
    for (int i = 0; i < 5; ++i) {
        const std::string r = runAs(NobodyChannelUser, [&](Client& c) {
            auto proxy = c.proxy(echo);
            proxy->callMethodAsync("Open")
                .onInterface(ChannelIface)
                .withArguments(Options{})
                .uponReplyInvoke(
                    [](const sdbus::Error*, sdbus::UnixFd, sdbus::ObjectPath, uint32_t) {});
            c.proxy(RootPath)->callMethod("Ping").onInterface("org.freedesktop.DBus.Peer");
            return std::string("left");
        });
        ASSERT_EQ(r, "left");
    }
    EXPECT_TRUE(simtest::waitFor(
        [&] { return root().get<uint32_t>(echo, ChannelIface, "Endpoints") == 0; }, 3s));
    EXPECT_TRUE(simtest::waitFor([&] { return simtest::eptdevNames(env().sim()).empty(); }, 3s));
    expectAlive();
}

} // namespace
} // namespace itest
