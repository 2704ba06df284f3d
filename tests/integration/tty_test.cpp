// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// tty channels (API 1.1, docs/dbus-api.md "Channel"): a channel the kernel bound to rpmsg_tty
// is published with Kind "tty" and Device "ttyRPMSGn"; Open hands out the tty itself, to one
// holder at a time; the end of the lease (Close, the holder leaving, processor stop) hangs the
// tty up, so the holder reads end of file and its writes fail with EIO. On rpmsg-sim, whose
// rpmsg_tty model is a pty (sim/rpmsg_tty.cpp).

#include "fixture.h"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

namespace itest {
namespace {

/// Reads until @p want bytes came, end of file or 5 s without any; "<eof>" / "<errno N>" mark
/// how it ended early.
std::string readBytes(int fd, size_t want) {
    std::string got;
    while (got.size() < want) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) {
            return got + "<timeout>";
        }
        char buf[256];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) {
            return got + "<eof>";
        }
        if (n < 0) {
            return got + (errno == EIO ? "<eio>" : "<errno " + std::to_string(errno) + ">");
        }
        got.append(buf, size_t(n));
    }
    return got;
}

std::string echoThrough(int fd, const std::string& text) {
    if (::write(fd, text.data(), text.size()) != ssize_t(text.size())) {
        return "write failed: " + std::string(strerror(errno));
    }
    return readBytes(fd, text.size());
}

/// What a hung-up tty does: a read gives end of file (or EIO), a write EIO.
std::string hungUp(int fd) {
    char c;
    ssize_t r = ::read(fd, &c, 1);
    std::string out = r == 0 ? "eof" : r < 0 && errno == EIO ? "eio" : "read " + std::to_string(r);
    r = ::write(fd, "x", 1);
    out += r < 0 && errno == EIO ? " eio" : " write " + std::to_string(r);
    return out;
}

class Tty : public DaemonTest {
protected:
    void configure(EnvOptions& o) override {
        o.firmware["services"].push_back({{"name", "rpmsg-tty"}, {"addr", 30}, {"kind", "tty"}});
    }
    /// Starts cm4 and returns the path of its tty channel.
    std::string startTty() {
        startCm4();
        return root().waitForChannel("rpmsg-tty", "cm4", 5000);
    }
};

TEST_F(Tty, PublishedWithKindTtyAndItsTtyAsDevice) {
    const std::string tty = startTty();
    EXPECT_EQ(root().get<std::string>(tty, ChannelIface, "Kind"), "tty");
    EXPECT_EQ(root().get<std::string>(tty, ChannelIface, "Device"), "ttyRPMSG0");
    const std::string echo = root().waitForChannel("rpmsg-echo", "cm4", 5000);
    EXPECT_EQ(root().get<std::string>(echo, ChannelIface, "Kind"), "message");
    EXPECT_EQ(root().get<std::string>(echo, ChannelIface, "Device"), "virtio0.rpmsg-echo.-1.1024");
}

TEST_F(Tty, OpenHandsOutTheTtyWhichEchoes) {
    const std::string tty = startTty();
    Opened o = root().open(tty);
    ASSERT_TRUE(o.fd.valid());
    EXPECT_TRUE(isatty(o.fd.get()));
    EXPECT_EQ(fcntl(o.fd.get(), F_GETFL) & O_ACCMODE, O_RDWR);
    EXPECT_EQ(root().get<std::string>(o.endpoint, EndpointIface, "Device"), "ttyRPMSG0");
    EXPECT_EQ(echoThrough(o.fd.get(), "hello tty\n"), "hello tty\n");
    const std::string big(1200, 'b'); // several messages of the MTU, one byte stream
    EXPECT_EQ(echoThrough(o.fd.get(), big), big);
    EXPECT_EQ(root().get<uint32_t>(tty, ChannelIface, "OpenCount"), 1u);

    root().close(o.endpoint);
    Opened nb = root().open(tty, {{"nonblock", sdbus::Variant(true)}});
    EXPECT_NE(fcntl(nb.fd.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(Tty, OneHolderAtATime) {
    const std::string tty = startTty();
    Opened first = root().open(tty);
    Client other;
    const CallError busy = errorOf([&] { other.open(tty); });
    EXPECT_EQ(busy.name, err::InvalidState) << busy.str();
    EXPECT_NE(busy.message.find(root().uniqueName()), std::string::npos) << busy.message;
    const CallError addressed = errorOf([&] {
        root().open(tty, {{"local_address", sdbus::Variant(uint32_t(2000))}});
    });
    EXPECT_EQ(addressed.name, err::InvalidArgument) << addressed.str();

    root().close(first.endpoint);
    EXPECT_EQ(hungUp(first.fd.get()), "eof eio");
    Opened second = other.open(tty);
    EXPECT_EQ(echoThrough(second.fd.get(), "next"), "next");
}

TEST_F(Tty, HolderLeavingEndsTheLease) {
    const std::string tty = startTty();
    {
        Client leaving;
        Opened o = leaving.open(tty);
        EXPECT_EQ(root().get<uint32_t>(tty, ChannelIface, "Endpoints"), 1u);
    }
    EXPECT_TRUE(simtest::waitFor(
        [&] { return root().get<uint32_t>(tty, ChannelIface, "Endpoints") == 0u; }, 5s));
    Opened again = root().open(tty);
    EXPECT_EQ(echoThrough(again.fd.get(), "free"), "free");
}

TEST_F(Tty, ProcessorStopHangsTheTtyUp) {
    const std::string tty = startTty();
    Opened o = root().open(tty);
    ASSERT_EQ(echoThrough(o.fd.get(), "up"), "up");
    root().stop(cm4());
    EXPECT_EQ(readBytes(o.fd.get(), 1).substr(0, 1), "<");
    EXPECT_EQ(hungUp(o.fd.get()), "eof eio");
    EXPECT_FALSE(objectExists(tty, ChannelIface));
}

TEST_F(Tty, NobodyWithAChannelRuleEchoesAndOthersAreDenied) {
    const std::string tty = startTty();
    const std::string r = runAs(NobodyChannelUser, [&](Client& c) {
        Opened o = c.open(tty);
        return std::string(isatty(o.fd.get()) ? "tty " : "not a tty ") +
               echoThrough(o.fd.get(), "from nobody");
    });
    EXPECT_EQ(r, "tty from nobody");
    const std::string denied = runAs(NobodyStranger, [&](Client& c) {
        c.open(tty);
        return std::string("opened");
    });
    EXPECT_EQ(denied.rfind("error " + err::AccessDenied, 0), 0u) << denied;
}

} // namespace
} // namespace itest
