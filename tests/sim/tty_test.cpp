// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The twin's rpmsg_tty (drivers/tty/rpmsg_tty.c; sim/README.md): a channel named rpmsg-tty is
// bound to rpmsg_tty, not rpmsg_chrdev, and becomes /dev/ttyRPMSGn, a real tty whose bytes
// reach the remote's tty service (which echoes them); the channel's removal hangs the tty up.

#include "eptdev_checks.h"
#include "sim_fixture.h"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

namespace simtest {
namespace {

constexpr const char* TtyChannel = "virtio0.rpmsg-tty.-1.30";

nlohmann::json ttySpec() {
    nlohmann::json spec = echoSpec();
    spec["services"].push_back({{"name", "rpmsg-tty"}, {"addr", 30}, {"kind", "tty"}});
    return spec;
}

/// Reads until @p want bytes came or 5 s passed without any.
std::string readBytes(int fd, size_t want) {
    std::string got;
    while (got.size() < want) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) {
            break;
        }
        char buf[256];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        got.append(buf, size_t(n));
    }
    return got;
}

class Tty : public SimTest {
protected:
    void up() override {
        ASSERT_NO_FATAL_FAILURE(startEchoSim(ttySpec(), edit_, kernel_));
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
        ASSERT_TRUE(waitFor([&] { return exists(busDev(TtyChannel)); }));
    }
    std::function<void(nlohmann::json&)> edit_;
    std::string kernel_;
};

TEST_F(Tty, RpmsgTtyBindsTheChannelAndRegistersTtyRpmsg0) {
    EXPECT_EQ(readAttr(busDev(TtyChannel, "name")), "rpmsg-tty\n");
    EXPECT_EQ(readAttr(busDev(TtyChannel, "modalias")), "rpmsg:rpmsg-tty\n");
    EXPECT_EQ(readAttr(busDev(TtyChannel, "driver_override")), "(null)\n");
    EXPECT_EQ(resolved(busDev(TtyChannel, "driver")), "sys/bus/rpmsg/drivers/rpmsg_tty");
    // The tty class device below the channel, as tty_port_register_device() makes it.
    const std::string tty = busDev(TtyChannel, "tty/ttyRPMSG0");
    ASSERT_TRUE(isDir(tty));
    EXPECT_EQ(readAttr(tty + "/dev").back(), '\n');
    EXPECT_NE(readAttr(tty + "/uevent").find("DEVNAME=ttyRPMSG0\n"), std::string::npos);
    EXPECT_TRUE(isSymlink("sys/class/tty/ttyRPMSG0"));
    // rpmsg_char does not bind it: no /dev/rpmsgN for the channel.
    EXPECT_EQ(devNodes(), std::vector<std::string>{"rpmsg_ctrl0"});
    EXPECT_FALSE(exists(busDev(TtyChannel, "rpmsg")));
    // Its /dev node opens a real tty, in the driver's termios (no echo, not canonical).
    Fd fd = openDev("ttyRPMSG0", O_RDWR | O_NOCTTY);
    ASSERT_TRUE(fd.valid()) << strerror(errno);
    EXPECT_TRUE(isatty(fd.get()));
    termios t{};
    ASSERT_EQ(tcgetattr(fd.get(), &t), 0);
    EXPECT_EQ(t.c_lflag & (ECHO | ICANON), 0u);
    EXPECT_EQ(t.c_oflag & OPOST, 0u);
}

TEST_F(Tty, BytesWrittenComeBackFromTheRemote) {
    Fd fd = openDev("ttyRPMSG0", O_RDWR | O_NOCTTY);
    ASSERT_TRUE(fd.valid()) << strerror(errno);
    const std::string text = "hello tty\n";
    ASSERT_EQ(::write(fd.get(), text.data(), text.size()), ssize_t(text.size()));
    EXPECT_EQ(readBytes(fd.get(), text.size()), text);
    // More than one message's worth (the MTU is 496): split, and all of it comes back.
    std::string big(1500, 'x');
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = char('a' + i % 26);
    }
    ASSERT_EQ(::write(fd.get(), big.data(), big.size()), ssize_t(big.size()));
    EXPECT_EQ(readBytes(fd.get(), big.size()), big);
}

TEST_F(Tty, StopHangsTheTtyUpAndRemovesIt) {
    Fd fd = openDev("ttyRPMSG0", O_RDWR | O_NOCTTY);
    ASSERT_TRUE(fd.valid()) << strerror(errno);
    CallOutcome r;
    auto bg = background([&] {
        char c;
        r.rc = ::read(fd.get(), &c, 1);
        r.err = errno;
    });
    ASSERT_TRUE(bg->waitBlockedIn(SYS_read));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    ASSERT_TRUE(bg->waitDone(3s));
    // A hung-up tty reads end of file (or EIO) and refuses writes.
    EXPECT_TRUE(r.rc == 0 || (r.rc == -1 && r.err == EIO)) << r.rc << " " << r.err;
    EXPECT_EQ(::write(fd.get(), "x", 1), -1);
    EXPECT_EQ(errno, EIO);
    EXPECT_FALSE(exists("dev/ttyRPMSG0"));
    EXPECT_FALSE(exists("sys/class/tty/ttyRPMSG0"));
    // The next boot registers it again, with the index the idr gives back.
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    ASSERT_TRUE(waitFor([&] { return exists("dev/ttyRPMSG0"); }));
    Fd again = openDev("ttyRPMSG0", O_RDWR | O_NOCTTY);
    ASSERT_TRUE(again.valid()) << strerror(errno);
    ASSERT_EQ(::write(again.get(), "ok", 2), 2);
    EXPECT_EQ(readBytes(again.get(), 2), "ok");
}

TEST_F(Tty, HangupByAHolderLeavesTheTtyUsable) {
    // rpmsgd hangs the tty up when a lease ends; the next holder must get a working tty.
    Fd first = openDev("ttyRPMSG0", O_RDWR | O_NOCTTY);
    ASSERT_TRUE(first.valid());
    ASSERT_EQ(ioctl(first.get(), TIOCVHANGUP), 0) << strerror(errno);
    EXPECT_EQ(::write(first.get(), "x", 1), -1);
    Fd second;
    ASSERT_TRUE(waitFor([&] {
        second = Fd(::open(path("dev/ttyRPMSG0").c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
        return second.valid() && ::write(second.get(), "y", 1) == 1;
    }));
    EXPECT_EQ(readBytes(second.get(), 1), "y");
}

class TtyOn515 : public Tty {
protected:
    void up() override {
        kernel_ = "5.15";
        ASSERT_NO_FATAL_FAILURE(Tty::up());
    }
};

TEST_F(TtyOn515, NoRpmsgTtyBeforeLinux516) {
    EXPECT_FALSE(exists(busDev(TtyChannel, "driver")));
    EXPECT_FALSE(exists(busDev(TtyChannel, "tty")));
    EXPECT_FALSE(exists("dev/ttyRPMSG0"));
}

} // namespace
} // namespace simtest
