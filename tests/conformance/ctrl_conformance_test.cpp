// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// /dev/rpmsg_ctrlN: CREATE_EPT, DESTROY_EPT, CREATE_DEV, RELEASE_DEV, numbering and placement
// (docs/kernel-abi.md §6.1-§6.3). Eptdev numbers are relative: the kernel's numbering is the truth,
// and the firmware's rpmsg-raw channel already holds one.

#include "conformance_fixture.h"

#include <cerrno>
#include <cstring>
#include <regex>
#include <sys/ioctl.h>
#include <unistd.h>

namespace conformance {
namespace {

class Ctrl : public ConformanceTest {
protected:
    void SetUp() override {
        ConformanceTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        ctrl_ = openCtrl();
        ASSERT_TRUE(ctrl_.valid());
    }
    void TearDown() override {
        ctrl_.reset();
        ConformanceTest::TearDown();
    }

    /// Opens @p dev, DESTROY_EPT, closes; returns once the target has released it.
    void destroy(const std::string& dev) {
        {
            Fd fd = openDev(dev);
            ASSERT_TRUE(fd.valid());
            ASSERT_EQ(::ioctl(fd.get(), RPMSG_DESTROY_EPT_IOCTL), 0) << std::strerror(errno);
        }
        target().awaitReleased(dev);
    }

    Fd ctrl_;
};

TEST_F(Ctrl, CreateEptNodeAndClassEntryExistWhenIoctlReturns) {
    const std::string expect = "rpmsg" + std::to_string(lowestFreeIndex());
    rpmsg_endpoint_info info{};
    std::strcpy(info.name, "my-ept");
    info.src = RPMSG_ADDR_ANY;
    info.dst = echoAddr();
    ASSERT_EQ(::ioctl(ctrl_.get(), RPMSG_CREATE_EPT_IOCTL, &info), 0) << std::strerror(errno);
    // No waiting: both must be there the moment the ioctl returned.
    EXPECT_TRUE(exists("dev/" + expect));
    ASSERT_TRUE(exists(classRpmsg(expect)));
    EXPECT_EQ(readAttr(classRpmsg(expect, "name")), "my-ept\n");
    EXPECT_EQ(readAttr(classRpmsg(expect, "src")), "-1\n");
    EXPECT_EQ(readAttr(classRpmsg(expect, "dst")), std::to_string(echoAddr()) + "\n");
    EXPECT_TRUE(
        std::regex_match(readAttr(classRpmsg(expect, "dev")), std::regex("[0-9]+:[0-9]+\n")));
    EXPECT_NE(readAttr(classRpmsg(expect, "uevent")).find("DEVNAME=" + expect + "\n"),
              std::string::npos);
    EXPECT_EQ(mode("dev/" + expect), 0600u);
    EXPECT_TRUE(isSymlink(classRpmsg(expect)));
    EXPECT_EQ(canonical(classRpmsg(expect)), canonical(classRpmsg(ctrlName())) + "/" + expect)
        << "a CREATE_EPT eptdev sits directly inside its ctrl device";
}

TEST_F(Ctrl, CreateEptForcesNameTermination) {
    rpmsg_endpoint_info info{};
    std::memset(info.name, 'a', sizeof info.name); // no NUL at all
    info.src = RPMSG_ADDR_ANY;
    info.dst = echoAddr();
    const std::string expect = "rpmsg" + std::to_string(lowestFreeIndex());
    ASSERT_EQ(::ioctl(ctrl_.get(), RPMSG_CREATE_EPT_IOCTL, &info), 0);
    EXPECT_EQ(readAttr(classRpmsg(expect, "name")), std::string(31, 'a') + "\n");
}

TEST_F(Ctrl, ExplicitSourceAddress) {
    const auto dev = createEptDev(ctrl_.get(), "fixed", 5000, echoAddr());
    ASSERT_FALSE(dev.empty());
    EXPECT_EQ(readAttr(classRpmsg(dev, "src")), "5000\n");
    Fd fd = openDev(dev);
    ASSERT_TRUE(fd.valid());
    EXPECT_EQ(boundAddress(fd.get()), 5000);
    ASSERT_EQ(::write(fd.get(), "to5000", 6), 6);
    EXPECT_EQ(readMessage(fd.get()).data, "to5000") << "the echo answers to address 5000";
}

TEST_F(Ctrl, AnySourceIsBoundAtOpenAndClassKeepsTheRequest) {
    const auto dev = createEptDev(ctrl_.get(), "lazy", RPMSG_ADDR_ANY, echoAddr());
    ASSERT_FALSE(dev.empty());
    Fd fd = openDev(dev);
    ASSERT_TRUE(fd.valid());
    EXPECT_GE(boundAddress(fd.get()), 1024) << "ANY: the lowest free address from 1024";
    EXPECT_EQ(readAttr(classRpmsg(dev, "src")), "-1\n") << "class src is the requested address";
}

TEST_F(Ctrl, AddressInUseFailsAtOpenNotAtCreate) {
    const auto a = createEptDev(ctrl_.get(), "a", 5001, echoAddr());
    const auto b = createEptDev(ctrl_.get(), "b", 5001, echoAddr());
    ASSERT_FALSE(a.empty());
    ASSERT_FALSE(b.empty());
    Fd fa = openDev(a);
    ASSERT_TRUE(fa.valid());
    errno = 0;
    Fd fb(::open(path("dev/" + b).c_str(), O_RDWR | O_CLOEXEC));
    EXPECT_FALSE(fb.valid());
    EXPECT_EQ(errno, EINVAL);
}

TEST_F(Ctrl, AddressIsFreedAtClose) {
    const auto a = createEptDev(ctrl_.get(), "a", 5002, echoAddr());
    const auto b = createEptDev(ctrl_.get(), "b", 5002, echoAddr());
    ASSERT_FALSE(b.empty());
    {
        Fd fa = openDev(a);
        ASSERT_TRUE(fa.valid());
    }
    target().awaitReleased(a);
    Fd fb = openDev(b);
    ASSERT_TRUE(fb.valid()) << "the last close destroys the endpoint and frees 5002";
    EXPECT_EQ(boundAddress(fb.get()), 5002);
}

TEST_F(Ctrl, LowestFreeIndex) {
    std::vector<std::string> made;
    for (const char* name : {"a", "b", "c"}) {
        const int expect = lowestFreeIndex();
        made.push_back(createEptDev(ctrl_.get(), name, RPMSG_ADDR_ANY, echoAddr()));
        EXPECT_EQ(indexOf(made.back()), expect) << name;
    }
    const std::string b = made[1];
    ASSERT_FALSE(b.empty());
    ASSERT_NO_FATAL_FAILURE(destroy(b));
    EXPECT_FALSE(exists("dev/" + b));
    EXPECT_EQ(lowestFreeIndex(), indexOf(b));
    const auto d = createEptDev(ctrl_.get(), "d", RPMSG_ADDR_ANY, echoAddr());
    EXPECT_EQ(d, b) << "the freed index is reused first";
    EXPECT_EQ(readAttr(classRpmsg(d, "name")), "d\n");
}

TEST_F(Ctrl, IndexNotReusedWhileDestroyedEptdevIsOpen) {
    const auto a = createEptDev(ctrl_.get(), "a", RPMSG_ADDR_ANY, echoAddr());
    ASSERT_FALSE(a.empty());
    Fd held = openDev(a);
    ASSERT_TRUE(held.valid());
    ASSERT_EQ(::ioctl(held.get(), RPMSG_DESTROY_EPT_IOCTL), 0);
    EXPECT_FALSE(exists("dev/" + a));
    EXPECT_FALSE(exists(classRpmsg(a)));
    const int expectB = lowestFreeIndex({indexOf(a)});
    const auto b = createEptDev(ctrl_.get(), "b", RPMSG_ADDR_ANY, echoAddr());
    EXPECT_NE(b, a) << "the index is still held by an open fd";
    EXPECT_EQ(indexOf(b), expectB);
    held.reset();
    target().awaitReleased(a);
    const auto c = createEptDev(ctrl_.get(), "c", RPMSG_ADDR_ANY, echoAddr());
    EXPECT_EQ(c, a) << "released at the last close";
}

TEST_F(Ctrl, CreateEptWithNullArgumentIsEFAULT) {
    const auto before = eptdevs();
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), RPMSG_CREATE_EPT_IOCTL, nullptr), -1);
    EXPECT_EQ(errno, EFAULT);
    EXPECT_EQ(eptdevs(), before);
}

TEST_F(Ctrl, UnknownCommand) {
    rpmsg_endpoint_info info{};
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), _IOW(0xb5, 0x20, struct rpmsg_endpoint_info), &info), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), _IO(0xb5, 0x21), &info), -1);
    EXPECT_EQ(errno, EINVAL);
    // The kernel copies the argument before looking at the command (rpmsg_ctrl.c; checked on
    // 6.1, docs/kernel-abi.md §9).
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), _IO(0xb5, 0x21), nullptr), -1);
    EXPECT_EQ(errno, EFAULT);
    // DESTROY_EPT is an eptdev command, not a ctrl one.
    errno = 0;
    EXPECT_EQ(::ioctl(ctrl_.get(), RPMSG_DESTROY_EPT_IOCTL, &info), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST_F(Ctrl, ReleaseDevWithoutMatchIsEINVAL) {
    EXPECT_EQ(simtest::releaseDev(ctrl_.get(), "nope", RPMSG_ADDR_ANY, 4242), EINVAL);
    EXPECT_EQ(simtest::releaseDev(ctrl_.get(), "rpmsg-echo", RPMSG_ADDR_ANY, 4242), EINVAL);
}

TEST_F(Ctrl, CreateDevAndReleaseDev) {
    const std::string dev = channel("rpmsg-raw", echoAddr());
    ASSERT_EQ(simtest::createDev(ctrl_.get(), "rpmsg-raw", RPMSG_ADDR_ANY, echoAddr()), 0);
    EXPECT_TRUE(exists(busDev(dev))) << "the bus device exists when CREATE_DEV returns";
    // rpmsg_char binds rpmsg-raw while the device is registered.
    const auto children = list(busDev(dev, "rpmsg"));
    ASSERT_EQ(children.size(), 1u) << "rpmsg-raw is bound to rpmsg_char at once";
    const std::string ept = children[0];
    EXPECT_TRUE(exists("dev/" + ept));
    EXPECT_EQ(readAttr(busDev(dev, "announce")), "false\n");

    Fd fd = openDev(ept);
    ASSERT_TRUE(fd.valid());
    const long addr = boundAddress(fd.get());
    EXPECT_GE(addr, 1024);
    EXPECT_EQ(readAttr(busDev(dev, "src")), hexLine(addr)) << "the default endpoint's address";
    ASSERT_EQ(::write(fd.get(), "dev", 3), 3);
    EXPECT_EQ(readMessage(fd.get()).data, "dev");
    fd.reset();

    EXPECT_EQ(simtest::createDev(ctrl_.get(), "rpmsg-raw", RPMSG_ADDR_ANY, echoAddr()), ENXIO)
        << "duplicate name+src+dst";
    EXPECT_EQ(simtest::releaseDev(ctrl_.get(), "rpmsg-raw", RPMSG_ADDR_ANY, echoAddr()), 0);
    EXPECT_FALSE(exists(busDev(dev)));
    EXPECT_TRUE(waitFor([&] { return !exists("dev/" + ept); }));
    EXPECT_TRUE(exists(busDev(channel("rpmsg-raw", rawAddr())))) << "the firmware's stays";
    EXPECT_EQ(simtest::releaseDev(ctrl_.get(), "rpmsg-raw", RPMSG_ADDR_ANY, echoAddr()), EINVAL);
}

TEST_F(Ctrl, CreateDevWithSourceAnnounces) {
    const std::string dev = virtio() + ".my-local.1500." + std::to_string(echoAddr());
    ASSERT_EQ(simtest::createDev(ctrl_.get(), "my-local", 1500, echoAddr()), 0);
    EXPECT_TRUE(exists(busDev(dev)));
    EXPECT_EQ(readAttr(busDev(dev, "announce")), "true\n");
    EXPECT_EQ(readAttr(busDev(dev, "src")), "0x5dc\n");
    EXPECT_EQ(readAttr(busDev(dev, "name")), "my-local\n");
    EXPECT_EQ(simtest::releaseDev(ctrl_.get(), "my-local", 1500, echoAddr()), 0);
    EXPECT_FALSE(exists(busDev(dev)));
}

TEST_F(Ctrl, CtrlHasNoReadOrWrite) {
    EXPECT_EQ(simtest::ioErrnos(ctrl_.get()), std::make_pair(EINVAL, EINVAL));
}

TEST_F(Ctrl, CtrlOpenIsNotExclusiveAndCloseKeepsEptdevs) {
    Fd second = openCtrl();
    ASSERT_TRUE(second.valid());
    const auto dev = createEptDev(second.get(), "keep", RPMSG_ADDR_ANY, echoAddr());
    ASSERT_FALSE(dev.empty());
    second.reset();
    ctrl_.reset();
    EXPECT_TRUE(exists("dev/" + dev));
    Fd fd = openDev(dev);
    ASSERT_TRUE(fd.valid()) << "closing the ctrl device must not destroy its eptdevs";
    ASSERT_EQ(::write(fd.get(), "k", 1), 1);
    EXPECT_EQ(readMessage(fd.get()).data, "k");
}

} // namespace
} // namespace conformance
