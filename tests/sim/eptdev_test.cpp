// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// /dev/rpmsgN on the twin only: remoteproc stop, FUSE, the dump and the twin's configurable TX
// timeout (docs/kernel-abi.md §6.4, §7; sim README for ETIMEDOUT). The endpoint semantics both
// targets share are rpmsg-conformance's (tests/conformance/eptdev_conformance_test.cpp).

#include "eptdev_checks.h"
#include "sim_fixture.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace simtest {
namespace {

using Clock = std::chrono::steady_clock;

class Eptdev : public SimTest {
protected:
    void up() override {
        ASSERT_NO_FATAL_FAILURE(startEchoSim(echoSpec(), edit_));
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
        ctrl_ = openCtrl();
        ASSERT_TRUE(ctrl_.valid());
        dev_ = createEptDev(ctrl_.get(), "test", RPMSG_ADDR_ANY, 1024);
        ASSERT_EQ(dev_, "rpmsg0");
    }

    std::function<void(nlohmann::json&)> edit_;
    std::string dev_;
};

TEST_F(Eptdev, StopGivesEpipeAndPollerrAndRemovesNodes) {
    Fd fd = openDev(dev_);
    CallOutcome r;
    auto bg = background(blockingRead(fd.get(), r));
    ASSERT_TRUE(bg->waitBlockedIn(SYS_read));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    ASSERT_TRUE(bg->waitDone(3s));
    EXPECT_EQ(r.rc, -1);
    EXPECT_EQ(r.err, EPIPE);
    expectDeadEptdev(fd.get());
    EXPECT_TRUE(devNodes().empty()) << ::testing::PrintToString(devNodes());
}

TEST_F(Eptdev, BlockedReadsDoNotTieUpTheFilesystem) {
    constexpr int kReaders = 16;
    std::vector<std::string> devs = {dev_};
    for (int i = 1; i < kReaders; ++i) {
        devs.push_back(createEptDev(ctrl_.get(), "r" + std::to_string(i), RPMSG_ADDR_ANY, 1024));
        ASSERT_FALSE(devs.back().empty());
    }
    std::vector<Fd> fds;
    for (const auto& d : devs) {
        fds.push_back(openDev(d));
        ASSERT_TRUE(fds.back().valid());
    }
    std::vector<int> errs(kReaders, 0);
    std::vector<std::unique_ptr<Background>> readers;
    for (int i = 0; i < kReaders; ++i) {
        readers.push_back(background([&, i] {
            char buf[16];
            if (::read(fds[i].get(), buf, sizeof buf) < 0) {
                errs[i] = errno;
            }
        }));
    }
    for (auto& r : readers) {
        ASSERT_TRUE(r->waitBlockedIn(SYS_read));
    }
    // The filesystem must still answer while every reader waits.
    const auto t0 = Clock::now();
    EXPECT_EQ(readAttr(rproc(0, "state")), "running\n");
    EXPECT_EQ(readAttr(rproc(1, "name")), "dsp\n");
    EXPECT_LT(Clock::now() - t0, 2s);
    EXPECT_EQ(ctl({"dump"}).exitCode, 0);
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    for (int i = 0; i < kReaders; ++i) {
        ASSERT_TRUE(readers[i]->waitDone(3s)) << i;
        EXPECT_EQ(errs[i], EPIPE) << i;
    }
}

// ---- TX buffers -----------------------------------------------------------------------------

// A 2 s TX timeout: long enough for resume/signal/stop to act first, short enough to fail fast.
class TxBuffers : public Eptdev {
protected:
    void SetUp() override {
        edit_ = [](nlohmann::json& c) {
            c["tx_timeout_ms"] = 2000;
        };
        Eptdev::SetUp();
    }
};

class TxTimeout : public Eptdev {
protected:
    void SetUp() override {
        edit_ = [](nlohmann::json& c) {
            c["tx_timeout_ms"] = 300;
        };
        Eptdev::SetUp();
    }
};

// The dump's view of TX buffers a stalled remote holds (the errno side is rpmsg-conformance's
// TxBuffers.StalledRemoteGivesExactly256ThenEAGAIN).
TEST_F(TxBuffers, DumpCountsTheBuffersAStalledRemoteHolds) {
    Fd fd = openDev(dev_, O_RDWR | O_NONBLOCK);
    ctlOk({"stall", "cm4"});
    int err = 0;
    ASSERT_EQ(writeUntilFailure(fd.get(), 16, 400, err), 256);
    EXPECT_EQ(processor()["tx_buffers_in_use"], 256);
    EXPECT_EQ(processor()["stalled"], true);
    ctlOk({"resume", "cm4"});
    EXPECT_TRUE(waitFor([&] { return processor()["tx_buffers_in_use"] == 0; }));
}

TEST_F(TxTimeout, BlockingWriteTimesOutWithETIMEDOUT) {
    Fd fd = openDev(dev_);
    ctlOk({"stall", "cm4"});
    int err = 0;
    // A blocking write with a free buffer does not wait.
    ASSERT_EQ(writeUntilFailure(fd.get(), 16, 256, err), 256);
    const auto t0 = Clock::now();
    errno = 0;
    const ssize_t rc = ::write(fd.get(), "late", 4);
    const int e = errno;
    const auto elapsed = Clock::now() - t0;
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(e, ETIMEDOUT) << std::strerror(e);
    EXPECT_GE(elapsed, 300ms);
    EXPECT_LT(elapsed, 5s);
}

// A signal does not end a write waiting for a TX buffer (virtio_rpmsg_bus retries the wait),
// and stops its timeout; a freed buffer ends it. rpmsg-conformance checks the same on both
// targets.
TEST_F(TxBuffers, ASignalDoesNotEndABlockedWrite) {
    SigusrNoRestart handler;
    Fd fd = openDev(dev_);
    ctlOk({"stall", "cm4"});
    int err = 0;
    ASSERT_EQ(writeUntilFailure(fd.get(), 16, 256, err), 256);
    ssize_t rc = 0;
    int werr = 0;
    auto bg = background([&] {
        rc = ::write(fd.get(), "sig", 3);
        werr = errno;
    });
    ASSERT_TRUE(bg->waitBlockedIn(SYS_write, 1500ms));
    ASSERT_EQ(::pthread_kill(bg->handle(), SIGUSR1), 0);
    // Past the 2 s TX timeout: the signal stopped that clock.
    EXPECT_FALSE(bg->waitDone(2500ms)) << "rc " << rc << " errno " << werr;
    ctlOk({"resume", "cm4"});
    ASSERT_TRUE(bg->waitDone(3s));
    EXPECT_EQ(rc, 3) << std::strerror(werr);
}

// rpmsg_remove() wakes no writer sleeping for a TX buffer: it gives up at its own timeout (the
// kernel: -ERESTARTSYS after 15 s, errno 512; the twin: ETIMEDOUT), as the real-kernel lane
// showed (RemoteHangUp.LeavesABlockedWriterToItsTimeout). The devices go at stop.
TEST_F(TxBuffers, StopLeavesABlockedWriterToItsTimeout) {
    Fd fd = openDev(dev_);
    ctlOk({"stall", "cm4"});
    int err = 0;
    ASSERT_EQ(writeUntilFailure(fd.get(), 16, 256, err), 256);
    CallOutcome w;
    const auto t0 = Clock::now();
    auto bg = background(blockingWrite(fd.get(), "x", w));
    ASSERT_TRUE(bg->waitBlockedIn(SYS_write, 1500ms));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_FALSE(exists("dev/" + dev_));
    EXPECT_FALSE(bg->waitDone(500ms)) << "stop must not wake the writer";
    ASSERT_TRUE(bg->waitDone(5s));
    EXPECT_EQ(w.rc, -1);
    EXPECT_EQ(w.err, ETIMEDOUT) << std::strerror(w.err);
    EXPECT_GE(Clock::now() - t0, 2s);
    // The next write on the dead fd fails at once.
    EXPECT_EQ(::write(fd.get(), "y", 1), -1);
    EXPECT_EQ(errno, EPIPE);
}

class TxSink : public SimTest {};

TEST_F(TxSink, SlowSinkRunsBuffersOut) {
    nlohmann::json spec = {
        {"boot_ms", 10},
        {"services",
         {{{"name", "rpmsg-sink"}, {"addr", 1026}, {"kind", "sink"}, {"consume_every_ms", 200}}}},
    };
    ASSERT_NO_FATAL_FAILURE(startEchoSim(spec));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    Fd ctrl = openCtrl();
    const auto sink = createEptDev(ctrl.get(), "sink", RPMSG_ADDR_ANY, 1026);
    Fd fd = openDev(sink, O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(fd.valid());
    const std::string payload(32, 's');
    int ok = 0;
    int err = 0;
    for (; ok < 300; ++ok) {
        if (::write(fd.get(), payload.data(), payload.size()) != 32) {
            err = errno;
            break;
        }
    }
    EXPECT_GE(ok, 256);
    EXPECT_LE(ok, 260) << "the sink returns one buffer per 200 ms";
    EXPECT_EQ(err, EAGAIN);
    EXPECT_TRUE(waitFor([&] { return ::write(fd.get(), "more", 4) == 4; }, 2s))
        << "the sink must return buffers over time";
}

} // namespace
} // namespace simtest
