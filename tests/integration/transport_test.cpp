// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Transports without a remoteproc (docs/dbus-api.md, last section): a virtio-rpmsg device with no
// remoteproc parent — here rpmsg-sim's `"remoteproc": false` processor, laid out like a
// virtio-mmio device — is published as a Processor named after the transport, always
// `attached`; its lifecycle methods are InvalidState; channels, Open, OpenEndpoint and
// endpoints work as on any processor; the transport going away ends its endpoints.

#include "fixture.h"

#include <fcntl.h>
#include <unistd.h>

namespace itest {
namespace {

class Transport : public DaemonTest {
    void configure(EnvOptions& o) override {
        // vhost0 registers at mount and takes virtio0; cm4 is offline.
        o.simConfig["processors"] = nlohmann::json::array(
            {{{"name", "cm4"}, {"firmware", "echo.elf"}},
             {{"name", "vhost0"}, {"firmware", "echo.elf"}, {"remoteproc", false}}});
    }

protected:
    /// @brief The transport's processor path, once the daemon has published it.
    std::string transport() {
        std::string path;
        simtest::waitFor(
            [&] { return errorOf([&] { path = root().getProcessor("virtio0"); }).ok(); }, 5s);
        return path;
    }
};

TEST_F(Transport, IsAProcessorNamedAfterTheTransportAndAttached) {
    const std::string t = transport();
    ASSERT_FALSE(t.empty()) << "virtio0 was never published";
    EXPECT_EQ(root().get<std::string>(t, ProcessorIface, "Id"), "virtio0");
    EXPECT_EQ(root().get<std::string>(t, ProcessorIface, "Name"), "virtio0");
    EXPECT_EQ(root().get<std::string>(t, ProcessorIface, "State"), "attached");
    bool listed = false;
    for (const auto& row : root().listProcessors()) {
        if (row.id == "virtio0") {
            listed = true;
            EXPECT_EQ(row.state, "attached");
            EXPECT_EQ(row.path, t);
        }
    }
    EXPECT_TRUE(listed);
    // The remoteproc next to it is unaffected.
    EXPECT_EQ(root().get<std::string>(cm4(), ProcessorIface, "State"), "offline");
}

TEST_F(Transport, ChannelsArePublishedAndOpenWorks) {
    const std::string t = transport();
    ASSERT_FALSE(t.empty());
    const std::string echo = root().waitForChannel("rpmsg-echo", "virtio0", 5000);
    EXPECT_EQ(std::string(root().get<sdbus::ObjectPath>(echo, ChannelIface, "Processor")), t);
    EXPECT_EQ(root().get<std::string>(echo, ChannelIface, "Device"), "virtio0.rpmsg-echo.-1.1024");
    Opened ep = root().open(echo);
    EXPECT_EQ(roundTrip(ep.fd.get(), "over the transport"), "over the transport");
    // An unprivileged client allowed by the channel rule, too.
    const std::string reply = runAs(NobodyChannelUser, [&](Client& c) {
        Opened mine = c.open(echo);
        return roundTrip(mine.fd.get(), "nobody here");
    });
    EXPECT_EQ(reply, "nobody here");
    // A raw endpoint to the service that does not announce itself.
    Opened raw = root().openEndpoint(t, "hidden", 1027);
    EXPECT_EQ(roundTrip(raw.fd.get(), "raw"), "raw");
    EXPECT_EQ(std::string(root().get<sdbus::ObjectPath>(raw.endpoint, EndpointIface, "Processor")),
              t);
}

TEST_F(Transport, LifecycleMethodsAreInvalidStateNamingTheReason) {
    const std::string t = transport();
    ASSERT_FALSE(t.empty());
    const std::vector<std::pair<std::string, std::function<void()>>> calls = {
        {"Start",
         [&] {
             root().start(t);
         }},
        {"Stop",
         [&] {
             root().stop(t);
         }},
        {"Restart",
         [&] {
             root().restart(t);
         }},
        {"SetFirmware",
         [&] {
             root().setFirmware(t, "echo.elf");
         }},
        {"LoadFirmware",
         [&] {
             simtest::Fd f(::open((env().firmwareDir() + "/echo.elf").c_str(), O_RDONLY));
             root().loadFirmware(t, f.get(), "copy.elf");
         }},
        {"Recover",
         [&] {
             root().recover(t);
         }},
        {"SetRecovery",
         [&] {
             root().setRecovery(t, false);
         }},
        {"SetCoredump",
         [&] {
             root().setCoredump(t, "enabled");
         }},
        {"ReadTrace",
         [&] {
             root().readTrace(t, 0);
         }},
    };
    for (const auto& [name, call] : calls) {
        const auto e = errorOf(call);
        EXPECT_EQ(e.name, err::InvalidState) << name << ": " << e.str();
        EXPECT_NE(e.message.find("no remoteproc"), std::string::npos) << name << ": " << e.message;
        EXPECT_NE(e.message.find("virtio0"), std::string::npos) << name << ": " << e.message;
    }
    // Nothing changed, and the firmware directory got no copy.
    EXPECT_EQ(root().get<std::string>(t, ProcessorIface, "State"), "attached");
    EXPECT_NE(::access((env().firmwareDir() + "/copy.elf").c_str(), F_OK), 0);
}

TEST_F(Transport, RemovalEndsItsEndpointsAndRemovesTheObjects) {
    const std::string t = transport();
    ASSERT_FALSE(t.empty());
    const std::string echo = root().waitForChannel("rpmsg-echo", "virtio0", 5000);
    Opened ep = root().open(echo);
    ASSERT_EQ(roundTrip(ep.fd.get(), "before"), "before");
    SignalRecorder rec;
    ctlOk({"remove-processor", "vhost0"});
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(ep.endpoint); }))
        << rec.describe();
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(echo); })) << rec.describe();
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(t); })) << rec.describe();
    EXPECT_EQ(sendMsg(ep.fd.get(), "after"), EPIPE);
    EXPECT_DBUS_ERROR(errorOf([&] { root().getProcessor("virtio0"); }), err::NotFound);
    EXPECT_TRUE(simProcessor("vhost0").is_null());
    // The daemon is fine and cm4 still works.
    const std::string cm4Echo = startCm4();
    Opened again = root().open(cm4Echo);
    EXPECT_EQ(roundTrip(again.fd.get(), "still here"), "still here");
}

} // namespace
} // namespace itest
