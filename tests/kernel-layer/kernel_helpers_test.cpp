// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Kernel-layer cases that need no simulator: parsing helpers, error messages, and tolerance of
// a sysfs tree with half-removed devices, built by hand in a temporary directory.

#include "daemon/kernel/endpoint.h"
#include "daemon/kernel/error.h"
#include "daemon/kernel/firmware.h"
#include "daemon/kernel/remoteproc.h"
#include "daemon/kernel/rpmsg_bus.h"
#include "daemon/kernel/sysfs.h"
#include "sim_harness.h"

#include <cerrno>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace kerneltest {
namespace {

namespace fs = std::filesystem;
using namespace rpmsgd::kernel;

TEST(KernelHelpers, ParseAddressReadsBusHexAndClassDecimalForms) {
    EXPECT_EQ(detail::parseAddress("0x400\n"), 1024u);
    EXPECT_EQ(detail::parseAddress("0xffffffff\n"), AddrAny);
    EXPECT_EQ(detail::parseAddress("-1\n"), AddrAny);
    EXPECT_EQ(detail::parseAddress("80\n"), 80u);
    EXPECT_EQ(detail::parseAddress("-2147483648"), 0x80000000u);
    EXPECT_FALSE(detail::parseAddress(""));
    EXPECT_FALSE(detail::parseAddress("0x"));
    EXPECT_FALSE(detail::parseAddress("0x100000000"));
    EXPECT_FALSE(detail::parseAddress("12abc"));
    EXPECT_FALSE(detail::parseAddress("(null)"));
}

TEST(KernelHelpers, NaturalSortOrdersByIndex) {
    std::vector<std::string> v = {"remoteproc10", "remoteproc2", "remoteproc1", "remoteproc0"};
    detail::naturalSort(v);
    EXPECT_EQ(
        v, (std::vector<std::string>{"remoteproc0", "remoteproc1", "remoteproc2", "remoteproc10"}));
}

TEST(KernelHelpers, ProcessorFromPathFindsTheOwningRemoteproc) {
    EXPECT_EQ(processorFromPath("/sys/devices/platform/sim-cm4/remoteproc/remoteproc3/"
                                "rproc-virtio.0.auto/virtio0/virtio0.rpmsg-echo.-1.1024"),
              "remoteproc3");
    EXPECT_EQ(processorFromPath("/sys/devices/platform/x/remoteproc/remoteproc12/"
                                "remoteproc12#vdev0buffer/virtio1/virtio1.rpmsg_chrdev.0.0"),
              "remoteproc12");
    EXPECT_EQ(processorFromPath("/sys/devices/vhost/virtio0/virtio0.rpmsg-echo.-1.1024"), "");
    EXPECT_EQ(processorFromPath("/sys/devices/platform/remoteproc/remoteprocX/virtio0"), "");
}

TEST(KernelHelpers, KernelErrorMessageAndErrno) {
    const KernelError e("write 'start' to remoteproc0/state", ENOENT);
    EXPECT_STREQ(e.what(),
                 "write 'start' to remoteproc0/state: No such file or directory (ENOENT)");
    EXPECT_EQ(e.error(), ENOENT);
    EXPECT_EQ(e.code(), rpmsgd::ErrorCode::KernelError);
}

// A hand-built sysfs: remoteproc0 (a pre-5.10 kernel without recovery/coredump), remoteproc1
// half-removed (dangling class link), remoteproc10; a vhost virtio transport without a
// remoteproc, a GLINK-like transport with dots in its name, a dangling bus device.
class FakeSysfs : public ::testing::Test {
protected:
    void SetUp() override {
        tmp_ = std::make_unique<simtest::TempDir>("rpmsgd-fake-sysfs");
        root_ = tmp_->path();
        paths_.sysfs = root_ + "/sys";
        paths_.dev = root_ + "/dev";
        paths_.debugfs = root_ + "/debug";
        paths_.firmware = root_ + "/firmware";
        const std::string rp = "devices/platform/soc/m4/remoteproc/";
        proc(rp + "remoteproc0",
             {{"state", "running\n"}, {"name", "m4\n"}, {"firmware", "a.elf\n"}});
        proc(rp + "remoteproc10", {{"state", "offline\n"},
                                   {"name", "dsp\n"},
                                   {"firmware", "b.elf\n"},
                                   {"recovery", "disabled\n"},
                                   {"coredump", "enabled\n"}});
        link("class/remoteproc/remoteproc0", rp + "remoteproc0");
        link("class/remoteproc/remoteproc10", rp + "remoteproc10");
        link("class/remoteproc/remoteproc1", rp + "remoteproc1"); // target already gone

        const std::string vhost = "devices/vhost/virtio3/";
        bus(vhost + "virtio3.foo.bar.-1.1024", "foo.bar", "0xffffffff", "0x400");
        bus(vhost + "virtio3.rpmsg_ns.53.53", "rpmsg_ns", "0x35", "0x35");
        bus(vhost + "virtio3.rpmsg_ctrl.0.0", "rpmsg_ctrl", "0x0", "0x0");
        const std::string glink = rp + "remoteproc0/4080000.remoteproc:glink-edge/";
        bus(glink + "4080000.remoteproc:glink-edge.IPCRTR.-1.-1", "IPCRTR", "0xffffffff",
            "0xffffffff");
        link("bus/rpmsg/devices/virtio3.gone.-1.1025", vhost + "virtio3.gone.-1.1025");

        proc(vhost + "virtio3.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl0", {{"dev", "10:0\n"}});
        link("class/rpmsg/rpmsg_ctrl0", vhost + "virtio3.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl0");
        link("class/rpmsg/rpmsg_ctrl1", vhost + "gone/rpmsg/rpmsg_ctrl1");
    }

    void proc(const std::string& rel,
              std::initializer_list<std::pair<std::string, std::string>> attrs) {
        const fs::path dir = fs::path(paths_.sysfs) / rel;
        fs::create_directories(dir);
        for (const auto& [name, value] : attrs) {
            std::ofstream(dir / name) << value;
        }
    }

    void bus(const std::string& rel, const std::string& name, const std::string& src,
             const std::string& dst) {
        proc(rel, {{"name", name + "\n"}, {"src", src + "\n"}, {"dst", dst + "\n"}});
        link("bus/rpmsg/devices/" + fs::path(rel).filename().string(), rel);
    }

    void link(const std::string& rel, const std::string& target) {
        const fs::path at = fs::path(paths_.sysfs) / rel;
        fs::create_directories(at.parent_path());
        fs::create_symlink(fs::path(paths_.sysfs) / target, at);
    }

    std::unique_ptr<simtest::TempDir> tmp_;
    std::string root_;
    Paths paths_;
};

TEST_F(FakeSysfs, HalfRemovedProcessorIsSkippedNotAnError) {
    EXPECT_EQ(listProcessors(paths_),
              (std::vector<std::string>{"remoteproc0", "remoteproc1", "remoteproc10"}));
    EXPECT_FALSE(readProcessor(paths_, "remoteproc1").has_value());
    std::vector<ProcessorInfo> all;
    ASSERT_NO_THROW(all = readProcessors(paths_));
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, "remoteproc0");
    EXPECT_EQ(all[0].state, "running");
    EXPECT_EQ(all[0].firmware, "a.elf");
    EXPECT_EQ(all[0].recovery, "") << "an attribute this kernel lacks reads as empty";
    EXPECT_EQ(all[0].coredump, "");
    EXPECT_EQ(all[1].id, "remoteproc10");
    EXPECT_EQ(all[1].recovery, "disabled");
    EXPECT_EQ(all[1].coredump, "enabled");
    EXPECT_EQ(all[1].devicePath, paths_.sysfs + "/devices/platform/soc/m4/remoteproc/remoteproc10");
}

TEST_F(FakeSysfs, NoRemoteprocClassMeansNoProcessors) {
    fs::remove_all(fs::path(paths_.sysfs) / "class/remoteproc");
    EXPECT_TRUE(listProcessors(paths_).empty());
    EXPECT_TRUE(readProcessors(paths_).empty());
    EXPECT_TRUE(listCoredumps(paths_).empty());
}

TEST_F(FakeSysfs, ChannelsOfTransportsWithoutRemoteprocAndWithDottedNames) {
    const auto channels = listChannels(paths_);
    ASSERT_EQ(channels.size(), 2u) << "ctrl, ns and the dangling device are not channels";
    EXPECT_EQ(channels[0].device, "4080000.remoteproc:glink-edge.IPCRTR.-1.-1");
    EXPECT_EQ(channels[0].name, "IPCRTR");
    EXPECT_EQ(channels[0].transport, "4080000.remoteproc:glink-edge");
    EXPECT_EQ(channels[0].processorId, "remoteproc0");
    EXPECT_EQ(channels[0].dst, AddrAny);
    EXPECT_EQ(channels[1].device, "virtio3.foo.bar.-1.1024");
    EXPECT_EQ(channels[1].name, "foo.bar");
    EXPECT_EQ(channels[1].transport, "virtio3");
    EXPECT_EQ(channels[1].processorId, "") << "a vhost transport has no remoteproc";
    EXPECT_EQ(channels[1].src, AddrAny);
    EXPECT_EQ(channels[1].dst, 1024u);
}

TEST_F(FakeSysfs, CtrlWithoutRemoteprocAndDanglingCtrlSkipped) {
    const auto ctrls = listCtrls(paths_);
    ASSERT_EQ(ctrls.size(), 1u);
    EXPECT_EQ(ctrls[0].name, "rpmsg_ctrl0");
    EXPECT_EQ(ctrls[0].busDevice, "virtio3.rpmsg_ctrl.0.0");
    EXPECT_EQ(ctrls[0].transport, "virtio3");
    EXPECT_EQ(ctrls[0].processorId, "");
}

TEST_F(FakeSysfs, ReadTraceWithoutDebugfsSaysSo) {
    try {
        readTrace(paths_, "remoteproc0", 0);
        FAIL() << "no exception";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.error(), ENOENT);
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::NotFound);
        EXPECT_NE(std::string(e.what()).find("debugfs is not mounted at " + paths_.debugfs),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(FakeSysfs, WritesUnderTheRootWithExactMessages) {
    // The fake attributes are plain files: a write succeeds, and `start` is never written to
    // the running remoteproc0.
    EXPECT_FALSE(start(paths_, "remoteproc0"));
    std::ifstream in(paths_.sysfs + "/class/remoteproc/remoteproc0/state");
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content, "running\n");
    try {
        setFirmware(paths_, "remoteproc7", "x.elf");
        FAIL() << "no exception";
    } catch (const KernelError& e) {
        EXPECT_STREQ(e.what(),
                     "write 'x.elf' to remoteproc7/firmware: No such file or directory (ENOENT)");
    }
    EXPECT_THROW(setFirmware(paths_, "remoteproc0", "a\nb"), rpmsgd::Error);
    EXPECT_THROW(setFirmware(paths_, "remoteproc0", ""), rpmsgd::Error);
    EXPECT_THROW(readState(paths_, "../remoteproc0"), rpmsgd::Error);
}

TEST_F(FakeSysfs, FirmwareSearchOrderAndNameChecks) {
    const fs::path fw = paths_.firmware;
    fs::create_directories(fw / "updates" / "ti");
    std::ofstream(fw / "ti" / "m4.elf") << "x";
    fs::create_directories(fw / "ti");
    std::ofstream(fw / "ti" / "m4.elf") << "x";
    EXPECT_EQ(locateFirmware(paths_, "ti/m4.elf"), (fw / "ti" / "m4.elf").string());
    std::ofstream(fw / "updates" / "ti" / "m4.elf") << "y";
    EXPECT_EQ(locateFirmware(paths_, "ti/m4.elf"), (fw / "updates" / "ti" / "m4.elf").string())
        << "updates/ comes before the plain directory";
    EXPECT_FALSE(locateFirmware(paths_, "nope.elf").has_value());
    for (const char* bad : {"", "/etc/passwd", "../x.elf", "a/../../x", "a//b", "./x"}) {
        EXPECT_THROW(locateFirmware(paths_, bad), rpmsgd::Error) << bad;
    }
    try {
        checkFirmware(paths_, "ti/m4.elf");
        FAIL() << "no exception";
    } catch (const rpmsgd::Error& e) {
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::InvalidFirmware) << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("ti/m4.elf: ", 0), 0u) << e.what();
    }
    try {
        checkFirmware(paths_, "nope.elf");
        FAIL() << "no exception";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::NotFound);
        EXPECT_EQ(e.error(), ENOENT);
    }
}

} // namespace
} // namespace kerneltest
