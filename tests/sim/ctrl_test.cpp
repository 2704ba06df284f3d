// /dev/rpmsg_ctrlN through real ioctl(): CREATE_EPT, DESTROY_EPT, CREATE_DEV, RELEASE_DEV,
// numbering and placement (kernel-abi.md §6.1-§6.3; sim README for the NULL-argument case).

#include "sim_fixture.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <regex>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace simtest {
namespace {

constexpr const char* kCtrlDir = "sys/devices/platform/sim-cm4/remoteproc/remoteproc0/"
                                 "rproc-virtio.0.auto/virtio0/virtio0.rpmsg_ctrl.0.0/rpmsg/"
                                 "rpmsg_ctrl0";

class Ctrl : public SimTest {
protected:
    void SetUp() override {
        SimTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        ASSERT_NO_FATAL_FAILURE(startEchoSim());
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
        ctrl_ = openCtrl();
        ASSERT_TRUE(ctrl_.valid());
    }
    void TearDown() override {
        ctrl_.reset();
        SimTest::TearDown();
    }

    /// Waits until the sim has processed the release of @p dev (FUSE sends RELEASE
    /// asynchronously after close()).
    bool waitReleased(const std::string& dev) {
        return waitFor([&] {
            const auto e = eptdevDump(dev);
            return e.is_null() || !e.value("open", false);
        });
    }

    Fd ctrl_;
};

TEST_F(Ctrl, CreateEptNodeAndClassEntryExistWhenIoctlReturns) {
    EXPECT_TRUE(listDir(path("dev")) == (std::vector<std::string>{"rpmsg_ctrl0"}))
        << ::testing::PrintToString(listDir(path("dev")));
    rpmsg_endpoint_info info{};
    std::strcpy(info.name, "my-ept");
    info.src = RPMSG_ADDR_ANY;
    info.dst = 1024;
    ASSERT_EQ(::ioctl(ctrl_.get(), RPMSG_CREATE_EPT_IOCTL, &info), 0) << std::strerror(errno);
    // No sleeps: both must be there the moment the ioctl returned.
    EXPECT_TRUE(exists("dev/rpmsg0"));
    EXPECT_TRUE(exists(classRpmsg("rpmsg0")));
    EXPECT_EQ(readAttr(classRpmsg("rpmsg0", "name")), "my-ept\n");
    EXPECT_EQ(readAttr(classRpmsg("rpmsg0", "src")), "-1\n");
    EXPECT_EQ(readAttr(classRpmsg("rpmsg0", "dst")), "1024\n");
    EXPECT_TRUE(
        std::regex_match(readAttr(classRpmsg("rpmsg0", "dev")), std::regex("[0-9]+:[0-9]+\n")));
    EXPECT_NE(readAttr(classRpmsg("rpmsg0", "uevent")).find("DEVNAME=rpmsg0\n"), std::string::npos);
    EXPECT_EQ(mode("dev/rpmsg0"), 0600u);
    EXPECT_TRUE(isSymlink(classRpmsg("rpmsg0")));
    EXPECT_EQ(resolved(classRpmsg("rpmsg0")), std::string(kCtrlDir) + "/rpmsg0")
        << "a CREATE_EPT eptdev sits directly inside its ctrl device";
}

TEST_F(Ctrl, CreateEptForcesNameTermination) {
    rpmsg_endpoint_info info{};
    std::memset(info.name, 'a', sizeof info.name); // no NUL at all
    info.src = RPMSG_ADDR_ANY;
    info.dst = 1024;
    ASSERT_EQ(::ioctl(ctrl_.get(), RPMSG_CREATE_EPT_IOCTL, &info), 0);
    EXPECT_EQ(readAttr(classRpmsg("rpmsg0", "name")), std::string(31, 'a') + "\n");
}

TEST_F(Ctrl, ExplicitSourceAddress) {
    const auto dev = createEptDev(ctrl_.get(), "fixed", 5000, 1024);
    ASSERT_EQ(dev, "rpmsg0");
    EXPECT_EQ(readAttr(classRpmsg(dev, "src")), "5000\n");
    Fd fd = openDev(dev);
    ASSERT_TRUE(fd.valid());
    EXPECT_EQ(eptdevAddr(dev), 5000);
    ASSERT_EQ(::write(fd.get(), "to5000", 6), 6);
    EXPECT_EQ(readMessage(fd.get()).data, "to5000");
}

TEST_F(Ctrl, AddressInUseFailsAtOpenNotAtCreate) {
    const auto a = createEptDev(ctrl_.get(), "a", 5001, 1024);
    const auto b = createEptDev(ctrl_.get(), "b", 5001, 1024);
    ASSERT_FALSE(a.empty());
    ASSERT_FALSE(b.empty());
    Fd fa = openDev(a);
    ASSERT_TRUE(fa.valid());
    errno = 0;
    const int fb = ::open(path("dev/" + b).c_str(), O_RDWR);
    EXPECT_EQ(fb, -1);
    EXPECT_EQ(errno, EINVAL);
    if (fb >= 0) {
        ::close(fb);
    }
}

TEST_F(Ctrl, AddressIsBoundAtOpenAndFreedAtClose) {
    const auto dev = createEptDev(ctrl_.get(), "lazy", RPMSG_ADDR_ANY, 1024);
    ASSERT_FALSE(dev.empty());
    auto e = eptdevDump(dev);
    ASSERT_TRUE(e.is_object());
    EXPECT_TRUE(e["addr"].is_null()) << e.dump();
    EXPECT_EQ(e["open"], false);
    {
        Fd fd = openDev(dev);
        ASSERT_TRUE(fd.valid());
        e = eptdevDump(dev);
        EXPECT_EQ(e["open"], true);
        ASSERT_TRUE(e["addr"].is_number_integer()) << e.dump();
        EXPECT_GE(e["addr"].get<long>(), 1024);
        EXPECT_EQ(e["src"], -1);
        EXPECT_EQ(e["dst"], 1024);
    }
    EXPECT_TRUE(waitReleased(dev));
    EXPECT_TRUE(eptdevDump(dev)["addr"].is_null());
    EXPECT_TRUE(exists("dev/" + dev)) << "a CREATE_EPT eptdev survives close";
}

TEST_F(Ctrl, LowestFreeIndex) {
    EXPECT_EQ(createEptDev(ctrl_.get(), "a", RPMSG_ADDR_ANY, 1024), "rpmsg0");
    EXPECT_EQ(createEptDev(ctrl_.get(), "b", RPMSG_ADDR_ANY, 1024), "rpmsg1");
    EXPECT_EQ(createEptDev(ctrl_.get(), "c", RPMSG_ADDR_ANY, 1024), "rpmsg2");
    {
        Fd fd = openDev("rpmsg1");
        ASSERT_TRUE(fd.valid());
        ASSERT_EQ(::ioctl(fd.get(), RPMSG_DESTROY_EPT_IOCTL), 0) << std::strerror(errno);
    }
    ASSERT_TRUE(waitReleased("rpmsg1"));
    EXPECT_EQ(createEptDev(ctrl_.get(), "d", RPMSG_ADDR_ANY, 1024), "rpmsg1");
    EXPECT_EQ(readAttr(classRpmsg("rpmsg1", "name")), "d\n");
}

TEST_F(Ctrl, IndexNotReusedWhileDestroyedEptdevIsOpen) {
    ASSERT_EQ(createEptDev(ctrl_.get(), "a", RPMSG_ADDR_ANY, 1024), "rpmsg0");
    Fd held = openDev("rpmsg0");
    ASSERT_TRUE(held.valid());
    ASSERT_EQ(::ioctl(held.get(), RPMSG_DESTROY_EPT_IOCTL), 0);
    EXPECT_FALSE(exists("dev/rpmsg0"));
    EXPECT_FALSE(exists(classRpmsg("rpmsg0")));
    EXPECT_EQ(createEptDev(ctrl_.get(), "b", RPMSG_ADDR_ANY, 1024), "rpmsg1")
        << "index 0 is still held by an open fd";
    held.reset();
    ASSERT_TRUE(waitReleased("rpmsg0"));
    EXPECT_EQ(createEptDev(ctrl_.get(), "c", RPMSG_ADDR_ANY, 1024), "rpmsg0");
}

TEST_F(Ctrl, CreateEptWithNullArgumentIsEFAULT) {
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), RPMSG_CREATE_EPT_IOCTL, nullptr), -1);
    EXPECT_EQ(errno, EFAULT);
    EXPECT_TRUE(eptdevNames(sim()).empty());
}

TEST_F(Ctrl, UnknownCommand) {
    rpmsg_endpoint_info info{};
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), _IOW(0xb5, 0x20, struct rpmsg_endpoint_info), &info), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), _IO(0xb5, 0x21), &info), -1);
    EXPECT_EQ(errno, EINVAL);
    // The kernel copies the argument before looking at the command (sim README).
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), _IO(0xb5, 0x21), nullptr), -1);
    EXPECT_EQ(errno, EFAULT);
    // DESTROY_EPT is an eptdev command, not a ctrl one.
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), RPMSG_DESTROY_EPT_IOCTL, &info), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST_F(Ctrl, ReleaseDevWithoutMatchIsEINVAL) {
    EXPECT_EQ(releaseDev(ctrl_.get(), "nope", RPMSG_ADDR_ANY, 4242), EINVAL);
    EXPECT_EQ(releaseDev(ctrl_.get(), "rpmsg-echo", RPMSG_ADDR_ANY, 4242), EINVAL);
}

TEST_F(Ctrl, CreateDevAndReleaseDev) {
    const std::string dev = "virtio0.rpmsg-raw.-1.1024";
    ASSERT_EQ(createDev(ctrl_.get(), "rpmsg-raw", RPMSG_ADDR_ANY, 1024), 0);
    EXPECT_TRUE(exists(busDev(dev))) << "the bus device exists when CREATE_DEV returns";
    const auto children = listDir(path(busDev(dev, "rpmsg")));
    ASSERT_EQ(children.size(), 1u) << "rpmsg-raw is bound to rpmsg_char at once";
    EXPECT_TRUE(exists("dev/" + children[0]));
    EXPECT_EQ(readAttr(busDev(dev, "src")), "0x400\n");

    Fd fd = openDev(children[0]);
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::write(fd.get(), "dev", 3), 3);
    EXPECT_EQ(readMessage(fd.get()).data, "dev");
    fd.reset();

    EXPECT_EQ(createDev(ctrl_.get(), "rpmsg-raw", RPMSG_ADDR_ANY, 1024), ENXIO)
        << "duplicate name+src+dst";
    EXPECT_EQ(releaseDev(ctrl_.get(), "rpmsg-raw", RPMSG_ADDR_ANY, 1024), 0);
    EXPECT_FALSE(exists(busDev(dev)));
    EXPECT_TRUE(waitFor([&] { return !exists("dev/" + children[0]); }));
    EXPECT_EQ(releaseDev(ctrl_.get(), "rpmsg-raw", RPMSG_ADDR_ANY, 1024), EINVAL);
}

TEST_F(Ctrl, CreateDevWithSourceAnnounces) {
    const std::string dev = "virtio0.my-local.1500.1024";
    ASSERT_EQ(createDev(ctrl_.get(), "my-local", 1500, 1024), 0);
    EXPECT_TRUE(exists(busDev(dev)));
    EXPECT_EQ(readAttr(busDev(dev, "announce")), "true\n");
    EXPECT_EQ(readAttr(busDev(dev, "src")), "0x5dc\n");
    EXPECT_EQ(releaseDev(ctrl_.get(), "my-local", 1500, 1024), 0);
    EXPECT_FALSE(exists(busDev(dev)));
}

TEST_F(Ctrl, CtrlHasNoReadOrWrite) {
    char buf[8];
    errno = 0;
    EXPECT_EQ(::read(ctrl_.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(::write(ctrl_.get(), "x", 1), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST_F(Ctrl, CtrlOpenIsNotExclusiveAndCloseKeepsEptdevs) {
    Fd second = openCtrl();
    ASSERT_TRUE(second.valid());
    const auto dev = createEptDev(second.get(), "keep", RPMSG_ADDR_ANY, 1024);
    ASSERT_FALSE(dev.empty());
    second.reset();
    ctrl_.reset();
    // FUSE queues RELEASE before close() returns, so the sim sees it before the open below.
    Fd fd = openDev(dev);
    ASSERT_TRUE(fd.valid()) << "closing the ctrl device must not destroy its eptdevs";
    ASSERT_EQ(::write(fd.get(), "k", 1), 1);
    EXPECT_EQ(readMessage(fd.get()).data, "k");
}

TEST_F(Ctrl, EptdevsAreRemovedWhenCtrlDeviceGoes) {
    const auto a = createEptDev(ctrl_.get(), "a", RPMSG_ADDR_ANY, 1024);
    const auto b = createEptDev(ctrl_.get(), "b", RPMSG_ADDR_ANY, 1024);
    ctrl_.reset();
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_FALSE(exists("dev/" + a));
    EXPECT_FALSE(exists("dev/" + b));
    EXPECT_FALSE(exists("dev/rpmsg_ctrl0"));
    const auto d = dump();
    EXPECT_TRUE(d["eptdevs"].empty()) << d["eptdevs"].dump();
}

} // namespace
} // namespace simtest
