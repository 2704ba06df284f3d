// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The remote hangs up: the transport goes, and with it the virtio device, every rpmsg device
// and /dev node; open fds get EPIPE and POLLERR, blocked calls wake (docs/kernel-abi.md §6.4
// "Remote goes away"; docs/real-kernel-lane.md §3 "Hang-up"). The suite is named RemoteHangUp:
// afterwards the target has no remote any more, and a runner may treat these tests specially.

#include "conformance_fixture.h"

#include <cerrno>
#include <cstring>
#include <sys/syscall.h>
#include <unistd.h>

namespace conformance {
namespace {

using Clock = std::chrono::steady_clock;

class RemoteHangUp : public ConformanceTest {
protected:
    bool everythingGone() {
        return list("sys/bus/rpmsg/devices").empty() && list("sys/class/rpmsg").empty() &&
               devNodes().empty();
    }
};

TEST_F(RemoteHangUp, RemovesEveryDeviceAndGivesEPIPE) {
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "h", RPMSG_ADDR_ANY, echoAddr());
    Fd ept = openDev(dev);
    ASSERT_TRUE(ept.valid());
    const auto raw = rawEptdev();
    Fd rawFd = openDev(raw);
    ASSERT_TRUE(rawFd.valid());

    remoteOk({"hangup"});
    EXPECT_TRUE(waitFor([&] { return everythingGone(); }, 10s))
        << "left: " << ::testing::PrintToString(list("sys/bus/rpmsg/devices")) << " "
        << ::testing::PrintToString(list("sys/class/rpmsg")) << " "
        << ::testing::PrintToString(devNodes());
    EXPECT_FALSE(exists("sys/bus/virtio/devices/" + virtio()));
    expectDeadEptdev(ept.get(), "CREATE_EPT eptdev " + dev);
    expectDeadEptdev(rawFd.get(), "rpmsg-raw eptdev " + raw);
}

TEST_F(RemoteHangUp, WakesABlockedReader) {
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "r", RPMSG_ADDR_ANY, echoAddr());
    Fd fd = openDev(dev);
    ASSERT_TRUE(fd.valid());
    CallOutcome r;
    auto bg = background(blockingRead(fd.get(), r));
    ASSERT_TRUE(bg->waitBlockedIn(SYS_read));
    remoteOk({"hangup"});
    ASSERT_TRUE(bg->waitDone(10s)) << "the reader was not woken";
    EXPECT_EQ(r.rc, -1);
    EXPECT_EQ(r.err, EPIPE) << std::strerror(r.err);
}

// Linux 6.1 (seen in the lane): rpmsg_remove() wakes no writer sleeping for a TX buffer, and the
// dead virtqueue returns none, so the writer gives up at its own 15 s timeout with -ERESTARTSYS
// (errno 512; the twin's stand-in is ETIMEDOUT). It holds the eptdev's ept_lock all along, so
// the kernel removes the devices only then (the twin at once: a documented quirk).
TEST_F(RemoteHangUp, LeavesABlockedWriterToItsTimeout) {
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "w", RPMSG_ADDR_ANY, sinkAddr());
    Fd fd = openDev(dev);
    ASSERT_TRUE(fd.valid());
    remoteOk({"stall"});
    int err = 0;
    ASSERT_EQ(writeUntilFailure(fd.get(), 16, 256, err), 256) << std::strerror(err);
    CallOutcome w;
    const auto t0 = Clock::now();
    auto bg = background(blockingWrite(fd.get(), "x", w));
    ASSERT_TRUE(bg->waitBlockedIn(SYS_write));
    remoteOk({"hangup"});
    if (target().has(Quirk::RemovalDoesNotWaitForABlockedWriter)) {
        EXPECT_TRUE(waitFor([&] { return everythingGone(); }, 10s));
    }
    EXPECT_FALSE(bg->waitDone(2s)) << "the hang-up woke the writer (errno " << w.err << ")";
    ASSERT_TRUE(bg->waitDone(20s)) << "the writer never gave up";
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    EXPECT_EQ(w.rc, -1);
    const int expected = target().has(Quirk::TxTimeoutIsETIMEDOUT) ? ETIMEDOUT : 512;
    EXPECT_EQ(w.err, expected) << "errno " << w.err << " (" << std::strerror(w.err) << ") after "
                               << ms << " ms";
    EXPECT_GE(ms, 14000) << "the TX timeout is 15 s";
    EXPECT_TRUE(waitFor([&] { return everythingGone(); }, 10s));
    // The fd is dead now.
    EXPECT_EQ(::write(fd.get(), "y", 1), -1);
    EXPECT_EQ(errno, EPIPE);
}

} // namespace
} // namespace conformance
