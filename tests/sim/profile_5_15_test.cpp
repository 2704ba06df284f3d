// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The 5.15 profile (`--kernel 5.15`): docs/kernel-abi.md §8.

#include "sim_fixture.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace simtest {
namespace {

class Profile515 : public SimTest {
protected:
    void up() override {
        ASSERT_NO_FATAL_FAILURE(makeFirmware("echo.elf", echoSpec()));
        auto config = defaultConfig();
        config.erase("kernel"); // the command line decides
        SimOptions options;
        options.config = config;
        options.kernel = "5.15";
        ASSERT_NO_FATAL_FAILURE(startSim(options));
    }

    void boot() {
        ASSERT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
        ASSERT_TRUE(waitFor([&] { return exists(busDev("virtio0.rpmsg-echo.-1.1024")); }));
    }
};

TEST_F(Profile515, DumpReportsTheKernel) {
    EXPECT_EQ(dump()["kernel"], "5.15");
}

TEST_F(Profile515, StartWhileRunningIsEBUSY) {
    ASSERT_NO_FATAL_FAILURE(boot());
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start"), EBUSY);
    EXPECT_EQ(processor()["power"], 1);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_EQ(state(), "offline") << "one stop suffices: no extra power reference was taken";
}

TEST_F(Profile515, VdevDeviceAndChrdevCtrlNames) {
    ASSERT_NO_FATAL_FAILURE(boot());
    const std::string vdev = rproc(0, "remoteproc0#vdev0buffer");
    EXPECT_TRUE(isDir(vdev));
    EXPECT_TRUE(isDir(vdev + "/virtio0"));
    for (const auto& n : listDir(path(rproc(0)))) {
        EXPECT_NE(n.rfind("rproc-virtio", 0), 0u) << n << ": a 6.1+ name";
    }
    const std::string ctrl = "virtio0.rpmsg_chrdev.0.0";
    EXPECT_TRUE(exists(busDev(ctrl)));
    EXPECT_FALSE(exists(busDev("virtio0.rpmsg_ctrl.0.0")));
    EXPECT_EQ(readAttr(busDev(ctrl, "driver_override")), "rpmsg_chrdev\n");
    EXPECT_EQ(resolved(busDev(ctrl)),
              "sys/devices/platform/sim-cm4/remoteproc/remoteproc0/remoteproc0#vdev0buffer/"
              "virtio0/" +
                  ctrl);
    EXPECT_TRUE(exists(busDev("virtio0.rpmsg_ns.53.53")));
    EXPECT_TRUE(exists("dev/rpmsg_ctrl0"));
    EXPECT_EQ(resolved(classRpmsg("rpmsg_ctrl0")),
              "sys/devices/platform/sim-cm4/remoteproc/remoteproc0/remoteproc0#vdev0buffer/"
              "virtio0/virtio0.rpmsg_chrdev.0.0/rpmsg/rpmsg_ctrl0");
}

TEST_F(Profile515, FullNonblockingWriteIsENOMEM) {
    ASSERT_NO_FATAL_FAILURE(boot());
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "old", RPMSG_ADDR_ANY, 1024);
    Fd fd = openDev(dev, O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(fd.valid());
    ctlOk({"stall", "cm4"});
    int err = 0;
    EXPECT_EQ(writeUntilFailure(fd.get(), 16, 400, err), 256);
    EXPECT_EQ(err, ENOMEM);
}

TEST_F(Profile515, NoRpmsgRawBinding) {
    ASSERT_NO_FATAL_FAILURE(boot());
    const std::string dev = "virtio0.rpmsg-raw.-1.1030";
    ctlOk({"announce", "cm4", "rpmsg-raw", "1030"});
    ASSERT_TRUE(waitFor([&] { return exists(busDev(dev)); }));
    EXPECT_FALSE(waitFor(
        [&] { return exists(busDev(dev, "rpmsg")) || !eptdevNames(sim()).empty(); }, 300ms));
    EXPECT_EQ(readAttr(busDev(dev, "src")), "0xffffffff\n");
    EXPECT_EQ(devNodes(), (std::vector<std::string>{"rpmsg_ctrl0"}));
}

TEST_F(Profile515, NoCreateDevAndNoFlowControl) {
    ASSERT_NO_FATAL_FAILURE(boot());
    Fd ctrl = openCtrl();
    EXPECT_EQ(createDev(ctrl.get(), "rpmsg-raw", RPMSG_ADDR_ANY, 1024), EINVAL);
    EXPECT_EQ(releaseDev(ctrl.get(), "rpmsg-echo", RPMSG_ADDR_ANY, 1024), EINVAL);
    EXPECT_FALSE(exists(busDev("virtio0.rpmsg-raw.-1.1024")));
    EXPECT_TRUE(exists(busDev("virtio0.rpmsg-echo.-1.1024")));
    const auto dev = createEptDev(ctrl.get(), "fc", RPMSG_ADDR_ANY, 1024);
    Fd fd = openDev(dev);
    int flow = 0;
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), RPMSG_GET_OUTGOING_FLOWCONTROL, &flow), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), RPMSG_SET_INCOMING_FLOWCONTROL, 1UL), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST_F(Profile515, EndpointBasicsStillHold) {
    ASSERT_NO_FATAL_FAILURE(boot());
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "basic", RPMSG_ADDR_ANY, 1024);
    EXPECT_EQ(resolved(classRpmsg(dev)),
              "sys/devices/platform/sim-cm4/remoteproc/remoteproc0/remoteproc0#vdev0buffer/"
              "virtio0/virtio0.rpmsg_chrdev.0.0/rpmsg/rpmsg_ctrl0/" +
                  dev);
    Fd fd = openDev(dev);
    ASSERT_TRUE(fd.valid());
    errno = 0;
    EXPECT_EQ(::open(path("dev/" + dev).c_str(), O_RDWR), -1);
    EXPECT_EQ(errno, EBUSY) << "5.13+ refuses a second open";
    ASSERT_EQ(::write(fd.get(), "old", 3), 3);
    EXPECT_EQ(readMessage(fd.get()).data, "old");
    const std::string big(497, 'x');
    errno = 0;
    EXPECT_EQ(::write(fd.get(), big.data(), big.size()), -1);
    EXPECT_EQ(errno, EMSGSIZE);
}

TEST_F(Profile515, StopWhileOfflineIsEINVALAndCoredumpWordsSame) {
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), EINVAL);
    EXPECT_EQ(writeAttr(rproc(0, "coredump"), "default"), EINVAL);
    EXPECT_EQ(writeAttr(rproc(0, "coredump"), "inline"), 0);
    EXPECT_EQ(readAttr(rproc(0, "coredump")), "inline\n");
}

} // namespace
} // namespace simtest
