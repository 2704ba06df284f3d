// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// sysfs as rpmsg users see it: bus device names and attribute strings, class devices, the
// drivers directory (docs/kernel-abi.md §5, §6.1, §10).

#include "conformance_fixture.h"

#include <algorithm>
#include <cerrno>
#include <regex>

namespace conformance {
namespace {

class Sysfs : public ConformanceTest {
protected:
    std::string ctrlBusDev() const { return virtio() + ".rpmsg_ctrl.0.0"; }

    /// Checks a class device's `dev` against its uevent; returns its major ("" on failure).
    std::string checkDevNumbers(const std::string& dev) {
        const std::string numbers = readAttr(classRpmsg(dev, "dev"));
        std::smatch m;
        static const std::regex devRe("([0-9]+):([0-9]+)\n");
        if (!std::regex_match(numbers, m, devRe)) {
            ADD_FAILURE() << dev << "/dev is '" << numbers << "'";
            return "";
        }
        const std::string uevent = readAttr(classRpmsg(dev, "uevent"));
        for (const std::string& line : {"MAJOR=" + m[1].str() + "\n", "MINOR=" + m[2].str() + "\n",
                                        "DEVNAME=" + dev + "\n"}) {
            EXPECT_NE(uevent.find(line), std::string::npos)
                << dev << "/uevent lacks " << line << ": '" << uevent << "'";
        }
        return m[1].str();
    }
};

TEST_F(Sysfs, BusDeviceNames) {
    std::vector<std::string> expect = announcedChannels();
    expect.push_back(ctrlBusDev());
    expect.push_back(virtio() + ".rpmsg_ns.53.53");
    std::sort(expect.begin(), expect.end());
    const auto devs = list("sys/bus/rpmsg/devices");
    EXPECT_EQ(devs, expect);
    const std::string virtioDir = canonical("sys/bus/virtio/devices/" + virtio());
    ASSERT_FALSE(virtioDir.empty()) << "no sys/bus/virtio/devices/" << virtio();
    for (const auto& d : devs) {
        EXPECT_TRUE(isSymlink(busDev(d))) << d;
        EXPECT_EQ(canonical(busDev(d)), virtioDir + "/" + d) << "a child of the virtio device";
    }
    EXPECT_EQ(readAttr("sys/bus/virtio/devices/" + virtio() + "/device"), "0x0007\n")
        << "VIRTIO_ID_RPMSG";
}

TEST_F(Sysfs, AnnouncedChannelAttributes) {
    const std::string dev = channel("rpmsg-echo", echoAddr());
    EXPECT_EQ(readAttr(busDev(dev, "name")), "rpmsg-echo\n");
    EXPECT_EQ(readAttr(busDev(dev, "src")), "0xffffffff\n");
    EXPECT_EQ(readAttr(busDev(dev, "dst")), hexLine(echoAddr()));
    EXPECT_EQ(readAttr(busDev(dev, "announce")), "false\n");
    EXPECT_EQ(readAttr(busDev(dev, "driver_override")), "(null)\n");
    EXPECT_EQ(readAttr(busDev(dev, "modalias")), "rpmsg:rpmsg-echo\n");
    for (const char* a : {"name", "src", "dst", "announce", "modalias"}) {
        EXPECT_EQ(mode(busDev(dev, a)), 0444u) << a;
    }
    EXPECT_EQ(mode(busDev(dev, "driver_override")), 0644u);
    EXPECT_NE(readAttr(busDev(dev, "uevent")).find("MODALIAS=rpmsg:rpmsg-echo\n"),
              std::string::npos);
    EXPECT_EQ(writeAttr(busDev(dev, "name"), "x"), EACCES) << "read-only even for root";
}

TEST_F(Sysfs, CtrlAndNsDeviceAttributes) {
    const std::string ctrl = ctrlBusDev();
    EXPECT_EQ(readAttr(busDev(ctrl, "driver_override")), "rpmsg_ctrl\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "name")), "rpmsg_ctrl\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "src")), "0x0\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "dst")), "0x0\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "announce")), "false\n");
    EXPECT_EQ(readAttr(busDev(ctrl, "modalias")), "rpmsg:rpmsg_ctrl\n");
    const std::string ns = virtio() + ".rpmsg_ns.53.53";
    EXPECT_EQ(readAttr(busDev(ns, "driver_override")), "rpmsg_ns\n");
    EXPECT_EQ(readAttr(busDev(ns, "name")), "rpmsg_ns\n");
    EXPECT_EQ(readAttr(busDev(ns, "src")), "0x35\n");
    EXPECT_EQ(readAttr(busDev(ns, "dst")), "0x35\n");
    EXPECT_EQ(readAttr(busDev(ns, "announce")), "false\n");
    EXPECT_EQ(readAttr(busDev(ns, "modalias")), "rpmsg:rpmsg_ns\n");
}

TEST_F(Sysfs, DriverOverrideWriteIsCutAtNewlineAndEmptyClears) {
    const std::string dev = channel("rpmsg-echo", echoAddr());
    EXPECT_EQ(writeAttr(busDev(dev, "driver_override"), "foo\nbar"), 0);
    EXPECT_EQ(readAttr(busDev(dev, "driver_override")), "foo\n");
    EXPECT_EQ(writeAttr(busDev(dev, "driver_override"), "\n"), 0);
    EXPECT_EQ(readAttr(busDev(dev, "driver_override")), "(null)\n");
}

TEST_F(Sysfs, DriversDirectoryListsTheRpmsgDrivers) {
    // rpmsg_tty (CONFIG_RPMSG_TTY, since 5.16) is in the lane's kernels and in the twin's 6.x
    // profiles alike.
    const auto drivers = list("sys/bus/rpmsg/drivers");
    EXPECT_EQ(drivers,
              (std::vector<std::string>{"rpmsg_chrdev", "rpmsg_ctrl", "rpmsg_ns", "rpmsg_tty"}));
    for (const char* d : {"rpmsg_chrdev", "rpmsg_ctrl", "rpmsg_ns", "rpmsg_tty"}) {
        EXPECT_TRUE(isDir("sys/bus/rpmsg/drivers/" + std::string(d))) << d;
    }
}

TEST_F(Sysfs, CtrlClassDevice) {
    const std::string ctrl = ctrlName();
    ASSERT_TRUE(isSymlink(classRpmsg(ctrl)));
    EXPECT_EQ(canonical(classRpmsg(ctrl)), canonical(busDev(ctrlBusDev())) + "/rpmsg/" + ctrl);
    checkDevNumbers(ctrl);
    EXPECT_EQ(mode("dev/" + ctrl), 0600u);
}

TEST_F(Sysfs, EptdevClassDevice) {
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "cls", RPMSG_ADDR_ANY, echoAddr());
    ASSERT_FALSE(dev.empty());
    const std::string eptMajor = checkDevNumbers(dev);
    const std::string ctrlMajor = checkDevNumbers(ctrlName());
    EXPECT_NE(eptMajor, ctrlMajor) << "rpmsg_ctrl and rpmsg_char have their own chrdev regions";
    EXPECT_EQ(checkDevNumbers(rawEptdev()), eptMajor);
}

} // namespace
} // namespace conformance
