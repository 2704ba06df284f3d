// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// librpmsgd-client without rpmsgd: the error table, Endpoint on a socketpair (timeouts, mtu,
// an ended peer), and the library against a fake org.rpmsgd.Broker1 on a private dbus-daemon
// (error names and messages passed through, call timeouts, no daemon, no bus). No root needed.

#include "client_error.h"
#include "dbus/errors.h"
#include "private_bus.h"
#include "rpmsgd/client.h"
#include "sim_harness.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <set>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>

using namespace std::chrono_literals;
namespace rc = rpmsgd::client;

// ---- error mapping --------------------------------------------------------------------------

TEST(ClientErrors, EveryDaemonErrorNameMapsToTheCodeOfTheSameName) {
    for (const auto code : rpmsgd::allErrorCodes) {
        const rc::ErrorCode mapped = rc::errorCodeFromDBusName(rpmsgd::errorName(code));
        EXPECT_STREQ(rc::errorCodeName(mapped), rpmsgd::errorCodeString(code))
            << rpmsgd::errorName(code);
    }
}

TEST(ClientErrors, BusErrorsMapToTheirClasses) {
    const std::pair<const char*, rc::ErrorCode> cases[] = {
        {"org.freedesktop.DBus.Error.AccessDenied", rc::ErrorCode::AccessDenied},
        {"org.freedesktop.DBus.Error.ServiceUnknown", rc::ErrorCode::ServiceUnknown},
        {"org.freedesktop.DBus.Error.NameHasNoOwner", rc::ErrorCode::ServiceUnknown},
        {"org.freedesktop.DBus.Error.NoReply", rc::ErrorCode::NoReply},
        {"org.freedesktop.DBus.Error.Timeout", rc::ErrorCode::NoReply},
        {"org.freedesktop.DBus.Error.Disconnected", rc::ErrorCode::Disconnected},
        {"org.freedesktop.DBus.Error.UnknownObject", rc::ErrorCode::NotFound},
        {"org.freedesktop.DBus.Error.InvalidArgs", rc::ErrorCode::InvalidArgument},
        {"org.rpmsgd.Broker1.Error.SomethingNew", rc::ErrorCode::Other},
        {"org.example.Error.Unlucky", rc::ErrorCode::Other},
        {"", rc::ErrorCode::Other},
    };
    for (const auto& [name, code] : cases) {
        EXPECT_EQ(rc::errorCodeFromDBusName(name), code) << name;
    }
}

TEST(ClientErrors, EveryCodeHasADistinctName) {
    std::set<std::string> names;
    for (int i = 0; i <= static_cast<int>(rc::ErrorCode::Other); ++i) {
        names.insert(rc::errorCodeName(static_cast<rc::ErrorCode>(i)));
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(rc::ErrorCode::Other) + 1);
    EXPECT_EQ(names.count("Other"), 1u);
}

TEST(ClientErrors, ErrorKeepsCodeMessageAndName) {
    const rc::Error e(rc::ErrorCode::KernelError, "write 'start' failed",
                      "org.rpmsgd.Broker1.Error.KernelError");
    EXPECT_EQ(e.code(), rc::ErrorCode::KernelError);
    EXPECT_STREQ(e.what(), "write 'start' failed");
    EXPECT_EQ(e.dbusName(), "org.rpmsgd.Broker1.Error.KernelError");
}

// ---- Endpoint on a socketpair (the same one-read-one-message semantics as /dev/rpmsgN) ----

class EndpointTest : public ::testing::Test {
protected:
    void SetUp() override {
        int sv[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        ep_ = rc::Endpoint::adopt(sv[0], 64);
        peer_ = sv[1];
        ::signal(SIGPIPE, SIG_IGN);
    }
    void TearDown() override {
        if (peer_ >= 0) {
            ::close(peer_);
        }
    }
    std::string readPeer() {
        char buf[256];
        const ssize_t n = ::read(peer_, buf, sizeof buf);
        return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
    }
    rc::Endpoint ep_;
    int peer_ = -1;
};

TEST_F(EndpointTest, SendsAndReceivesWholeMessages) {
    ep_.send("hello");
    ep_.send(std::string(64, 'x'));
    EXPECT_EQ(readPeer(), "hello");
    EXPECT_EQ(readPeer(), std::string(64, 'x'));
    ASSERT_EQ(::write(peer_, "one", 3), 3);
    ASSERT_EQ(::write(peer_, "two", 3), 3);
    EXPECT_EQ(ep_.receive(1s), "one");
    char small[8];
    EXPECT_EQ(ep_.receive(small, sizeof small, 1s), 3u);
    EXPECT_EQ(std::string(small, 3), "two");
    EXPECT_EQ(ep_.mtu(), 64u);
    EXPECT_GE(ep_.fd(), 0);
    EXPECT_EQ(ep_.path(), "");
}

TEST_F(EndpointTest, ReceiveTimesOutWithTimeout) {
    const rc::Error e = harness::clientErrorFrom([&] { ep_.receive(30ms); });
    EXPECT_EQ(e.code(), rc::ErrorCode::Timeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("30 ms"), std::string::npos) << e.what();
    // A zero timeout only looks: a waiting message is returned at once.
    ASSERT_EQ(::write(peer_, "x", 1), 1);
    EXPECT_EQ(ep_.receive(0ms), "x");
    EXPECT_EQ(harness::clientErrorFrom([&] { ep_.receive(0ms); }).code(), rc::ErrorCode::Timeout);
}

TEST_F(EndpointTest, RefusesMessagesLargerThanTheMtu) {
    const rc::Error e = harness::clientErrorFrom([&] { ep_.send(std::string(65, 'x')); });
    EXPECT_EQ(e.code(), rc::ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("mtu of 64"), std::string::npos) << e.what();
}

TEST_F(EndpointTest, AnEndedPeerIsUnavailable) {
    ::close(peer_);
    peer_ = -1;
    EXPECT_EQ(harness::clientErrorFrom([&] { ep_.receive(1s); }).code(),
              rc::ErrorCode::Unavailable);
    const rc::Error e = harness::clientErrorFrom([&] { ep_.send("x"); });
    EXPECT_EQ(e.code(), rc::ErrorCode::Unavailable) << e.what();
    EXPECT_NE(std::string(e.what()).find("EPIPE"), std::string::npos) << e.what();
}

TEST_F(EndpointTest, CloseIsIdempotentAndClosesTheFd) {
    const int fd = ep_.fd();
    ep_.close();
    EXPECT_FALSE(ep_.isOpen());
    EXPECT_EQ(ep_.fd(), -1);
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1); // really closed
    ep_.close();
    EXPECT_EQ(harness::clientErrorFrom([&] { ep_.send("x"); }).code(), rc::ErrorCode::InvalidState);
    EXPECT_EQ(harness::clientErrorFrom([&] { ep_.receive(0ms); }).code(),
              rc::ErrorCode::InvalidState);
    EXPECT_EQ(readPeer(), ""); // the peer sees the end
}

TEST_F(EndpointTest, MovesOwnership) {
    const int fd = ep_.fd();
    rc::Endpoint other = std::move(ep_);
    EXPECT_EQ(other.fd(), fd);
    EXPECT_FALSE(ep_.isOpen()); // NOLINT(bugprone-use-after-move): moved-from is empty
    other.send("moved");
    EXPECT_EQ(readPeer(), "moved");
}

TEST(EndpointAdopt, RejectsANegativeFd) {
    EXPECT_EQ(harness::clientErrorFrom([] { rc::Endpoint::adopt(-1, 10); }).code(),
              rc::ErrorCode::InvalidArgument);
}

// ---- against a fake rpmsgd on a private bus ----------------------------------------------

namespace {

// org.rpmsgd.Broker1 with a Manager whose GetProcessor(key) answers by key:
// "remoteproc0" -> a path, "hang" -> never replies, any other key -> the D-Bus error named key.
// WaitForChannel replies Timeout after timeout_ms (from a thread), like rpmsgd.
class FakeDaemon {
public:
    explicit FakeDaemon(const std::string& address) {
        conn_ = sdbus::createSessionBusConnectionWithAddress(address);
        conn_->requestName("org.rpmsgd.Broker1");
        object_ = sdbus::createObject(*conn_, "/org/rpmsgd/Broker1");
        const char* iface = "org.rpmsgd.Broker1.Manager";
        object_->registerMethod("GetProcessor")
            .onInterface(iface)
            .implementedAs([this](sdbus::Result<sdbus::ObjectPath>&& result, std::string key) {
                if (key == "remoteproc0") {
                    result.returnResults(sdbus::ObjectPath("/org/rpmsgd/Broker1/processor/p0"));
                } else if (key == "hang") {
                    std::lock_guard lock(mutex_);
                    hanging_.push_back(std::move(result));
                } else {
                    result.returnError(sdbus::Error(key, "message for " + key));
                }
            });
        object_->registerMethod("WaitForChannel")
            .onInterface(iface)
            .implementedAs([this](sdbus::Result<sdbus::ObjectPath>&& result, std::string name,
                                  std::string, uint32_t timeoutMs) {
                std::lock_guard lock(mutex_);
                threads_.emplace_back([r = std::move(result), name, timeoutMs]() mutable {
                    std::this_thread::sleep_for(std::chrono::milliseconds(timeoutMs));
                    r.returnError(sdbus::Error("org.rpmsgd.Broker1.Error.Timeout",
                                               "No channel '" + name + "' appeared"));
                });
            });
        object_->registerProperty("Version").onInterface(iface).withGetter(
            [] { return std::string("fake"); });
        object_->finishRegistration();
        conn_->enterEventLoopAsync();
    }
    ~FakeDaemon() {
        for (auto& t : threads_) {
            t.join();
        }
        conn_->leaveEventLoop();
    }

private:
    std::unique_ptr<sdbus::IConnection> conn_;
    std::unique_ptr<sdbus::IObject> object_;
    std::mutex mutex_;
    std::vector<sdbus::Result<sdbus::ObjectPath>> hanging_;
    std::vector<std::thread> threads_;
};

class FakeDaemonTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::access("/usr/bin/dbus-daemon", X_OK) != 0) {
            GTEST_SKIP() << "dbus-daemon is not installed (/usr/bin/dbus-daemon)";
        }
        ASSERT_EQ(bus_.start(dir_.path()), "");
    }
    rc::ConnectOptions options(std::chrono::milliseconds callTimeout = 5s) const {
        rc::ConnectOptions o;
        o.address = bus_.address();
        o.callTimeout = callTimeout;
        return o;
    }
    simtest::TempDir dir_{"rpmsgd-client-test"};
    harness::PrivateBus bus_;
};

} // namespace

TEST_F(FakeDaemonTest, NoDaemonIsServiceUnknown) {
    rc::Client client(options());
    const rc::Error e = harness::clientErrorFrom([&] { client.daemonVersion(); });
    EXPECT_EQ(e.code(), rc::ErrorCode::ServiceUnknown) << e.dbusName() << ": " << e.what();
}

TEST_F(FakeDaemonTest, NoBusIsDisconnected) {
    rc::ConnectOptions o;
    o.address = "unix:path=" + bus_.address().substr(0, 0) + "/nonexistent/rpmsgd-bus.sock";
    const rc::Error e = harness::clientErrorFrom([&] { rc::Client client(o); });
    EXPECT_EQ(e.code(), rc::ErrorCode::Disconnected) << e.what();
    EXPECT_NE(std::string(e.what()).find("/nonexistent/rpmsgd-bus.sock"), std::string::npos)
        << e.what();
}

TEST_F(FakeDaemonTest, DaemonErrorsArriveWithCodeNameAndMessage) {
    FakeDaemon daemon(bus_.address());
    rc::Client client(options());
    EXPECT_EQ(client.daemonVersion(), "fake");
    for (const auto code : rpmsgd::allErrorCodes) {
        const std::string name = rpmsgd::errorName(code);
        const rc::Error e = harness::clientErrorFrom([&] { client.start(name); });
        EXPECT_STREQ(rc::errorCodeName(e.code()), rpmsgd::errorCodeString(code));
        EXPECT_EQ(e.dbusName(), name);
        EXPECT_EQ(std::string(e.what()), "message for " + name);
    }
    const rc::Error other =
        harness::clientErrorFrom([&] { client.stop("org.example.Error.Unlucky"); });
    EXPECT_EQ(other.code(), rc::ErrorCode::Other);
    EXPECT_EQ(other.dbusName(), "org.example.Error.Unlucky");
}

TEST_F(FakeDaemonTest, ACallWithoutReplyFailsWithNoReplyAfterTheCallTimeout) {
    FakeDaemon daemon(bus_.address());
    rc::Client client(options(200ms));
    const rc::Error e = harness::clientErrorFrom([&] { client.start("hang"); });
    EXPECT_EQ(e.code(), rc::ErrorCode::NoReply) << e.dbusName() << ": " << e.what();
}

TEST_F(FakeDaemonTest, WaitingForAChannelMayTakeLongerThanTheCallTimeout) {
    FakeDaemon daemon(bus_.address());
    // The wait (2.5 s) outlasts the call timeout (2 s): the daemon's Timeout must arrive, not
    // a NoReply of the library's own, which allows the wait plus the call timeout (2 s of slack
    // for a loaded machine).
    rc::Client client(options(2000ms));
    const rc::Error e =
        harness::clientErrorFrom([&] { client.waitForChannel("rpmsg-echo", "", 2500ms); });
    EXPECT_EQ(e.code(), rc::ErrorCode::Timeout) << e.dbusName() << ": " << e.what();
    EXPECT_EQ(std::string(e.what()), "No channel 'rpmsg-echo' appeared");
    const rc::Error open =
        harness::clientErrorFrom([&] { client.openChannel("rpmsg-echo", "", 2500ms); });
    EXPECT_EQ(open.code(), rc::ErrorCode::Timeout) << open.what();
}

TEST_F(FakeDaemonTest, EmptyProcessorIsRejectedLocally) {
    rc::Client client(options());
    const rc::Error e = harness::clientErrorFrom([&] { client.start(""); });
    EXPECT_EQ(e.code(), rc::ErrorCode::InvalidArgument);
    EXPECT_EQ(e.dbusName(), "");
}

TEST_F(FakeDaemonTest, PollFdModeAndEventThreadModeStartAndStop) {
    rc::Client client(options());
    std::atomic<int> events{0};
    client.onEvent([&](const rc::Event&) { ++events; });
    const rc::PollFd p = client.pollFd();
    EXPECT_GE(p.fd, 0); // events and timeout depend on what the connection has queued
    // The fake daemon taking the name is an event (NameOwnerChanged).
    {
        FakeDaemon daemon(bus_.address());
        EXPECT_TRUE(simtest::waitFor(
            [&] {
                client.processEvents(100ms);
                return events.load() >= 1;
            },
            10s));
    }
    // Its leaving is another, delivered by the library's own thread this time.
    client.startEventThread();
    EXPECT_TRUE(simtest::waitFor([&] { return events.load() >= 2; }, 10s));
    client.stopEventThread();
}

TEST_F(FakeDaemonTest, AnExceptionFromTheHandlerReachesTheCallerOfProcess) {
    rc::Client client(options());
    int calls = 0;
    client.onEvent([&](const rc::Event&) {
        ++calls;
        throw std::runtime_error("handler failed");
    });
    FakeDaemon daemon(bus_.address()); // DaemonStarted
    bool thrown = false;
    simtest::waitFor(
        [&] {
            try {
                client.processEvents(100ms);
            } catch (const std::runtime_error& e) {
                thrown = std::string(e.what()) == "handler failed";
            }
            return thrown;
        },
        10s);
    EXPECT_TRUE(thrown);
    EXPECT_EQ(calls, 1);
}
