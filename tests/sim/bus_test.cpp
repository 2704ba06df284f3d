// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsg bus devices on the twin only: placement under a remoteproc, firmwares with several
// services, and a transport without a remoteproc (docs/kernel-abi.md §5, §7 "Name service"). The
// attributes, the name service and the rpmsg-raw binding both targets share are
// rpmsg-conformance's (sysfs_conformance_test.cpp, ns_conformance_test.cpp).

#include "sim_fixture.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace simtest {
namespace {

constexpr const char* kVirtioDir =
    "sys/devices/platform/sim-cm4/remoteproc/remoteproc0/rproc-virtio.0.auto/virtio0";

class Bus : public SimTest {
protected:
    void up() override {
        ASSERT_NO_FATAL_FAILURE(startEchoSim());
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    }
};

TEST_F(Bus, UnderARemoteprocBusDevicesLiveInItsRprocVirtioDevice) {
    const auto devs = listDir(path("sys/bus/rpmsg/devices"));
    EXPECT_EQ(devs, (std::vector<std::string>{"virtio0.rpmsg-echo.-1.1024",
                                              "virtio0.rpmsg_ctrl.0.0", "virtio0.rpmsg_ns.53.53"}));
    for (const auto& d : devs) {
        EXPECT_TRUE(isSymlink(busDev(d))) << d;
        EXPECT_EQ(resolved(busDev(d)), std::string(kVirtioDir) + "/" + d);
    }
}

class NameService : public Bus {};

TEST_F(NameService, ChannelsOfEveryAnnouncedService) {
    // Restart cm4 with a firmware that has several services, one of them hidden.
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    nlohmann::json spec = {
        {"boot_ms", 10},
        {"services",
         {{{"name", "rpmsg-echo"}, {"addr", 1024}, {"kind", "echo"}},
          {{"name", "rpmsg-sensor"},
           {"addr", 1025},
           {"kind", "stream"},
           {"rate_hz", 100},
           {"size", 64}},
          {{"name", "rpmsg-sink"}, {"addr", 1026}, {"kind", "sink"}, {"consume_every_ms", 10}},
          {{"name", "hidden"}, {"addr", 1027}, {"kind", "echo"}, {"announce", false}}}},
    };
    ASSERT_NO_FATAL_FAILURE(makeFirmware("multi.elf", spec));
    ASSERT_EQ(writeAttr(rproc(0, "firmware"), "multi.elf"), 0);
    ASSERT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    ASSERT_TRUE(waitFor([&] {
        return exists(busDev("virtio0.rpmsg-echo.-1.1024")) &&
               exists(busDev("virtio0.rpmsg-sensor.-1.1025")) &&
               exists(busDev("virtio0.rpmsg-sink.-1.1026"));
    }));
    EXPECT_FALSE(waitFor([&] { return exists(busDev("virtio0.hidden.-1.1027")); }, 200ms));
    // The hidden service answers anyway.
    expectEcho("h", 1027, "psst");
}

TEST_F(NameService, StreamServiceSendsToLastWriter) {
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    nlohmann::json spec = {
        {"boot_ms", 10},
        {"services",
         {{{"name", "rpmsg-sensor"},
           {"addr", 1025},
           {"kind", "stream"},
           {"rate_hz", 100},
           {"size", 64}}}},
    };
    ASSERT_NO_FATAL_FAILURE(makeFirmware("stream.elf", spec));
    ASSERT_EQ(writeAttr(rproc(0, "firmware"), "stream.elf"), 0);
    ASSERT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    Fd ctrl = openCtrl();
    const auto ept = createEptDev(ctrl.get(), "s", RPMSG_ADDR_ANY, 1025);
    Fd fd = openDev(ept);
    // Nothing is streamed before anyone wrote to the service.
    EXPECT_EQ(readMessage(fd.get(), 512, 100ms).err, ETIME);
    ASSERT_EQ(::write(fd.get(), "go", 2), 2);
    for (int i = 0; i < 3; ++i) {
        const auto m = readMessage(fd.get(), 512, 2s);
        EXPECT_EQ(m.err, 0) << i;
        EXPECT_EQ(m.data.size(), 64u) << i;
    }
}

// A virtio-rpmsg transport with no remoteproc ("remoteproc": false): the virtio device sits
// right under its platform device, as with virtio-mmio; it is there from mount.
class BareTransport : public SimTest {
protected:
    void up() override {
        ASSERT_NO_FATAL_FAILURE(startEchoSim(echoSpec(), [](nlohmann::json& c) {
            c["processors"].push_back(
                {{"name", "vhost0"}, {"firmware", "echo.elf"}, {"remoteproc", false}});
        }));
        ASSERT_TRUE(waitFor([&] { return exists(busDev("virtio0.rpmsg-echo.-1.1024")); }, 5s));
    }
};

TEST_F(BareTransport, VirtioDeviceHasNoRemoteprocParent) {
    EXPECT_EQ(resolved(busDev("virtio0.rpmsg-echo.-1.1024")),
              "sys/devices/platform/sim-vhost0/virtio0/virtio0.rpmsg-echo.-1.1024");
    EXPECT_TRUE(exists("sys/bus/virtio/devices/virtio0"));
    EXPECT_EQ(readAttr("sys/devices/platform/sim-vhost0/virtio0/device"), "0x0007\n");
    // Only cm4 and dsp are remote processors.
    EXPECT_TRUE(exists(rproc(0)));
    EXPECT_TRUE(exists(rproc(1)));
    EXPECT_FALSE(exists(rproc(2)));
    EXPECT_FALSE(exists("sys/kernel/debug/remoteproc/remoteproc2"));
    const auto p = processor("vhost0");
    ASSERT_FALSE(p.is_null());
    EXPECT_EQ(p["state"], "attached");
    EXPECT_EQ(p["virtio"], "virtio0");
}

TEST_F(BareTransport, EndpointsWorkThroughItsCtrlDevice) {
    Fd ctrl = openCtrlOf("vhost0");
    ASSERT_TRUE(ctrl.valid());
    const std::string dev = createEptDev(ctrl.get(), "rpmsg-echo", 0xffffffff, 1024);
    Fd ep = openDev(dev);
    ASSERT_TRUE(ep.valid());
    ASSERT_EQ(::write(ep.get(), "hello", 5), 5);
    EXPECT_EQ(readMessage(ep.get()).data, "hello");
}

TEST_F(BareTransport, CannotCrashAndRemovalTearsItDown) {
    const auto crash = ctl({"crash", "vhost0"});
    EXPECT_NE(crash.exitCode, 0);
    EXPECT_NE(crash.err.find("without a remoteproc"), std::string::npos) << crash.err;
    Fd ctrl = openCtrlOf("vhost0");
    const std::string dev = createEptDev(ctrl.get(), "rpmsg-echo", 0xffffffff, 1024);
    Fd ep = openDev(dev);
    ctlOk({"remove-processor", "vhost0"});
    EXPECT_EQ(::write(ep.get(), "x", 1), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_FALSE(exists("sys/devices/platform/sim-vhost0"));
    EXPECT_FALSE(exists(busDev("virtio0.rpmsg-echo.-1.1024")));
    EXPECT_TRUE(processor("vhost0").is_null());
}

TEST_F(BareTransport, ConfigRefusesRemoteprocOnlyKeys) {
    TempDir dir;
    const std::string cfg = dir.path() + "/bad.json";
    writeTextFile(cfg,
                  R"({"processors": [{"name": "v", "remoteproc": false, "recovery": "enabled"}]})");
    const auto r = runCommand({simBinary(), dir.path(), "--config", cfg});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("/processors/0"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("recovery"), std::string::npos) << r.err;
}

} // namespace
} // namespace simtest
