// rpmsg bus devices, class devices, the name service and the rpmsg-raw binding
// (kernel-abi.md §5, §6.1, §7 "Name service").

#include "sim_fixture.h"

#include <cerrno>
#include <fcntl.h>
#include <regex>
#include <unistd.h>

namespace simtest {
namespace {

constexpr const char* kVirtioDir =
    "sys/devices/platform/sim-cm4/remoteproc/remoteproc0/rproc-virtio.0.auto/virtio0";

class Bus : public SimTest {
protected:
    void SetUp() override {
        SimTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        ASSERT_NO_FATAL_FAILURE(startEchoSim());
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    }
};

TEST_F(Bus, AnnouncedChannelAttributes) {
    const std::string dev = "virtio0.rpmsg-echo.-1.1024";
    EXPECT_EQ(readAttr(busDev(dev, "name")), "rpmsg-echo\n");
    EXPECT_EQ(readAttr(busDev(dev, "src")), "0xffffffff\n");
    EXPECT_EQ(readAttr(busDev(dev, "dst")), "0x400\n");
    EXPECT_EQ(readAttr(busDev(dev, "announce")), "false\n");
    EXPECT_EQ(readAttr(busDev(dev, "driver_override")), "(null)\n");
    EXPECT_EQ(readAttr(busDev(dev, "modalias")), "rpmsg:rpmsg-echo\n");
    for (const char* a : {"name", "src", "dst", "announce", "modalias"}) {
        EXPECT_EQ(mode(busDev(dev, a)), 0444u) << a;
    }
    EXPECT_EQ(mode(busDev(dev, "driver_override")), 0644u);
    EXPECT_NE(readAttr(busDev(dev, "uevent")).find("MODALIAS=rpmsg:rpmsg-echo\n"),
              std::string::npos);
    EXPECT_EQ(writeAttr(busDev(dev, "name"), "x"), EACCES);
}

TEST_F(Bus, CtrlAndNsDeviceAttributes) {
    const std::string ctrl = "virtio0.rpmsg_ctrl.0.0";
    EXPECT_EQ(readAttr(busDev(ctrl, "driver_override")), "rpmsg_ctrl\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "name")), "rpmsg_ctrl\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "src")), "0x0\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "dst")), "0x0\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "announce")), "false\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "modalias")), "rpmsg:rpmsg_ctrl\n");
    const std::string ns = "virtio0.rpmsg_ns.53.53";
    EXPECT_EQ(readAttr(busDev(ns, "driver_override")), "rpmsg_ns\n");
    EXPECT_EQ(readAttr(busDev(ns, "name")), "rpmsg_ns\n");
    EXPECT_EQ(readAttr(busDev(ns, "src")), "0x35\n");
    EXPECT_EQ(readAttr(busDev(ns, "dst")), "0x35\n");
    EXPECT_EQ(readAttr(busDev(ns, "modalias")), "rpmsg:rpmsg_ns\n");
}

TEST_F(Bus, BusDevicesAreSymlinksIntoTheVirtioDevice) {
    const auto devs = listDir(path("sys/bus/rpmsg/devices"));
    EXPECT_EQ(devs, (std::vector<std::string>{"virtio0.rpmsg-echo.-1.1024",
                                              "virtio0.rpmsg_ctrl.0.0", "virtio0.rpmsg_ns.53.53"}));
    for (const auto& d : devs) {
        EXPECT_TRUE(isSymlink(busDev(d))) << d;
        EXPECT_EQ(resolved(busDev(d)), std::string(kVirtioDir) + "/" + d);
    }
}

TEST_F(Bus, DriversDirectoryListsTheRpmsgDrivers) {
    for (const char* d : {"rpmsg_ctrl", "rpmsg_ns", "rpmsg_chrdev"}) {
        EXPECT_TRUE(isDir("sys/bus/rpmsg/drivers/" + std::string(d))) << d;
    }
}

TEST_F(Bus, DriverOverrideWriteIsCutAtNewlineAndEmptyClears) {
    const std::string dev = "virtio0.rpmsg-echo.-1.1024";
    EXPECT_EQ(writeAttr(busDev(dev, "driver_override"), "foo\nbar"), 0);
    EXPECT_EQ(readAttr(busDev(dev, "driver_override")), "foo\n");
    EXPECT_EQ(writeAttr(busDev(dev, "driver_override"), "\n"), 0);
    EXPECT_EQ(readAttr(busDev(dev, "driver_override")), "(null)\n");
}

TEST_F(Bus, CtrlClassDevice) {
    ASSERT_TRUE(isSymlink(classRpmsg("rpmsg_ctrl0")));
    EXPECT_EQ(resolved(classRpmsg("rpmsg_ctrl0")),
              std::string(kVirtioDir) + "/virtio0.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl0");
    EXPECT_TRUE(std::regex_match(readAttr(classRpmsg("rpmsg_ctrl0", "dev")),
                                 std::regex("[0-9]+:[0-9]+\n")));
    EXPECT_NE(readAttr(classRpmsg("rpmsg_ctrl0", "uevent")).find("DEVNAME=rpmsg_ctrl0\n"),
              std::string::npos);
    EXPECT_EQ(mode("dev/rpmsg_ctrl0"), 0600u);
}

class NameService : public Bus {};

TEST_F(NameService, AnnounceCreatesAndDestroyRemovesChannel) {
    const std::string dev = "virtio0.my-svc.-1.2000";
    ctlOk({"announce", "cm4", "my-svc", "2000"});
    ASSERT_TRUE(waitFor([&] { return exists(busDev(dev)); }));
    EXPECT_EQ(readAttr(busDev(dev, "name")), "my-svc\n");
    EXPECT_EQ(readAttr(busDev(dev, "dst")), "0x7d0\n");
    EXPECT_EQ(readAttr(busDev(dev, "src")), "0xffffffff\n");
    EXPECT_TRUE(isDir(std::string(kVirtioDir) + "/" + dev));
    // An announced service is an echo service.
    Fd ctrl = openCtrl();
    const auto ept = createEptDev(ctrl.get(), "c", RPMSG_ADDR_ANY, 2000);
    Fd fd = openDev(ept);
    ASSERT_EQ(::write(fd.get(), "svc", 3), 3);
    EXPECT_EQ(readMessage(fd.get()).data, "svc");

    ctlOk({"destroy", "cm4", "my-svc", "2000"});
    EXPECT_TRUE(waitFor([&] { return !exists(busDev(dev)); }));
    EXPECT_FALSE(exists(std::string(kVirtioDir) + "/" + dev));
    EXPECT_TRUE(exists(busDev("virtio0.rpmsg-echo.-1.1024")));
}

TEST_F(NameService, DuplicateAnnouncementIsIgnored) {
    ctlOk({"announce", "cm4", "dup", "2001"});
    ASSERT_TRUE(waitFor([&] { return exists(busDev("virtio0.dup.-1.2001")); }));
    ctl({"announce", "cm4", "dup", "2001"});
    const auto d = processor();
    int count = 0;
    for (const auto& c : d["channels"]) {
        count += c.value("name", "") == "dup" ? 1 : 0;
    }
    EXPECT_EQ(count, 1);
    EXPECT_TRUE(exists(busDev("virtio0.dup.-1.2001")));
}

TEST_F(NameService, DestroyDoesNotAffectCreateEptEptdevs) {
    ctlOk({"announce", "cm4", "gone", "2002"});
    ASSERT_TRUE(waitFor([&] { return exists(busDev("virtio0.gone.-1.2002")); }));
    Fd ctrl = openCtrl();
    const auto ept = createEptDev(ctrl.get(), "c", RPMSG_ADDR_ANY, 2002);
    Fd fd = openDev(ept, O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(fd.valid());
    ctlOk({"destroy", "cm4", "gone", "2002"});
    ASSERT_TRUE(waitFor([&] { return !exists(busDev("virtio0.gone.-1.2002")); }));
    EXPECT_TRUE(exists("dev/" + ept));
    EXPECT_TRUE(exists(classRpmsg(ept)));
    // Writes to the withdrawn address still "succeed" (what the remote does with them is its
    // business).
    EXPECT_EQ(::write(fd.get(), "x", 1), 1);
    EXPECT_TRUE(eptdevDump(ept).value("alive", false));
}

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
    Fd ctrl = openCtrl();
    const auto ept = createEptDev(ctrl.get(), "h", RPMSG_ADDR_ANY, 1027);
    Fd fd = openDev(ept);
    ASSERT_EQ(::write(fd.get(), "psst", 4), 4);
    EXPECT_EQ(readMessage(fd.get()).data, "psst");
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

class RpmsgRaw : public Bus {};

TEST_F(RpmsgRaw, AnnouncedRawChannelIsBoundToRpmsgChar) {
    const std::string dev = "virtio0.rpmsg-raw.-1.1030";
    ctlOk({"announce", "cm4", "rpmsg-raw", "1030"});
    ASSERT_TRUE(waitFor([&] { return !listDir(path(busDev(dev, "rpmsg"))).empty(); }))
        << dev << "/rpmsg/rpmsgN did not appear";
    const auto children = listDir(path(busDev(dev, "rpmsg")));
    ASSERT_EQ(children.size(), 1u);
    const std::string ept = children[0];
    EXPECT_TRUE(std::regex_match(ept, std::regex("rpmsg[0-9]+"))) << ept;
    EXPECT_TRUE(exists("dev/" + ept));
    EXPECT_EQ(resolved(classRpmsg(ept)), std::string(kVirtioDir) + "/" + dev + "/rpmsg/" + ept);
    EXPECT_EQ(readAttr(busDev(dev, "src")), "0x400\n") << "the default endpoint's address";
    EXPECT_EQ(readAttr(busDev(dev, "dst")), "0x406\n");
    EXPECT_EQ(readAttr(busDev(dev, "modalias")), "rpmsg:rpmsg-raw\n");
    EXPECT_EQ(readAttr(classRpmsg(ept, "name")), "rpmsg-raw\n");
    EXPECT_EQ(readAttr(classRpmsg(ept, "src")), "1024\n");
    EXPECT_EQ(readAttr(classRpmsg(ept, "dst")), "1030\n");

    Fd fd = openDev(ept);
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::write(fd.get(), "raw", 3), 3);
    EXPECT_EQ(readMessage(fd.get()).data, "raw");
    fd.reset();

    ctlOk({"destroy", "cm4", "rpmsg-raw", "1030"});
    EXPECT_TRUE(waitFor([&] { return !exists(busDev(dev)) && !exists("dev/" + ept); }));
}

// A virtio-rpmsg transport with no remoteproc ("remoteproc": false): the virtio device sits
// right under its platform device, as with virtio-mmio; it is there from mount.
class BareTransport : public SimTest {
protected:
    void SetUp() override {
        SimTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
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
