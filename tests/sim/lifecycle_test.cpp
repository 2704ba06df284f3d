// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// start/stop: synchronous boot errors, the devices that exist when `start` returns, the
// asynchronous channel announcements, the 6.6 power refcount, teardown (docs/kernel-abi.md §1.3,
// §1.6, §3, §6.4 "Remote goes away", §7).

#include "common/firmware_builder.h"
#include "sim_fixture.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace simtest {
namespace {

class Lifecycle : public SimTest {};

TEST_F(Lifecycle, StartWithMissingFirmwareIsENOENT) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim(
        echoSpec(), [](nlohmann::json& c) { c["processors"][0]["firmware"] = "missing.elf"; }));
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start\n"), ENOENT);
    EXPECT_EQ(state(), "offline");
    EXPECT_FALSE(exists("dev/rpmsg_ctrl0"));
    EXPECT_FALSE(exists(debugfs(0, "trace0")));
}

TEST_F(Lifecycle, DefaultFirmwareNameIsLookedUpInFirmwareDir) {
    SimOptions options; // built-in processors: firmware rproc-cm4-fw
    ASSERT_NO_FATAL_FAILURE(startSim(options));
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start"), ENOENT);
    ASSERT_NO_FATAL_FAILURE(makeFirmware("rproc-cm4-fw", echoSpec()));
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    EXPECT_EQ(state(), "running");
}

class DefectiveImage : public SimTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(DefectiveImage, StartIsEINVALAndStaysOffline) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    const std::string defect = GetParam();
    ASSERT_NO_FATAL_FAILURE(makeFirmware("bad.elf", echoSpec(), defect));
    ASSERT_EQ(writeAttr(rproc(0, "firmware"), "bad.elf"), 0);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start\n"), EINVAL) << defect;
    EXPECT_EQ(state(), "offline") << defect;
    EXPECT_FALSE(exists("dev/rpmsg_ctrl0")) << defect;
    EXPECT_EQ(readAttr(debugfs(0, "resource_table")), "No resource table found\n");
    // The processor is still usable afterwards.
    ASSERT_EQ(writeAttr(rproc(0, "firmware"), "echo.elf"), 0);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start\n"), 0);
    EXPECT_EQ(state(), "running");
}

INSTANTIATE_TEST_SUITE_P(AllDefects, DefectiveImage, ::testing::ValuesIn(rpmsgd::fw::defectNames()),
                         defectTestName);

TEST_F(Lifecycle, StartIsSynchronousAndChannelsComeLater) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim(echoSpec(300)));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "start\n"), 0);
    // Everything below is checked right after the write returned, before any sleep.
    EXPECT_EQ(state(), "running");
    EXPECT_TRUE(isDir(rproc(0, "rproc-virtio.0.auto/virtio0")));
    EXPECT_TRUE(isDir(busDev("virtio0.rpmsg_ctrl.0.0")));
    EXPECT_TRUE(isDir(busDev("virtio0.rpmsg_ns.53.53")));
    EXPECT_TRUE(exists("dev/rpmsg_ctrl0"));
    EXPECT_TRUE(isDir(classRpmsg("rpmsg_ctrl0")));
    EXPECT_TRUE(exists(debugfs(0, "trace0")));
    EXPECT_FALSE(exists(busDev("virtio0.rpmsg-echo.-1.1024")))
        << "the channel must be announced after the firmware's boot_ms, not during start";
    EXPECT_TRUE(waitFor([&] { return exists(busDev("virtio0.rpmsg-echo.-1.1024")); }));
    EXPECT_TRUE(isDir(rproc(0, "rproc-virtio.0.auto/virtio0/virtio0.rpmsg-echo.-1.1024")));
}

TEST_F(Lifecycle, StartWhileRunningTakesPowerReference) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    EXPECT_EQ(processor()["power"], 1);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start"), 0) << "6.6: no state check before boot";
    EXPECT_EQ(state(), "running");
    EXPECT_EQ(processor()["power"], 2);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_EQ(state(), "running") << "the first stop only drops the power count";
    EXPECT_TRUE(exists("dev/rpmsg_ctrl0"));
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_EQ(state(), "offline");
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), EINVAL);
}

TEST_F(Lifecycle, StopWhileOfflineIsEINVAL) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), EINVAL);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop\n"), EINVAL);
    EXPECT_EQ(state(), "offline");
}

TEST_F(Lifecycle, StopTearsDownEveryRpmsgDevice) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    Fd ctrl = openCtrl();
    ASSERT_TRUE(ctrl.valid());
    const auto dev = createEptDev(ctrl.get(), "x", RPMSG_ADDR_ANY, 1024);
    ASSERT_FALSE(dev.empty());
    Fd ept = openDev(dev);
    ASSERT_TRUE(ept.valid());

    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop\n"), 0);
    EXPECT_EQ(state(), "offline");
    EXPECT_EQ(ioErrnos(ept.get()), std::make_pair(EPIPE, EPIPE));
    pollfd p{ept.get(), POLLIN | POLLOUT, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLERR);

    EXPECT_TRUE(devNodes().empty()) << "left: " << ::testing::PrintToString(devNodes());
    EXPECT_TRUE(listDir(path("sys/class/rpmsg")).empty())
        << ::testing::PrintToString(listDir(path("sys/class/rpmsg")));
    EXPECT_TRUE(listDir(path("sys/bus/rpmsg/devices")).empty())
        << ::testing::PrintToString(listDir(path("sys/bus/rpmsg/devices")));
    EXPECT_FALSE(exists(rproc(0, "rproc-virtio.0.auto")));
    EXPECT_FALSE(exists(debugfs(0, "trace0")));
    EXPECT_EQ(readAttr(debugfs(0, "resource_table")), "No resource table found\n");
}

TEST_F(Lifecycle, RestartAfterStopRebuildsTree) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    EXPECT_TRUE(exists("dev/rpmsg_ctrl0")) << "lowest free index is reused once released";
    EXPECT_TRUE(isDir(rproc(0, "rproc-virtio.0.auto/virtio0")));
}

TEST_F(Lifecycle, IndicesAreGlobalAndLowestFree) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0, 0));
    ASSERT_NO_FATAL_FAILURE(bootProcessor(1, 1));
    EXPECT_TRUE(isDir(rproc(1, "rproc-virtio.1.auto/virtio1")));
    EXPECT_TRUE(exists("dev/rpmsg_ctrl1"));
    EXPECT_EQ(resolved(classRpmsg("rpmsg_ctrl1")),
              "sys/devices/platform/sim-dsp/remoteproc/remoteproc1/rproc-virtio.1.auto/virtio1/"
              "virtio1.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl1");
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_FALSE(exists("dev/rpmsg_ctrl0"));
    EXPECT_TRUE(exists("dev/rpmsg_ctrl1"));
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0, 0));
    EXPECT_TRUE(exists("dev/rpmsg_ctrl0"));
    EXPECT_TRUE(isDir(rproc(0, "rproc-virtio.0.auto/virtio0")));
}

TEST_F(Lifecycle, AutoBootStartsAtRegistration) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim(
        echoSpec(), [](nlohmann::json& c) { c["processors"][0]["auto_boot"] = true; }));
    EXPECT_TRUE(waitFor([&] { return state(0) == "running"; }));
    EXPECT_TRUE(waitFor([&] { return exists(busDev("virtio0.rpmsg-echo.-1.1024")); }));
    EXPECT_EQ(state(1), "offline");
}

TEST_F(Lifecycle, ImageWithoutNameServiceHasNoNsDeviceAndNoChannels) {
    auto spec = echoSpec(10);
    spec["image"] = {{"name_service", false}};
    ASSERT_NO_FATAL_FAILURE(startEchoSim(spec));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    EXPECT_TRUE(exists(busDev("virtio0.rpmsg_ctrl.0.0")));
    EXPECT_FALSE(exists(busDev("virtio0.rpmsg_ns.53.53")));
    // The remote still sends its NS announcement, but nobody listens on address 53.
    EXPECT_FALSE(waitFor([&] { return exists(busDev("virtio0.rpmsg-echo.-1.1024")); }, 300ms));
    // The service itself works through an explicit endpoint.
    expectEcho("x", 1024, "hi");
}

TEST_F(Lifecycle, StartWhileCrashedSucceedsAndStaysCrashed) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim(
        echoSpec(), [](nlohmann::json& c) { c["processors"][0]["recovery"] = "disabled"; }));
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return state() == "crashed"; }));
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start"), 0) << "refcount quirk";
    EXPECT_EQ(state(), "crashed");
    // A crashed processor can be stopped (stable 6.1.188, 6.12.110), but this stop only drops
    // the extra reference.
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_EQ(state(), "crashed");
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_EQ(state(), "offline");
}

} // namespace
} // namespace simtest
