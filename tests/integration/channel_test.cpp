// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// org.rpmsgd.Broker1.Channel (properties, Open and its options, who may open) and
// Processor.OpenEndpoint (raw endpoints).

#include "fixture.h"

#include <fcntl.h>
#include <unistd.h>

namespace itest {
namespace {

class Channel : public DaemonTest {};

TEST_F(Channel, Properties) {
    const std::string echo = startCm4();
    ASSERT_FALSE(echo.empty());
    EXPECT_EQ(root().get<std::string>(echo, ChannelIface, "Name"), "rpmsg-echo");
    EXPECT_EQ(std::string(root().get<sdbus::ObjectPath>(echo, ChannelIface, "Processor")), cm4());
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "RemoteAddress"), 1024u);
    EXPECT_EQ(root().get<std::string>(echo, ChannelIface, "Device"), "virtio0.rpmsg-echo.-1.1024");
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Mtu"), 496u);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 0u);
    Opened a = root().open(echo);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 1u);
    Opened b = root().open(echo);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 2u);
    root().close(a.endpoint);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 1u);
    const auto all = root().getAll(echo, ChannelIface);
    for (const char* name : {"Name", "Processor", "RemoteAddress", "Device", "Mtu", "Endpoints"}) {
        EXPECT_TRUE(all.count(name)) << "GetAll lacks " << name;
    }
}

TEST_F(Channel, OpenGivesAWorkingEchoFd) {
    const std::string echo = startCm4();
    Opened ep = root().open(echo);
    ASSERT_TRUE(ep.fd.valid());
    EXPECT_EQ(ep.mtu, 496u);
    EXPECT_EQ(ep.endpoint.rfind("/org/rpmsgd/Broker1/endpoint/", 0), 0u) << ep.endpoint;
    EXPECT_EQ(::fcntl(ep.fd.get(), F_GETFL) & O_NONBLOCK, 0);
    const std::string small = "0123456789abcdef";
    EXPECT_EQ(roundTrip(ep.fd.get(), small), small);
    std::string full(496, 'x');
    for (size_t i = 0; i < full.size(); ++i) {
        full[i] = static_cast<char>('a' + i % 26);
    }
    EXPECT_EQ(roundTrip(ep.fd.get(), full), full);
    EXPECT_EQ(sendMsg(ep.fd.get(), std::string(497, 'y')), EMSGSIZE);
    // Still usable after the refused write.
    EXPECT_EQ(roundTrip(ep.fd.get(), "ok"), "ok");
}

TEST_F(Channel, OneReadIsOneMessage) {
    const std::string echo = startCm4();
    Opened ep = root().open(echo);
    ASSERT_EQ(sendMsg(ep.fd.get(), "first"), 0);
    ASSERT_EQ(sendMsg(ep.fd.get(), "second"), 0);
    ASSERT_EQ(sendMsg(ep.fd.get(), "third"), 0);
    EXPECT_EQ(recvMsg(ep.fd.get()).second, "first");
    EXPECT_EQ(recvMsg(ep.fd.get()).second, "second");
    EXPECT_EQ(recvMsg(ep.fd.get()).second, "third");
}

TEST_F(Channel, OpenNonblock) {
    const std::string echo = startCm4();
    Opened ep = root().open(echo, {{"nonblock", sdbus::Variant(true)}});
    EXPECT_NE(::fcntl(ep.fd.get(), F_GETFL) & O_NONBLOCK, 0);
    char buf[512];
    errno = 0;
    EXPECT_EQ(::read(ep.fd.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EAGAIN) << errnoName(errno);
    EXPECT_EQ(roundTrip(ep.fd.get(), "nb"), "nb");
    Opened blocking = root().open(echo, {{"nonblock", sdbus::Variant(false)}});
    EXPECT_EQ(::fcntl(blocking.fd.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(Channel, OpenWithLocalAddress) {
    const std::string echo = startCm4();
    Opened ep = root().open(echo, {{"local_address", sdbus::Variant(uint32_t{2000})}});
    const std::string dev = root().get<std::string>(ep.endpoint, EndpointIface, "Device");
    ASSERT_FALSE(dev.empty());
    const auto src = simtest::readFile(env().mountPath("sys/class/rpmsg/" + dev + "/src"));
    ASSERT_EQ(src.err, 0) << dev;
    EXPECT_EQ(src.data, "2000\n");
    EXPECT_EQ(roundTrip(ep.fd.get(), "from 2000"), "from 2000");
    // A second endpoint cannot have the same address.
    const auto e = errorOf([&] {
        root().open(echo, {{"local_address", sdbus::Variant(uint32_t{2000})}});
    });
    EXPECT_FALSE(e.ok());
    EXPECT_EQ(e.name.rfind(err::Prefix, 0), 0u) << e.str();
}

TEST_F(Channel, OpenUnknownOptionIsInvalidArgument) {
    const std::string echo = startCm4();
    const auto e = errorOf([&] { root().open(echo, {{"bogus", sdbus::Variant(true)}}); });
    EXPECT_DBUS_ERROR(e, err::InvalidArgument);
    EXPECT_NE(e.message.find("bogus"), std::string::npos) << e.message;
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 0u);
}

TEST_F(Channel, OpenWrongOptionTypeIsInvalidArgument) {
    const std::string echo = startCm4();
    EXPECT_DBUS_ERROR(errorOf([&] {
                          root().open(echo, {{"nonblock", sdbus::Variant(std::string("yes"))}});
                      }),
                      err::InvalidArgument);
    EXPECT_DBUS_ERROR(errorOf([&] {
                          root().open(echo, {{"local_address", sdbus::Variant(int32_t{2000})}});
                      }),
                      err::InvalidArgument);
    EXPECT_DBUS_ERROR(errorOf([&] {
                          root().open(echo, {{"nonblock", sdbus::Variant(uint32_t{1})}});
                      }),
                      err::InvalidArgument);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 0u);
    EXPECT_TRUE(simtest::eptdevNames(env().sim()).empty());
}

TEST_F(Channel, TwoClientsHaveTheirOwnEndpoints) {
    const std::string echo = startCm4();
    Client other;
    Opened a = root().open(echo);
    Opened b = other.open(echo);
    EXPECT_NE(a.endpoint, b.endpoint);
    const std::string da = root().get<std::string>(a.endpoint, EndpointIface, "Device");
    const std::string db = root().get<std::string>(b.endpoint, EndpointIface, "Device");
    EXPECT_NE(da, db);
    // Interleaved: each gets its own echo only.
    ASSERT_EQ(sendMsg(a.fd.get(), "for a"), 0);
    ASSERT_EQ(sendMsg(b.fd.get(), "for b"), 0);
    EXPECT_EQ(recvMsg(b.fd.get()).second, "for b");
    EXPECT_EQ(recvMsg(a.fd.get()).second, "for a");
    EXPECT_EQ(recvMsg(a.fd.get(), 200ms).first, ETIMEDOUT);
    EXPECT_EQ(recvMsg(b.fd.get(), 200ms).first, ETIMEDOUT);
    EXPECT_EQ(root().get<std::string>(a.endpoint, EndpointIface, "Owner"), root().uniqueName());
    EXPECT_EQ(root().get<std::string>(b.endpoint, EndpointIface, "Owner"), other.uniqueName());
}

TEST_F(Channel, NobodyAllowedByTheChannelRuleGetsAWorkingFd) {
    const std::string echo = startCm4();
    const std::string r = runAs(NobodyChannelUser, [&](Client& c) {
        Opened o = c.open(echo);
        return "uid " + std::to_string(c.get<uint32_t>(o.endpoint, EndpointIface, "OwnerUid")) +
               " echo " + roundTrip(o.fd.get(), std::string(496, 'n')).substr(0, 3) + " " +
               roundTrip(o.fd.get(), "tiny");
    });
    EXPECT_EQ(r, "uid 65534 echo nnn tiny");
}

TEST_F(Channel, TheManagerGroupMayOpenWithoutAChannelRule) {
    const std::string echo = startCm4();
    const std::string r = runAs(NobodyManager, [&](Client& c) {
        Opened o = c.open(echo);
        return roundTrip(o.fd.get(), "mgr");
    });
    EXPECT_EQ(r, "mgr");
}

TEST_F(Channel, OthersAreDenied) {
    const std::string echo = startCm4();
    const std::string r = runAs(NobodyStranger, [&](Client& c) {
        Opened o = c.open(echo);
        return std::string("opened");
    });
    EXPECT_EQ(r.rfind("error " + err::AccessDenied, 0), 0u) << r;
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 0u);
    // Reading is allowed to everyone.
    const std::string props = runAs(NobodyStranger, [&](Client& c) {
        return c.get<std::string>(echo, ChannelIface, "Name") + " " +
               std::to_string(c.listChannels().size()) + " " + c.getProcessor("cm4");
    });
    EXPECT_EQ(props, "rpmsg-echo 3 " + cm4());
}

TEST_F(Channel, OpenAfterTheProcessorStoppedFails) {
    const std::string echo = startCm4();
    ASSERT_TRUE(errorOf([&] { root().stop(cm4()); }).ok());
    const auto e = errorOf([&] { root().open(echo); });
    EXPECT_TRUE(e.name == err::UnknownObject || e.name == err::UnknownMethod ||
                e.name == err::UnknownInterface || e.name == err::Unavailable)
        << e.str();
    EXPECT_TRUE(simtest::eptdevNames(env().sim()).empty());
}

// ---- Processor.OpenEndpoint --------------------------------------------------------------------

TEST_F(Channel, OpenEndpointToAServiceThatDoesNotAnnounceItself) {
    startCm4();
    for (const auto& ch : root().listChannels()) {
        ASSERT_NE(ch.name, "hidden");
    }
    Opened ep = root().openEndpoint(cm4(), "hidden", 1027);
    ASSERT_TRUE(ep.fd.valid());
    EXPECT_EQ(ep.mtu, 496u);
    EXPECT_EQ(roundTrip(ep.fd.get(), "raw hello"), "raw hello");
    EXPECT_EQ(std::string(root().get<sdbus::ObjectPath>(ep.endpoint, EndpointIface, "Channel")),
              "/");
    EXPECT_EQ(std::string(root().get<sdbus::ObjectPath>(ep.endpoint, EndpointIface, "Processor")),
              cm4());
    EXPECT_EQ(root().get<uint32_t>(ep.endpoint, EndpointIface, "RemoteAddress"), 1027u);
    EXPECT_EQ(root().get<std::string>(ep.endpoint, EndpointIface, "Name"), "hidden");
}

TEST_F(Channel, OpenEndpointOptions) {
    startCm4();
    Opened ep = root().openEndpoint(
        cm4(), "hidden", 1027,
        {{"nonblock", sdbus::Variant(true)}, {"local_address", sdbus::Variant(uint32_t{3000})}});
    EXPECT_NE(::fcntl(ep.fd.get(), F_GETFL) & O_NONBLOCK, 0);
    const std::string dev = root().get<std::string>(ep.endpoint, EndpointIface, "Device");
    EXPECT_EQ(simtest::readFile(env().mountPath("sys/class/rpmsg/" + dev + "/src")).data, "3000\n");
    EXPECT_DBUS_ERROR(
        errorOf([&] {
            root().openEndpoint(cm4(), "hidden", 1027, {{"nope", sdbus::Variant(1u)}});
        }),
        err::InvalidArgument);
}

TEST_F(Channel, OpenEndpointBadArguments) {
    startCm4();
    EXPECT_DBUS_ERROR(errorOf([&] { root().openEndpoint(cm4(), "hidden", 0xffffffffu); }),
                      err::InvalidArgument);
    EXPECT_DBUS_ERROR(errorOf([&] { root().openEndpoint(cm4(), "", 1027); }), err::InvalidArgument);
    EXPECT_DBUS_ERROR(errorOf([&] { root().openEndpoint(cm4(), std::string(32, 'n'), 1027); }),
                      err::InvalidArgument);
    EXPECT_TRUE(simtest::eptdevNames(env().sim()).empty());
}

TEST_F(Channel, OpenEndpointOnAnOfflineProcessorIsUnavailable) {
    EXPECT_DBUS_ERROR(errorOf([&] { root().openEndpoint(cm4(), "hidden", 1027); }),
                      err::Unavailable);
}

TEST_F(Channel, OpenEndpointFollowsTheChannelRules) {
    startCm4();
    const std::string p = cm4();
    auto attempt = [&](const Cred& who) {
        return runAs(who, [&](Client& c) {
            Opened o = c.openEndpoint(p, "hidden", 1027);
            return roundTrip(o.fd.get(), "raw");
        });
    };
    EXPECT_EQ(attempt(NobodyChannelUser), "raw");
    EXPECT_EQ(attempt(NobodyManager), "raw");
    const std::string denied = attempt(NobodyStranger);
    EXPECT_EQ(denied.rfind("error " + err::AccessDenied, 0), 0u) << denied;
}

} // namespace
} // namespace itest
