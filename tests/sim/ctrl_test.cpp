// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// /dev/rpmsg_ctrlN on the twin only: what the dump shows of an eptdev's address, and the
// eptdevs going with the remoteproc (docs/kernel-abi.md §6.1-§6.3). The ioctls, numbering and
// placement both targets share are rpmsg-conformance's (ctrl_conformance_test.cpp).

#include "sim_fixture.h"

namespace simtest {
namespace {

class Ctrl : public SimTest {
protected:
    void up() override {
        ASSERT_NO_FATAL_FAILURE(startEchoSim());
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
        ctrl_ = openCtrl();
        ASSERT_TRUE(ctrl_.valid());
    }

    /// Waits until the sim has processed the release of @p dev (FUSE sends RELEASE
    /// asynchronously after close()).
    bool waitReleased(const std::string& dev) {
        return waitFor([&] {
            const auto e = eptdevDump(dev);
            return e.is_null() || !e.value("open", false);
        });
    }
};

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
