// /dev/rpmsgN endpoint semantics and TX buffer exhaustion (kernel-abi.md §6.4, §7;
// simulator.md "/dev/rpmsgN"; sim README for ETIMEDOUT and SET_INCOMING_FLOWCONTROL).

#include "sim_fixture.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace simtest {
namespace {

using Clock = std::chrono::steady_clock;

class Eptdev : public SimTest {
protected:
    void SetUp() override {
        SimTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        ASSERT_NO_FATAL_FAILURE(startEchoSim(echoSpec(), edit_));
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
        ctrl_ = openCtrl();
        ASSERT_TRUE(ctrl_.valid());
        dev_ = createEptDev(ctrl_.get(), "test", RPMSG_ADDR_ANY, 1024);
        ASSERT_EQ(dev_, "rpmsg0");
    }
    void TearDown() override {
        ctrl_.reset();
        SimTest::TearDown();
    }

    /// Writes @p size-byte messages until one fails (at most @p max); returns how many succeeded
    /// and the errno of the failure in @p err (0 if none failed).
    static int writeUntilFailure(int fd, size_t size, int max, int& err) {
        const std::string payload(size, 'b');
        err = 0;
        for (int i = 0; i < max; ++i) {
            if (::write(fd, payload.data(), payload.size()) != static_cast<ssize_t>(size)) {
                err = errno;
                return i;
            }
        }
        return max;
    }

    std::function<void(nlohmann::json&)> edit_;
    Fd ctrl_;
    std::string dev_;
};

TEST_F(Eptdev, SecondOpenIsEBUSY) {
    Fd first = openDev(dev_);
    ASSERT_TRUE(first.valid());
    errno = 0;
    const int second = ::open(path("dev/" + dev_).c_str(), O_RDWR);
    EXPECT_EQ(second, -1);
    EXPECT_EQ(errno, EBUSY);
    if (second >= 0) {
        ::close(second);
    }
}

TEST_F(Eptdev, WriteLimitIs496Bytes) {
    Fd fd = openDev(dev_);
    std::string big(496, '\0');
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>(i * 7);
    }
    EXPECT_EQ(::write(fd.get(), big.data(), big.size()), 496);
    EXPECT_EQ(readMessage(fd.get()).data, big);
    const std::string tooBig(497, 'x');
    errno = 0;
    EXPECT_EQ(::write(fd.get(), tooBig.data(), tooBig.size()), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    const std::string page(4096, 'x');
    errno = 0;
    EXPECT_EQ(::write(fd.get(), page.data(), page.size()), -1);
    EXPECT_EQ(errno, EMSGSIZE);
}

TEST_F(Eptdev, EchoRoundTripKeepsEveryByte) {
    Fd fd = openDev(dev_);
    std::string payload;
    for (int i = 0; i < 256; ++i) {
        payload.push_back(static_cast<char>(i));
    }
    ASSERT_EQ(::write(fd.get(), payload.data(), payload.size()), 256);
    const auto m = readMessage(fd.get());
    EXPECT_EQ(m.err, 0);
    EXPECT_EQ(m.data, payload);
    const auto d = dump();
    EXPECT_GE(d["stats"]["messages_to_remote"].get<long>(), 1);
    EXPECT_GE(d["stats"]["messages_to_linux"].get<long>(), 1);
}

TEST_F(Eptdev, OneMessagePerRead) {
    Fd fd = openDev(dev_);
    for (const char* m : {"a", "bb", "ccc"}) {
        ASSERT_EQ(::write(fd.get(), m, std::strlen(m)), static_cast<ssize_t>(std::strlen(m)));
    }
    ASSERT_TRUE(waitFor([&] { return eptdevDump(dev_).value("queued", 0) == 3; }))
        << eptdevDump(dev_).dump();
    for (const char* m : {"a", "bb", "ccc"}) {
        EXPECT_EQ(readMessage(fd.get(), 4096).data, m);
    }
}

TEST_F(Eptdev, ShortReadTruncatesAndDropsTheRest) {
    Fd fd = openDev(dev_, O_RDWR | O_NONBLOCK);
    std::string payload(100, '\0');
    for (size_t i = 0; i < payload.size(); ++i) {
        payload[i] = static_cast<char>('A' + i % 26);
    }
    ASSERT_EQ(::write(fd.get(), payload.data(), payload.size()), 100);
    const auto m = readMessage(fd.get(), 10);
    EXPECT_EQ(m.data, payload.substr(0, 10));
    char buf[512];
    errno = 0;
    EXPECT_EQ(::read(fd.get(), buf, sizeof buf), -1) << "the rest of the message must be gone";
    EXPECT_EQ(errno, EAGAIN);
}

// The kernel's read_iter runs for a 0-byte read and drops one message (kernel-abi.md §6.4).
// FUSE never forwards a 0-byte read to the filesystem (fs/fuse/file.c fuse_direct_io loops
// `while (count)`), so the sim cannot see it: the call returns 0 and the message stays queued.
// This is a documented difference of the sim, not kernel behaviour.
TEST_F(Eptdev, ZeroLengthReadReturnsZero) {
    Fd fd = openDev(dev_, O_RDWR | O_NONBLOCK);
    ASSERT_EQ(::write(fd.get(), "x", 1), 1);
    pollfd p{fd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    char buf[16];
    EXPECT_EQ(::read(fd.get(), buf, 0), 0);
    EXPECT_EQ(::read(fd.get(), buf, sizeof buf), 1) << "FUSE: the 0-byte read never arrived";
}

TEST_F(Eptdev, NonblockingReadOnEmptyQueueIsEAGAIN) {
    Fd fd = openDev(dev_, O_RDWR | O_NONBLOCK);
    char buf[16];
    errno = 0;
    EXPECT_EQ(::read(fd.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EAGAIN);
}

TEST_F(Eptdev, WriteToDestinationAnyIsEINVAL) {
    const auto any = createEptDev(ctrl_.get(), "any", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
    ASSERT_FALSE(any.empty());
    EXPECT_EQ(readAttr(classRpmsg(any, "dst")), "-1\n");
    Fd fd = openDev(any);
    ASSERT_TRUE(fd.valid());
    errno = 0;
    EXPECT_EQ(::write(fd.get(), "x", 1), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST_F(Eptdev, PollReportsPollinOnlyWhenQueuedAndNeverPollout) {
    Fd fd = openDev(dev_, O_RDWR | O_NONBLOCK);
    pollfd p{fd.get(), POLLIN | POLLOUT | POLLWRNORM, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0);
    EXPECT_EQ(p.revents, 0);
    ASSERT_EQ(::write(fd.get(), "x", 1), 1);
    p.revents = 0;
    EXPECT_EQ(::poll(&p, 1, 5000), 1);
    EXPECT_EQ(p.revents, POLLIN);
    char buf[8];
    ASSERT_EQ(::read(fd.get(), buf, sizeof buf), 1);
    p.revents = 0;
    EXPECT_EQ(::poll(&p, 1, 0), 0);
    EXPECT_EQ(p.revents, 0);
}

TEST_F(Eptdev, PollWakesWhenAMessageArrives) {
    Fd fd = openDev(dev_);
    const long addr = eptdevAddr(dev_);
    ASSERT_GE(addr, 1024);
    int rc = -2;
    short revents = 0;
    auto bg = background([&] {
        pollfd p{fd.get(), POLLIN, 0};
        const timespec ts{10, 0};
        rc = ::ppoll(&p, 1, &ts, nullptr);
        revents = p.revents;
    });
    ASSERT_TRUE(bg->waitBlockedIn(SYS_ppoll));
    ctlOk({"send", "cm4", "1024", std::to_string(addr), "wake"});
    ASSERT_TRUE(bg->waitDone(3s)) << "poll was not woken by the arriving message";
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(revents, POLLIN);
    EXPECT_EQ(readMessage(fd.get()).data, "wake");
}

TEST_F(Eptdev, DestroyEptLeavesADeadFd) {
    Fd fd = openDev(dev_);
    ASSERT_EQ(::ioctl(fd.get(), RPMSG_DESTROY_EPT_IOCTL), 0) << std::strerror(errno);
    EXPECT_FALSE(exists("dev/" + dev_));
    EXPECT_FALSE(exists(classRpmsg(dev_)));
    char buf[8];
    errno = 0;
    EXPECT_EQ(::read(fd.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EPIPE);
    errno = 0;
    EXPECT_EQ(::write(fd.get(), "x", 1), -1);
    EXPECT_EQ(errno, EPIPE);
    pollfd p{fd.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLERR);
}

TEST_F(Eptdev, DestroyEptWakesABlockedReader) {
    Fd fd = openDev(dev_);
    ssize_t rc = 0;
    int err = 0;
    auto bg = background([&] {
        char buf[64];
        rc = ::read(fd.get(), buf, sizeof buf);
        err = errno;
    });
    ASSERT_TRUE(bg->waitBlockedIn(SYS_read));
    ASSERT_EQ(::ioctl(fd.get(), RPMSG_DESTROY_EPT_IOCTL), 0);
    ASSERT_TRUE(bg->waitDone(3s));
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(err, EPIPE);
}

TEST_F(Eptdev, CreateEptEptdevSurvivesCloseAndReopens) {
    {
        Fd fd = openDev(dev_);
        ASSERT_EQ(::write(fd.get(), "one", 3), 3);
        EXPECT_EQ(readMessage(fd.get()).data, "one");
    }
    EXPECT_TRUE(exists("dev/" + dev_));
    Fd again;
    ASSERT_TRUE(waitFor([&] {
        again.reset(::open(path("dev/" + dev_).c_str(), O_RDWR | O_CLOEXEC));
        return again.valid();
    })) << std::strerror(errno);
    ASSERT_EQ(::write(again.get(), "two", 3), 3);
    EXPECT_EQ(readMessage(again.get()).data, "two");
}

TEST_F(Eptdev, QueueIsPurgedAtCloseAndClosedEptdevDropsMessages) {
    long addr = -1;
    {
        Fd fd = openDev(dev_);
        addr = eptdevAddr(dev_);
        ASSERT_EQ(::write(fd.get(), "stale", 5), 5);
        ASSERT_TRUE(waitFor([&] { return eptdevDump(dev_).value("queued", 0) == 1; }));
    }
    ASSERT_TRUE(waitFor([&] { return !eptdevDump(dev_).value("open", true); }));
    const long droppedBefore = dump()["stats"]["dropped"].get<long>();
    ctlOk({"send", "cm4", "1024", std::to_string(addr), "nobody-home"});
    EXPECT_TRUE(
        waitFor([&] { return dump()["stats"]["dropped"].get<long>() == droppedBefore + 1; }));
    Fd fd = openDev(dev_, O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(fd.valid());
    char buf[32];
    errno = 0;
    EXPECT_EQ(::read(fd.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EAGAIN);
}

TEST_F(Eptdev, BlockedReadWakesWithMessageFromCtlSend) {
    Fd fd = openDev(dev_);
    const long addr = eptdevAddr(dev_);
    ASSERT_GE(addr, 1024);
    std::string got;
    ssize_t rc = 0;
    auto bg = background([&] {
        char buf[64];
        rc = ::read(fd.get(), buf, sizeof buf);
        if (rc > 0) {
            got.assign(buf, static_cast<size_t>(rc));
        }
    });
    ASSERT_TRUE(bg->waitBlockedIn(SYS_read));
    ctlOk({"send", "cm4", "1024", std::to_string(addr), "hello"});
    ASSERT_TRUE(bg->waitDone(3s));
    EXPECT_EQ(rc, 5);
    EXPECT_EQ(got, "hello");
}

TEST_F(Eptdev, BlockedReadIsInterruptedBySignal) {
    SigusrNoRestart handler;
    Fd fd = openDev(dev_);
    ssize_t rc = 0;
    int err = 0;
    auto bg = background([&] {
        char buf[64];
        rc = ::read(fd.get(), buf, sizeof buf);
        err = errno;
    });
    ASSERT_TRUE(bg->waitBlockedIn(SYS_read));
    ASSERT_EQ(::pthread_kill(bg->handle(), SIGUSR1), 0);
    ASSERT_TRUE(bg->waitDone(3s)) << "read did not return after a signal";
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(err, EINTR);
    // The endpoint still works afterwards.
    ASSERT_EQ(::write(fd.get(), "after", 5), 5);
    EXPECT_EQ(readMessage(fd.get()).data, "after");
}

TEST_F(Eptdev, StopGivesEpipeAndPollerrAndRemovesNodes) {
    Fd fd = openDev(dev_);
    ssize_t rc = 0;
    int err = 0;
    auto bg = background([&] {
        char buf[64];
        rc = ::read(fd.get(), buf, sizeof buf);
        err = errno;
    });
    ASSERT_TRUE(bg->waitBlockedIn(SYS_read));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    ASSERT_TRUE(bg->waitDone(3s));
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(err, EPIPE);
    errno = 0;
    EXPECT_EQ(::write(fd.get(), "x", 1), -1);
    EXPECT_EQ(errno, EPIPE);
    pollfd p{fd.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLERR);
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

TEST_F(Eptdev, FlowControlIoctls) {
    Fd fd = openDev(dev_);
    int flow = -1;
    ASSERT_EQ(::ioctl(fd.get(), RPMSG_GET_OUTGOING_FLOWCONTROL, &flow), 0) << std::strerror(errno);
    EXPECT_EQ(flow, 0);
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), RPMSG_SET_INCOMING_FLOWCONTROL, 2UL), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), RPMSG_SET_INCOMING_FLOWCONTROL, 1UL), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), RPMSG_SET_INCOMING_FLOWCONTROL, 0UL), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    int dummy = 0;
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), _IOR(0xb5, 0x30, int), &dummy), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), RPMSG_CREATE_EPT_IOCTL, &dummy), -1) << "a ctrl-only command";
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

TEST_F(TxBuffers, StalledRemoteGivesExactly256ThenEAGAIN) {
    Fd fd = openDev(dev_, O_RDWR | O_NONBLOCK);
    ctlOk({"stall", "cm4"});
    int err = 0;
    EXPECT_EQ(writeUntilFailure(fd.get(), 16, 400, err), 256);
    EXPECT_EQ(err, EAGAIN);
    EXPECT_EQ(processor()["tx_buffers_in_use"], 256);
    EXPECT_EQ(processor()["stalled"], true);
    ctlOk({"resume", "cm4"});
    EXPECT_TRUE(waitFor([&] { return ::write(fd.get(), "again", 5) == 5; }))
        << "writes must work again after resume: " << std::strerror(errno);
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

TEST_F(TxBuffers, BlockedWriteCompletesOnResume) {
    Fd fd = openDev(dev_);
    ctlOk({"stall", "cm4"});
    int err = 0;
    ASSERT_EQ(writeUntilFailure(fd.get(), 16, 256, err), 256);
    ssize_t rc = 0;
    int werr = 0;
    auto bg = background([&] {
        rc = ::write(fd.get(), "waiting", 7);
        werr = errno;
    });
    ASSERT_TRUE(bg->waitBlockedIn(SYS_write));
    ctlOk({"resume", "cm4"});
    ASSERT_TRUE(bg->waitDone(3s));
    EXPECT_EQ(rc, 7) << std::strerror(werr);
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

TEST_F(TxBuffers, FcntlNonblockIsHonouredPerCall) {
    Fd fd = openDev(dev_);
    ctlOk({"stall", "cm4"});
    int err = 0;
    ASSERT_EQ(writeUntilFailure(fd.get(), 16, 256, err), 256);
    ASSERT_EQ(::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK), 0);
    const auto t0 = Clock::now();
    errno = 0;
    EXPECT_EQ(::write(fd.get(), "nb", 2), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_LT(Clock::now() - t0, 250ms);
}

// rpmsg_remove() wakes no writer sleeping for a TX buffer: it gives up at its own timeout (the
// kernel: -ERESTARTSYS after 15 s, errno 512; the twin: ETIMEDOUT), as the real-kernel lane
// showed (RemoteHangUp.LeavesABlockedWriterToItsTimeout). The devices go at stop.
TEST_F(TxBuffers, StopLeavesABlockedWriterToItsTimeout) {
    Fd fd = openDev(dev_);
    ctlOk({"stall", "cm4"});
    int err = 0;
    ASSERT_EQ(writeUntilFailure(fd.get(), 16, 256, err), 256);
    ssize_t rc = 0;
    int werr = 0;
    const auto t0 = Clock::now();
    auto bg = background([&] {
        rc = ::write(fd.get(), "x", 1);
        werr = errno;
    });
    ASSERT_TRUE(bg->waitBlockedIn(SYS_write, 1500ms));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_FALSE(exists("dev/" + dev_));
    EXPECT_FALSE(bg->waitDone(500ms)) << "stop must not wake the writer";
    ASSERT_TRUE(bg->waitDone(5s));
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(werr, ETIMEDOUT) << std::strerror(werr);
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
