// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgd's lifecycle half on a real remoteproc: the same cases on the host against the twin
// (`daemon-rproc-lane`) and inside scripts/virtual-board against the kernel's own remoteproc core
// on Linux 6.1 and 6.12 (RPMSG_TARGET=kernel, run by tests/uml/board-lane), whose processor cm4
// is the test driver's with its firmware played by `rpmsg-sim remote --rproc`. Nothing here
// tells rpmsgd which of the two it runs on: it is pointed at /sys, /dev, debugfs and the
// firmware directory, as on a board. On the kernel the cases run in both watch modes (poll, and
// udev with RPMSGD_LANE_WATCH=udev).

#include "fixture.h"

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <iterator>
#include <sstream>
#include <unistd.h>

namespace itest {
namespace {

namespace fs = std::filesystem;

bool onKernel() {
    const char* t = std::getenv("RPMSG_TARGET");
    return t && std::string(t) == "kernel";
}

/// The kernel's firmware directory (firmware_class.path, writable on the virtual board).
std::string kernelFirmwareDir() {
    std::string dir = simtest::readFile("/sys/module/firmware_class/parameters/path").data;
    return dir.substr(0, dir.find('\n'));
}

/// The group the channel rule allows: "rpmsg" from our sysusers.d file (the guest's init adds
/// it), or "nogroup" on a host without it.
std::string clientGroup() {
    return ::getgrnam("rpmsg") ? "rpmsg" : "nogroup";
}

Cred clientCred() {
    const group* g = ::getgrnam(clientGroup().c_str());
    return Cred{65534, g ? g->gr_gid : 65534, {}};
}

std::string fileContents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class RprocLane : public DaemonTest {
protected:
    void configure(EnvOptions& o) override {
        o.realKernel = onKernel();
        o.firmware = echoFirmwareSpec(200); // a boot as slow as real firmware's
        const std::string group = clientGroup();
        const bool kernel = o.realKernel;
        const bool autostart = autostart_;
        // RPMSGD_LANE_WATCH=udev: rpmsgd's sd-device monitor on the uevents of the guest's
        // systemd-udevd (the virtual board runs one) instead of polling.
        const char* watch = std::getenv("RPMSGD_LANE_WATCH");
        const std::string mode = watch ? watch : "poll";
        o.editConfig = [group, kernel, autostart, mode](nlohmann::json& c) {
            if (kernel) {
                c["paths"]["firmware"] = kernelFirmwareDir();
            }
            c["watch"]["mode"] = mode;
            c["channels"] = {{{"match", "*"}, {"processor", "*"}, {"groups", {group}}}};
            c["processors"] = {{{"match", "cm4"},
                                {"firmware", "echo.elf"},
                                {"recovery", "enabled"},
                                {"coredump", "enabled"},
                                {"autostart", autostart}}};
        };
        if (o.realKernel) {
            // The kernel's processor must be offline and the image in place before rpmsgd
            // applies its config.
            prepareKernel();
        }
    }

    void prepareKernel() {
        const std::string dir = kernelFirmwareDir();
        const std::string spec = dir + "/echo.elf.json";
        simtest::writeTextFile(spec, echoFirmwareSpec(200).dump());
        auto r = simtest::runCommand(
            {simtest::simBinary(), "mkfw", "--spec", spec, "--out", dir + "/echo.elf"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const std::string proc = "/sys/class/remoteproc/remoteproc0";
        if (simtest::readFile(proc + "/state").data != "offline\n") {
            simtest::writeFile(proc + "/state", "stop");
        }
        simtest::writeFile("/sys/kernel/debug/remoteproc/remoteproc0/recovery", "enabled");
        for (const auto& d : simtest::listDir("/sys/class/devcoredump")) {
            simtest::writeFile("/sys/class/devcoredump/" + d + "/data", "1");
        }
    }

    void TearDown() override {
        DaemonTest::TearDown();
        if (onKernel()) {
            // The next case finds the processor offline whatever this one left.
            const std::string proc = "/sys/class/remoteproc/remoteproc0";
            if (simtest::readFile(proc + "/state").data != "offline\n") {
                simtest::writeFile(proc + "/state", "stop");
            }
        }
    }

    std::string firmwareDir() { return onKernel() ? kernelFirmwareDir() : env().firmwareDir(); }

    /// A crash reported the way the processor's owner sees it: the twin's `ctl crash`, the
    /// kernel's debugfs `crash` file (RPROC_WATCHDOG).
    void crash() {
        if (onKernel()) {
            ASSERT_EQ(simtest::writeFile("/sys/kernel/debug/remoteproc/remoteproc0/crash", "1"), 0);
        } else {
            ctlOk({"crash", "cm4"});
        }
    }

    std::string state(const std::string& p) {
        return root().get<std::string>(p, ProcessorIface, "State");
    }

    bool waitState(const std::string& p, const std::string& want) {
        return simtest::waitFor([&] { return state(p) == want; }, 20s);
    }

    void makeImage(const std::string& name, const nlohmann::json& spec) {
        const std::string specPath = firmwareDir() + "/" + name + ".json";
        simtest::writeTextFile(specPath, spec.dump());
        auto r = simtest::runCommand({simtest::simBinary(), "mkfw", "--spec", specPath, "--out",
                                      firmwareDir() + "/" + name});
        ASSERT_EQ(r.exitCode, 0) << r.err;
    }

    bool autostart_ = false;
};

TEST_F(RprocLane, StartPublishesTheChannelsAndStopRemovesThem) {
    const std::string p = cm4();
    EXPECT_EQ(state(p), "offline");
    ASSERT_TRUE(errorOf([&] { root().start(p); }).ok());
    EXPECT_EQ(state(p), "running");
    const std::string echo = root().waitForChannel("rpmsg-echo", "cm4", 10000);
    ASSERT_FALSE(echo.empty());
    SignalRecorder rec;
    ASSERT_TRUE(errorOf([&] { root().stop(p); }).ok());
    EXPECT_EQ(state(p), "offline");
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(echo); }, 10s))
        << rec.describe();
}

TEST_F(RprocLane, RestartStopsAndStartsAgain) {
    const std::string p = cm4();
    ASSERT_TRUE(errorOf([&] { root().start(p); }).ok());
    const std::string echo = root().waitForChannel("rpmsg-echo", "cm4", 10000);
    SignalRecorder rec;
    const auto e = errorOf([&] { root().restart(p); });
    ASSERT_TRUE(e.ok()) << e.str();
    EXPECT_EQ(state(p), "running");
    EXPECT_TRUE(rec.waitForSequence([&](const Signal& s) { return s.isRemoved(echo); },
                                    [&](const Signal& s) { return s.isAdded(echo); }, 10s))
        << rec.describe();
}

TEST_F(RprocLane, SetFirmwareByNameBootsThatImage) {
    makeImage("other.elf",
              {{"boot_ms", 20},
               {"services", {{{"name", "other-echo"}, {"addr", 1030}, {"kind", "echo"}}}}});
    const std::string p = cm4();
    const auto e = errorOf([&] { root().setFirmware(p, "other.elf"); });
    ASSERT_TRUE(e.ok()) << e.str();
    EXPECT_EQ(root().get<std::string>(p, ProcessorIface, "Firmware"), "other.elf");
    ASSERT_TRUE(errorOf([&] { root().start(p); }).ok());
    EXPECT_FALSE(root().waitForChannel("other-echo", "cm4", 10000).empty());
}

TEST_F(RprocLane, LoadFirmwareByFdBootsTheUploadedImage) {
    makeImage("upload.elf",
              {{"boot_ms", 20},
               {"services", {{{"name", "uploaded-echo"}, {"addr", 1031}, {"kind", "echo"}}}}});
    const std::string p = cm4();
    const int fd = ::open((firmwareDir() + "/upload.elf").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::string set;
    const auto e = errorOf([&] { set = root().loadFirmware(p, fd, "m4_app.elf"); });
    ::close(fd);
    ASSERT_TRUE(e.ok()) << e.str();
    EXPECT_EQ(set, "rpmsgd/m4_app.elf");
    EXPECT_EQ(fileContents(firmwareDir() + "/rpmsgd/m4_app.elf"),
              fileContents(firmwareDir() + "/upload.elf"));
    ASSERT_TRUE(errorOf([&] { root().start(p); }).ok());
    EXPECT_FALSE(root().waitForChannel("uploaded-echo", "cm4", 10000).empty());
}

TEST_F(RprocLane, LoadFirmwareRefusesWhatTheKernelWouldRefuse) {
    const std::string dir = firmwareDir();
    const std::string specPath = dir + "/broken.json";
    simtest::writeTextFile(specPath, echoFirmwareSpec().dump());
    auto r = simtest::runCommand({simtest::simBinary(), "mkfw", "--spec", specPath, "--out",
                                  dir + "/broken.elf", "--defect", "no-resource-table"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const int fd = ::open((dir + "/broken.elf").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    const auto e = errorOf([&] { root().loadFirmware(cm4(), fd, "broken.elf"); });
    ::close(fd);
    EXPECT_DBUS_ERROR(e, "org.rpmsgd.Broker1.Error.InvalidFirmware");
    EXPECT_FALSE(fs::exists(dir + "/rpmsgd/broken.elf"));
    EXPECT_EQ(state(cm4()), "offline");
}

TEST_F(RprocLane, ReadTraceGivesTheFirmwaresLines) {
    const std::string p = cm4();
    ASSERT_TRUE(errorOf([&] { root().start(p); }).ok());
    root().waitForChannel("rpmsg-echo", "cm4", 10000);
    std::string trace;
    const auto e = errorOf([&] { trace = root().readTrace(p, 0); });
    ASSERT_TRUE(e.ok()) << e.str();
    EXPECT_NE(trace.find("boot ok"), std::string::npos) << trace;
    EXPECT_NE(trace.find("echo ready"), std::string::npos) << trace;
}

TEST_F(RprocLane, NobodyInGroupRpmsgOpensAChannelAndItEchoes) {
    ASSERT_TRUE(errorOf([&] { root().start(cm4()); }).ok());
    const std::string echo = root().waitForChannel("rpmsg-echo", "cm4", 10000);
    ASSERT_FALSE(echo.empty());
    const std::string out = runAs(clientCred(), [&](Client& c) {
        Opened ep = c.open(echo);
        std::string got;
        for (int i = 0; i < 3; ++i) {
            got += roundTrip(ep.fd.get(), "hello " + std::to_string(i)) + ";";
        }
        return got;
    });
    EXPECT_EQ(out, "hello 0;hello 1;hello 2;");
}

TEST_F(RprocLane, ACrashGivesCrashedASavedCoreAndTheKernelsRecovery) {
    const std::string p = cm4();
    ASSERT_TRUE(errorOf([&] { root().start(p); }).ok());
    const std::string echo = root().waitForChannel("rpmsg-echo", "cm4", 10000);
    SignalRecorder rec;
    ASSERT_NO_FATAL_FAILURE(crash());
    auto crashed =
        rec.waitFor([&](const Signal& s) { return s.member == "Crashed" && s.path == p; }, 20s);
    ASSERT_TRUE(crashed) << rec.describe();
    EXPECT_TRUE(simtest::waitFor(
        [&] { return !root().get<std::string>(p, ProcessorIface, "LastCoredump").empty(); }, 20s));
    const std::string core = root().get<std::string>(p, ProcessorIface, "LastCoredump");
    EXPECT_EQ(core.rfind(env().root() + "/state/coredumps/remoteproc0-", 0), 0u) << core;
    const std::string bytes = fileContents(core);
    ASSERT_GE(bytes.size(), 52u);
    EXPECT_EQ(bytes.substr(0, 4), "\x7f"
                                  "ELF");
    EXPECT_EQ(uint8_t(bytes[16]), 4); // ET_CORE
    EXPECT_TRUE(waitState(p, "running"));
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "CrashCount"), 1u);
    EXPECT_FALSE(root().waitForChannel("rpmsg-echo", "cm4", 10000).empty());
}

TEST_F(RprocLane, WithRecoveryOffTheDaemonsPolicyRestartsIt) {
    const std::string p = cm4();
    ASSERT_TRUE(errorOf([&] { root().start(p); }).ok());
    root().waitForChannel("rpmsg-echo", "cm4", 10000);
    ASSERT_TRUE(errorOf([&] { root().setRecovery(p, false); }).ok());
    SignalRecorder rec;
    ASSERT_NO_FATAL_FAILURE(crash());
    ASSERT_TRUE(
        rec.waitFor([&](const Signal& s) { return s.member == "Crashed" && s.path == p; }, 20s))
        << rec.describe();
    // The default policy (5 crashes in 300 s) lets rpmsgd bring it back itself.
    EXPECT_TRUE(waitState(p, "running"));
    EXPECT_FALSE(root().waitForChannel("rpmsg-echo", "cm4", 10000).empty());
}

class RprocLaneAutostart : public RprocLane {
protected:
    void configure(EnvOptions& o) override {
        autostart_ = true;
        RprocLane::configure(o);
    }
};

TEST_F(RprocLaneAutostart, TheConfigStartsTheProcessor) {
    const std::string p = cm4();
    EXPECT_TRUE(waitState(p, "running"));
    EXPECT_FALSE(root().waitForChannel("rpmsg-echo", "cm4", 10000).empty());
}

} // namespace
} // namespace itest
