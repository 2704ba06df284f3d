// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgd on a virtio-rpmsg transport without a remoteproc, the same cases on both targets of the
// real-kernel lane (tests/uml/README.md): on the host against the FUSE twin (a `"remoteproc":
// false` processor), and inside the UML guest against Linux's own rpmsg stack, whose remote is
// `rpmsg-sim remote --vhost-user`. uml-lane boots one guest per case; RPMSG_TARGET=kernel selects
// the real kernel. Both run the firmware of tests/uml/lane-fw.json.

#include "fixture.h"
#include "lane_remote.h"

#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <set>
#include <signal.h>
#include <sstream>
#include <unistd.h>

namespace itest {
namespace {

constexpr uint32_t EchoAddr = 1024;

/// The group the channel rule allows: the default config's "rpmsg" (which our sysusers.d file
/// creates; the guest's init does as well), or "nogroup" on a host without it.
std::string clientGroup() {
    return ::getgrnam("rpmsg") ? "rpmsg" : "nogroup";
}

Cred clientCred() {
    const group* g = ::getgrnam(clientGroup().c_str());
    return Cred{65534, g ? g->gr_gid : 65534, {}};
}

nlohmann::json laneFirmware() {
    std::ifstream in(RPMSGD_LANE_FW_SPEC);
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
}

class Lane : public DaemonTest {
protected:
    void configure(EnvOptions& o) override {
        o.realKernel = lane::onRealKernel();
        o.firmware = laneFirmware();
        o.simConfig = {{"processors", nlohmann::json::array({{{"name", "vhost0"},
                                                              {"firmware", "echo.elf"},
                                                              {"remoteproc", false}}})}};
        const std::string group = clientGroup();
        o.editConfig = [group](nlohmann::json& c) {
            c["channels"] = {{{"match", "*"}, {"processor", "*"}, {"groups", {group}}}};
        };
    }

    void SetUp() override {
        DaemonTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        if (lane::onRealKernel()) {
            const char* path = std::getenv("RPMSG_REMOTE_CONTROL");
            ASSERT_NE(path, nullptr) << "RPMSG_TARGET=kernel needs RPMSG_REMOTE_CONTROL";
            auto s = std::make_unique<lane::StreamRemote>(path);
            ASSERT_EQ(s->error(), "");
            remote_ = std::move(s);
        } else {
            remote_ = std::make_unique<lane::TwinRemote>(
                "vhost0", [this](const std::vector<std::string>& args, std::string& out) {
                    out = env().ctl(args);
                    return out.empty();
                });
        }
        const auto ping = remote_->command({"ping"});
        ASSERT_TRUE(ping.ok) << ping.error;
        transport_ = waitTransport();
        ASSERT_FALSE(transport_.empty()) << "virtio0 was never published";
    }

    std::string waitTransport() {
        std::string path;
        simtest::waitFor(
            [&] { return errorOf([&] { path = root().getProcessor("virtio0"); }).ok(); }, 10s);
        return path;
    }

    void remoteOk(const std::vector<std::string>& args) {
        const auto r = remote_->command(args);
        EXPECT_TRUE(r.ok) << args[0] << ": " << r.error;
    }

    std::string echoChannel() { return root().waitForChannel("rpmsg-echo", "virtio0", 10000); }

    std::unique_ptr<lane::Remote> remote_;
    std::string transport_;
};

TEST_F(Lane, TheTransportIsAnAttachedProcessor) {
    EXPECT_EQ(root().get<std::string>(transport_, ProcessorIface, "Id"), "virtio0");
    EXPECT_EQ(root().get<std::string>(transport_, ProcessorIface, "State"), "attached");
    const auto e = errorOf([&] { root().stop(transport_); });
    EXPECT_DBUS_ERROR(e, err::InvalidState);
}

TEST_F(Lane, ChannelsAnnouncedByTheRemoteAreObjects) {
    const std::string echo = echoChannel();
    ASSERT_FALSE(echo.empty());
    const std::string device = "virtio0.rpmsg-echo.-1." + std::to_string(EchoAddr);
    EXPECT_EQ(root().get<std::string>(echo, ChannelIface, "Device"), device);
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "RemoteAddress"), EchoAddr);
    EXPECT_TRUE(existsInMount("sys/bus/rpmsg/devices/" + device));
    // An announcement at run time.
    remoteOk({"announce", "lane-extra", "112"});
    const std::string extra = root().waitForChannel("lane-extra", "virtio0", 5000);
    EXPECT_EQ(root().get<std::string>(extra, ChannelIface, "Device"), "virtio0.lane-extra.-1.112");
    // A service that does not announce itself is no channel.
    std::set<std::string> names;
    for (const auto& row : root().listChannels()) {
        names.insert(row.name);
    }
    EXPECT_EQ(names,
              (std::set<std::string>{"rpmsg-echo", "rpmsg-sensor", "rpmsg-sink", "lane-extra"}));
}

TEST_F(Lane, AStreamServiceSendsToItsLastWriter) {
    const std::string sensor = root().waitForChannel("rpmsg-sensor", "virtio0", 10000);
    ASSERT_FALSE(sensor.empty());
    const std::string r = runAs(clientCred(), [&](Client& c) {
        Opened o = c.open(sensor);
        // The remote streams to whoever wrote to it last: say hello first.
        if (const int e = sendMsg(o.fd.get(), "hello"); e != 0) {
            return "write " + errnoName(e);
        }
        uint64_t last = 0;
        for (int i = 0; i < 5; ++i) {
            const auto [err, data] = recvMsg(o.fd.get(), 2s);
            if (err != 0 || data.size() != 16) {
                return "message " + std::to_string(i) + ": " + errnoName(err) + ", " +
                       std::to_string(data.size()) + " bytes";
            }
            uint64_t n = 0;
            for (int b = 0; b < 8; ++b) {
                n |= uint64_t(uint8_t(data[size_t(b)])) << (8 * b);
            }
            if (i > 0 && n <= last) {
                return "counter went from " + std::to_string(last) + " to " + std::to_string(n);
            }
            last = n;
        }
        return std::string("ok");
    });
    EXPECT_EQ(r, "ok");
}

TEST_F(Lane, UnprivilegedClientGetsEchoRoundTrips) {
    const std::string echo = echoChannel();
    ASSERT_FALSE(echo.empty());
    const std::string r = runAs(clientCred(), [&](Client& c) {
        Opened o = c.open(echo);
        if (o.mtu != 496) {
            return "mtu " + std::to_string(o.mtu);
        }
        for (int i = 0; i < 200; ++i) {
            std::string msg(size_t(1 + (i * 37) % 496), char('a' + i % 26));
            msg[0] = char('0' + i % 10);
            if (const std::string back = roundTrip(o.fd.get(), msg); back != msg) {
                return "round trip " + std::to_string(i) + " gave " + back.substr(0, 40);
            }
        }
        return std::string("ok");
    });
    EXPECT_EQ(r, "ok") << "as " << clientCred().describe();
}

TEST_F(Lane, SeveralClientsAtOnce) {
    const std::string echo = echoChannel();
    ASSERT_FALSE(echo.empty());
    constexpr int Clients = 4;
    std::vector<std::unique_ptr<Child>> children;
    for (int k = 0; k < Clients; ++k) {
        children.push_back(std::make_unique<Child>(clientCred(), [echo, k](ChildIo& io) {
            Client c;
            Opened o = c.open(echo);
            io.send(c.get<std::string>(o.endpoint, EndpointIface, "Device"));
            io.recv(); // all open: go
            for (int i = 0; i < 100; ++i) {
                const std::string msg = "client " + std::to_string(k) + " msg " + std::to_string(i);
                if (const std::string back = roundTrip(o.fd.get(), msg); back != msg) {
                    io.send("mismatch at " + std::to_string(i) + ": " + back);
                    return 1;
                }
            }
            io.send("done");
            return 0;
        }));
    }
    std::set<std::string> devices;
    for (auto& c : children) {
        const auto dev = c->readLine();
        ASSERT_TRUE(dev && dev->rfind("rpmsg", 0) == 0) << dev.value_or("<nothing>");
        devices.insert(*dev);
    }
    EXPECT_EQ(devices.size(), size_t(Clients)) << "endpoints must be distinct";
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), uint32_t(Clients));
    for (auto& c : children) {
        c->writeLine("go");
    }
    for (auto& c : children) {
        EXPECT_EQ(c->readLine(30s).value_or("<nothing>"), "done");
        EXPECT_EQ(c->wait(), 0);
    }
    EXPECT_TRUE(simtest::waitFor(
        [&] { return root().get<uint32_t>(echo, ChannelIface, "Endpoints") == 0; }, 5s));
    for (const auto& d : devices) {
        EXPECT_FALSE(existsInMount("dev/" + d)) << d << " outlived its client";
    }
}

TEST_F(Lane, KilledClientsEndpointIsDestroyedInTheKernel) {
    const std::string echo = echoChannel();
    ASSERT_FALSE(echo.empty());
    SignalRecorder rec;
    Child owner(clientCred(), [echo](ChildIo& io) {
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
    ASSERT_TRUE(existsInMount("sys/class/rpmsg/" + dev));
    owner.kill(SIGKILL);
    ASSERT_TRUE(owner.wait(5s));
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(ep); }, 5s))
        << rec.describe();
    EXPECT_TRUE(simtest::waitFor(
        [&] { return !existsInMount("dev/" + dev) && !existsInMount("sys/class/rpmsg/" + dev); },
        5s))
        << "the kernel endpoint " << dev << " of a killed client is still there";
    EXPECT_EQ(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 0u);
}

TEST_F(Lane, RemoteDestroyingAChannelRemovesItAndEndsItsEndpoints) {
    const std::string echo = echoChannel();
    ASSERT_FALSE(echo.empty());
    SignalRecorder rec;
    Child holder(clientCred(), [echo](ChildIo& io) {
        Client c;
        Opened o = c.open(echo);
        io.send(o.endpoint);
        io.recv();
        io.send("write " + errnoName(sendMsg(o.fd.get(), "still there?")));
        return 0;
    });
    const auto ep = holder.readLine();
    ASSERT_TRUE(ep && ep->rfind("/", 0) == 0) << ep.value_or("<nothing>");
    remoteOk({"destroy", "rpmsg-echo", std::to_string(EchoAddr)});
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(echo); }, 5s))
        << rec.describe();
    EXPECT_TRUE(simtest::waitFor([&] { return !objectExists(*ep, EndpointIface); }, 5s));
    holder.writeLine("go");
    EXPECT_EQ(holder.readLine().value_or("<nothing>"), "write EPIPE");
    EXPECT_FALSE(
        existsInMount("sys/bus/rpmsg/devices/virtio0.rpmsg-echo.-1." + std::to_string(EchoAddr)));
    // The transport and its other channel stay.
    EXPECT_EQ(root().get<std::string>(transport_, ProcessorIface, "State"), "attached");
    EXPECT_FALSE(root().waitForChannel("rpmsg-sink", "virtio0", 1000).empty());
}

TEST_F(Lane, RemoteHangingUpRemovesEverythingAndLeaksNothing) {
    const std::string echo = echoChannel();
    ASSERT_FALSE(echo.empty());
    const int fdsBefore = simtest::openFds(env().daemonPid());
    SignalRecorder rec;
    Child holder(clientCred(), [echo](ChildIo& io) {
        Client c;
        Opened o = c.open(echo);
        io.send(o.endpoint);
        io.recv();
        io.send("write " + errnoName(sendMsg(o.fd.get(), "anyone?")));
        return 0;
    });
    const auto ep = holder.readLine();
    ASSERT_TRUE(ep && ep->rfind("/", 0) == 0) << ep.value_or("<nothing>");
    Opened mine = root().openEndpoint(transport_, "hidden", 1027);
    EXPECT_EQ(roundTrip(mine.fd.get(), "before"), "before");
    remoteOk({"hangup"});
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(transport_); }, 10s))
        << rec.describe();
    for (const auto& gone : {echo, *ep, mine.endpoint}) {
        EXPECT_TRUE(simtest::waitFor(
            [&] { return !objectExists(gone, ChannelIface) && !objectExists(gone, EndpointIface); },
            5s))
            << gone;
    }
    EXPECT_TRUE(root().listChannels().empty());
    EXPECT_DBUS_ERROR(errorOf([&] { root().getProcessor("virtio0"); }), err::NotFound);
    holder.writeLine("go");
    EXPECT_EQ(holder.readLine().value_or("<nothing>"), "write EPIPE");
    EXPECT_EQ(sendMsg(mine.fd.get(), "after"), EPIPE);
    EXPECT_FALSE(existsInMount("sys/bus/virtio/devices/virtio0"));
    EXPECT_TRUE(env().daemonAlive());
    // Nothing leaked: the daemon holds no more fds than before the endpoints were opened (the
    // transport's ctrl device is gone, too), and the fd store is empty.
    EXPECT_TRUE(
        simtest::waitFor([&] { return simtest::openFds(env().daemonPid()) <= fdsBefore; }, 5s))
        << simtest::openFds(env().daemonPid()) << " fds open, " << fdsBefore << " before";
    if (auto* m = env().serviceManager()) {
        EXPECT_TRUE(simtest::waitFor([&] { return m->stored() == 0; }, 5s)) << m->stored();
    }
}

} // namespace
} // namespace itest
