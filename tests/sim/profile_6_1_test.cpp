// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The 6.1 profile (`--kernel 6.1`, `"kernel": "6.1"`): the 6.6 behaviour without the
// flow-control ioctls (docs/kernel-abi.md §8). It is the profile tests/conformance runs the twin
// with.

#include "sim_fixture.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace simtest {
namespace {

class Profile61 : public SimTest {
protected:
    void start(bool viaConfig) {
        ASSERT_NO_FATAL_FAILURE(makeFirmware("echo.elf", echoSpec()));
        auto config = defaultConfig();
        SimOptions options;
        if (viaConfig) {
            config["kernel"] = "6.1";
        } else {
            config.erase("kernel"); // the command line decides
            options.kernel = "6.1";
        }
        options.config = config;
        ASSERT_NO_FATAL_FAILURE(startSim(options));
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    }
};

TEST_F(Profile61, SelectedOnTheCommandLineOrInTheConfig) {
    ASSERT_NO_FATAL_FAILURE(start(false));
    EXPECT_EQ(dump()["kernel"], "6.1");
    sim().shutdown();
    ASSERT_NO_FATAL_FAILURE(start(true));
    EXPECT_EQ(dump()["kernel"], "6.1");
}

TEST_F(Profile61, FlowControlIoctlsAreUnknownCommands) {
    ASSERT_NO_FATAL_FAILURE(start(true));
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "fc", RPMSG_ADDR_ANY, 1024);
    Fd fd = openDev(dev);
    ASSERT_TRUE(fd.valid());
    int flow = 0;
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), RPMSG_GET_OUTGOING_FLOWCONTROL, &flow), -1);
    EXPECT_EQ(errno, EINVAL);
    for (unsigned long value : {0UL, 1UL, 2UL}) {
        errno = 0;
        EXPECT_EQ(::ioctl(fd.get(), RPMSG_SET_INCOMING_FLOWCONTROL, value), -1) << value;
        EXPECT_EQ(errno, EINVAL) << value;
    }
    // The endpoint is unharmed.
    ASSERT_EQ(::write(fd.get(), "ok", 2), 2);
    EXPECT_EQ(readMessage(fd.get()).data, "ok");
}

TEST_F(Profile61, OtherwiseAs66) {
    ASSERT_NO_FATAL_FAILURE(start(true));
    EXPECT_TRUE(isDir(rproc(0, "rproc-virtio.0.auto/virtio0")));
    EXPECT_TRUE(exists(busDev("virtio0.rpmsg_ctrl.0.0")));
    // start while running takes a power reference (5.19+).
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    EXPECT_EQ(processor()["power"], 2);
    Fd ctrl = openCtrl();
    ASSERT_EQ(createDev(ctrl.get(), "rpmsg-raw", RPMSG_ADDR_ANY, 1024), 0);
    EXPECT_TRUE(waitFor([&] {
        return !listDir(path(busDev("virtio0.rpmsg-raw.-1.1024", "rpmsg"))).empty();
    })) << "rpmsg_char binds rpmsg-raw";
    const auto dev = createEptDev(ctrl.get(), "full", RPMSG_ADDR_ANY, 1024);
    Fd fd = openDev(dev, O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(fd.valid());
    ctlOk({"stall", "cm4"});
    int err = 0;
    EXPECT_EQ(writeUntilFailure(fd.get(), 16, 400, err), 256);
    EXPECT_EQ(err, EAGAIN);
}

TEST_F(Profile61, UnknownVersionIsRefused) {
    const auto r = runCommand({simBinary(), sim().mountDir(), "--kernel", "6.2"}, 10s);
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("6.1"), std::string::npos) << r.err;
}

} // namespace
} // namespace simtest
