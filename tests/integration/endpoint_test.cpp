// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// org.rpmsgd.Broker1.Endpoint: properties, Close (owner, others, managers), the owner leaving
// the bus, and the endpoint limits.

#include "fixture.h"

#include <csignal>
#include <sys/stat.h>

namespace itest {
namespace {

class Endpoint : public DaemonTest {};

TEST_F(Endpoint, Properties) {
    const std::string echo = startCm4();
    Opened ep = root().open(echo);
    const std::string dev = root().get<std::string>(ep.endpoint, EndpointIface, "Device");
    EXPECT_EQ(std::string(root().get<sdbus::ObjectPath>(ep.endpoint, EndpointIface, "Channel")),
              echo);
    EXPECT_EQ(std::string(root().get<sdbus::ObjectPath>(ep.endpoint, EndpointIface, "Processor")),
              cm4());
    EXPECT_NE(root().get<std::string>(ep.endpoint, EndpointIface, "Name"), "");
    EXPECT_EQ(root().get<uint32_t>(ep.endpoint, EndpointIface, "RemoteAddress"), 1024u);
    EXPECT_EQ(dev.rfind("rpmsg", 0), 0u) << dev;
    EXPECT_EQ(dev.find("ctrl"), std::string::npos) << dev;
    EXPECT_TRUE(existsInMount("dev/" + dev));
    EXPECT_EQ(root().get<std::string>(ep.endpoint, EndpointIface, "Owner"), root().uniqueName());
    EXPECT_EQ(root().get<uint32_t>(ep.endpoint, EndpointIface, "OwnerUid"), 0u);
    // The kernel endpoint is the one the fd talks through.
    const auto dst = simtest::readFile(env().mountPath("sys/class/rpmsg/" + dev + "/dst"));
    EXPECT_EQ(dst.data, "1024\n");
    const auto all = root().getAll(ep.endpoint, EndpointIface);
    for (const char* name :
         {"Channel", "Processor", "Name", "RemoteAddress", "Device", "Owner", "OwnerUid"}) {
        EXPECT_TRUE(all.count(name)) << "GetAll lacks " << name;
    }
    // As nobody: Owner is nobody's unique name, OwnerUid 65534.
    const std::string r = runAs(NobodyChannelUser, [&](Client& c) {
        Opened o = c.open(echo);
        const bool mine = c.get<std::string>(o.endpoint, EndpointIface, "Owner") == c.uniqueName();
        return std::string(mine ? "mine " : "not mine ") +
               std::to_string(c.get<uint32_t>(o.endpoint, EndpointIface, "OwnerUid"));
    });
    EXPECT_EQ(r, "mine 65534");
}

TEST_F(Endpoint, CloseByTheOwner) {
    const std::string echo = startCm4();
    Opened ep = root().open(echo);
    const std::string dev = root().get<std::string>(ep.endpoint, EndpointIface, "Device");
    ASSERT_EQ(roundTrip(ep.fd.get(), "x"), "x");
    SignalRecorder rec;
    const auto e = errorOf([&] { root().close(ep.endpoint); });
    ASSERT_TRUE(e.ok()) << e.str();
    EXPECT_EQ(sendMsg(ep.fd.get(), "after close"), EPIPE);
    char buf[16];
    errno = 0;
    EXPECT_EQ(::read(ep.fd.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EPIPE) << errnoName(errno);
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(ep.endpoint); }))
        << rec.describe();
    EXPECT_TRUE(simtest::waitFor([&] { return !objectExists(ep.endpoint, EndpointIface); }, 2s));
    EXPECT_TRUE(simtest::waitFor([&] { return !existsInMount("dev/" + dev); }, 2s))
        << "the kernel endpoint device " << dev << " is still there";
    // Closing again: the object is gone.
    EXPECT_FALSE(errorOf([&] { root().close(ep.endpoint); }).ok());
}

TEST_F(Endpoint, CloseByAnotherNonManagerIsAccessDenied) {
    const std::string echo = startCm4();
    Opened ep = root().open(echo);
    for (const Cred& who : {NobodyChannelUser, NobodyStranger}) {
        const std::string r = runAs(who, [&](Client& c) {
            c.close(ep.endpoint);
            return std::string("closed");
        });
        EXPECT_EQ(r.rfind("error " + err::AccessDenied, 0), 0u) << who.describe() << ": " << r;
    }
    EXPECT_EQ(roundTrip(ep.fd.get(), "still mine"), "still mine");
    // Another non-manager that has endpoints of its own cannot close root's either.
    const std::string r = runAs(NobodyChannelUser, [&](Client& c) {
        Opened mine = c.open(echo);
        c.close(ep.endpoint);
        return std::string("closed");
    });
    EXPECT_EQ(r.rfind("error " + err::AccessDenied, 0), 0u) << r;
    EXPECT_TRUE(objectExists(ep.endpoint, EndpointIface));
}

TEST_F(Endpoint, CloseByAManager) {
    const std::string echo = startCm4();
    // nobody holds an endpoint; root (and the manager group) may close it.
    for (const bool byRoot : {true, false}) {
        Child holder(NobodyChannelUser, [&](ChildIo& io) {
            Client c;
            Opened o = c.open(echo);
            io.send(o.endpoint);
            io.recv();
            io.send("write " + errnoName(sendMsg(o.fd.get(), "closed?")));
            return 0;
        });
        const auto ep = holder.readLine();
        ASSERT_TRUE(ep && ep->rfind("/", 0) == 0) << ep.value_or("<nothing>");
        CallError e;
        if (byRoot) {
            e = errorOf([&] { root().close(*ep); });
        } else {
            const std::string r = runAs(NobodyManager, [&](Client& c) {
                c.close(*ep);
                return std::string("closed");
            });
            e = r == "closed" ? CallError{} : CallError{"child", r};
        }
        EXPECT_TRUE(e.ok()) << (byRoot ? "root: " : "manager group: ") << e.str();
        holder.writeLine("go");
        EXPECT_EQ(holder.readLine().value_or("<nothing>"), "write EPIPE");
        EXPECT_TRUE(simtest::waitFor([&] { return !objectExists(*ep, EndpointIface); }, 2s));
    }
}

TEST_F(Endpoint, OwnerKilledEndsItsEndpoint) {
    const std::string echo = startCm4();
    SignalRecorder rec;
    Child owner(NobodyChannelUser, [&](ChildIo& io) {
        Client c;
        Opened o = c.open(echo);
        io.send(o.endpoint + " " + c.get<std::string>(o.endpoint, EndpointIface, "Device"));
        io.recv(); // until killed
        return 0;
    });
    const auto line = owner.readLine();
    ASSERT_TRUE(line && line->find(' ') != std::string::npos) << line.value_or("<nothing>");
    const std::string ep = line->substr(0, line->find(' '));
    const std::string dev = line->substr(line->find(' ') + 1);
    ASSERT_TRUE(existsInMount("dev/" + dev));
    owner.kill(SIGKILL);
    ASSERT_TRUE(owner.wait(5s));
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(ep); }, 2s))
        << rec.describe();
    EXPECT_TRUE(simtest::waitFor([&] { return !existsInMount("dev/" + dev); }, 2s))
        << "the kernel endpoint " << dev << " of a killed client is still there";
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 0u);
}

TEST_F(Endpoint, OwnerExitingEndsAllItsEndpoints) {
    const std::string echo = startCm4();
    std::vector<std::string> eps;
    const std::string r = runAs(NobodyChannelUser, [&](Client& c) {
        Opened a = c.open(echo);
        Opened b = c.openEndpoint(c.getProcessor("cm4"), "hidden", 1027);
        return a.endpoint + " " + b.endpoint;
    });
    ASSERT_NE(r.find(' '), std::string::npos) << r;
    for (const auto& ep : {r.substr(0, r.find(' ')), r.substr(r.find(' ') + 1)}) {
        EXPECT_TRUE(simtest::waitFor([&] { return !objectExists(ep, EndpointIface); }, 2s)) << ep;
    }
    EXPECT_TRUE(simtest::waitFor([&] { return simtest::eptdevNames(env().sim()).empty(); }, 2s));
}

class EndpointPerClientLimit : public DaemonTest {
    void configure(EnvOptions& o) override {
        o.editConfig = [](nlohmann::json& c) {
            c["limits"]["endpoints_per_client"] = 2;
        };
    }
};

TEST_F(EndpointPerClientLimit, ThirdOpenIsLimitExceeded) {
    const std::string echo = startCm4();
    Opened a = root().open(echo);
    Opened b = root().openEndpoint(cm4(), "hidden", 1027);
    const auto e = errorOf([&] { root().open(echo); });
    EXPECT_DBUS_ERROR(e, err::LimitExceeded);
    EXPECT_DBUS_ERROR(errorOf([&] { root().openEndpoint(cm4(), "hidden", 1027); }),
                      err::LimitExceeded);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 1u);
    // Per client: another connection may open.
    Client other;
    EXPECT_TRUE(errorOf([&] { other.open(echo); }).ok());
    // Closing one frees a slot.
    root().close(a.endpoint);
    const auto again = errorOf([&] { Opened c = root().open(echo); });
    EXPECT_TRUE(again.ok()) << again.str();
}

class EndpointTotalLimit : public DaemonTest {
    void configure(EnvOptions& o) override {
        o.editConfig = [](nlohmann::json& c) {
            c["limits"]["endpoints_per_client"] = 2;
            c["limits"]["endpoints_total"] = 3;
        };
    }
};

TEST_F(EndpointTotalLimit, OpenBeyondTheTotalIsLimitExceeded) {
    const std::string echo = startCm4();
    Client a;
    Client b;
    Opened a1 = a.open(echo);
    Opened a2 = a.open(echo);
    Opened b1 = b.open(echo);
    const auto e = errorOf([&] { b.open(echo); });
    EXPECT_DBUS_ERROR(e, err::LimitExceeded);
    Client c;
    EXPECT_DBUS_ERROR(errorOf([&] { c.open(echo); }), err::LimitExceeded);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 3u);
    a.close(a1.endpoint);
    EXPECT_TRUE(errorOf([&] { Opened c1 = c.open(echo); }).ok());
}

} // namespace
} // namespace itest
