// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// remoteproc sysfs attributes: the default tree, exact strings, modes and write parsing
// (docs/kernel-abi.md §1, docs/simulator.md "Attribute reads return the kernel's exact words").

#include "sim_fixture.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace simtest {
namespace {

class Attributes : public SimTest {};

TEST_F(Attributes, DefaultTreeWithoutConfigHasCm4AndDsp) {
    SimOptions options; // no --config: the built-in two processors
    ASSERT_NO_FATAL_FAILURE(startSim(options));
    EXPECT_EQ(readAttr(rproc(0, "name")), "cm4\n");
    EXPECT_EQ(readAttr(rproc(1, "name")), "dsp\n");
    for (int n : {0, 1}) {
        EXPECT_EQ(readAttr(rproc(n, "state")), "offline\n") << n;
        EXPECT_EQ(readAttr(rproc(n, "recovery")), "enabled\n") << n;
        EXPECT_EQ(readAttr(rproc(n, "coredump")), "disabled\n") << n;
    }
    EXPECT_EQ(readAttr(rproc(0, "firmware")), "rproc-cm4-fw\n");
    EXPECT_EQ(readAttr(rproc(1, "firmware")), "rproc-dsp-fw\n");
    EXPECT_FALSE(exists(rproc(2)));
    EXPECT_EQ(listDir(path("sys/class/remoteproc")),
              (std::vector<std::string>{"remoteproc0", "remoteproc1"}));
    // Nothing rpmsg exists while everything is offline.
    EXPECT_TRUE(devNodes().empty());
}

TEST_F(Attributes, ClassEntryIsSymlinkIntoDevicesPlatform) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    for (int n : {0, 1}) {
        const std::string name = n == 0 ? "cm4" : "dsp";
        ASSERT_TRUE(isSymlink(rproc(n))) << rproc(n) << " must be a symlink";
        char target[4096] = {};
        ASSERT_GT(::readlink(path(rproc(n)).c_str(), target, sizeof target - 1), 0);
        EXPECT_EQ(std::string(target).rfind("../../devices/platform/", 0), 0u) << target;
        EXPECT_EQ(resolved(rproc(n)), "sys/devices/platform/sim-" + name +
                                          "/remoteproc/remoteproc" + std::to_string(n));
        EXPECT_TRUE(isDir(rproc(n)));
    }
}

TEST_F(Attributes, ModesAreKernelModes) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    for (const char* a : {"firmware", "state", "recovery", "coredump"}) {
        EXPECT_EQ(mode(rproc(0, a)), 0644u) << a;
    }
    EXPECT_EQ(mode(rproc(0, "name")), 0444u);
    struct stat st {};
    ASSERT_EQ(::stat(path(rproc(0, "state")).c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, 0u);
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(Attributes, UeventAndSubsystemPresent) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    EXPECT_TRUE(exists(rproc(0, "uevent")));
    EXPECT_TRUE(isSymlink(rproc(0, "subsystem")));
    EXPECT_EQ(resolved(rproc(0, "subsystem")), "sys/class/remoteproc");
}

TEST_F(Attributes, NameIsReadOnlyEvenForRoot) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    errno = 0;
    const int fd = ::open(path(rproc(0, "name")).c_str(), O_WRONLY);
    EXPECT_EQ(fd, -1);
    EXPECT_EQ(errno, EACCES);
    if (fd >= 0) {
        ::close(fd);
    }
    EXPECT_EQ(writeAttr(rproc(0, "name"), "x\n"), EACCES);
    EXPECT_EQ(readAttr(rproc(0, "name")), "cm4\n");
}

TEST_F(Attributes, StateAcceptsWordWithAndWithoutOneNewline) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    EXPECT_EQ(state(), "running");
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_EQ(state(), "offline");
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start\n"), 0);
    EXPECT_EQ(state(), "running");
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop\n"), 0);
    EXPECT_EQ(state(), "offline");
}

TEST_F(Attributes, StateRejectsOtherWords) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    for (const char* w : {"start\n\n", "bogus", "bogus\n", "Start", " start", "start ", "starts",
                          "sta", "\n", "start\r\n", "suspend", "resume"}) {
        EXPECT_EQ(writeAttr(rproc(0, "state"), w), EINVAL) << "'" << w << "'";
        EXPECT_EQ(state(), "offline") << "after '" << w << "'";
    }
    // `detach` from offline: EINVAL (only `attached` can detach).
    EXPECT_EQ(writeAttr(rproc(0, "state"), "detach\n"), EINVAL);
}

TEST_F(Attributes, SuccessfulWriteReturnsFullCount) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    const int fd = ::open(path(rproc(0, "recovery")).c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::write(fd, "disabled\n", 9), 9);
    ::close(fd);
    const int fd2 = ::open(path(rproc(0, "state")).c_str(), O_WRONLY);
    ASSERT_GE(fd2, 0);
    EXPECT_EQ(::write(fd2, "start", 5), 5);
    ::close(fd2);
    EXPECT_EQ(state(), "running");
}

TEST_F(Attributes, RecoveryWords) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    EXPECT_EQ(writeAttr(rproc(0, "recovery"), "disabled"), 0);
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "disabled\n");
    EXPECT_EQ(writeAttr(rproc(0, "recovery"), "enabled\n"), 0);
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "enabled\n");
    EXPECT_EQ(writeAttr(rproc(0, "recovery"), "disabled\n"), 0);
    // `recover` is a no-op unless crashed, leaves the flag alone and still returns the count.
    EXPECT_EQ(writeAttr(rproc(0, "recovery"), "recover\n"), 0);
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "disabled\n");
    EXPECT_EQ(state(), "offline");
    for (const char* w : {"bogus", "enable", "Enabled", "enabled\n\n", "recovered", "\n", "1"}) {
        EXPECT_EQ(writeAttr(rproc(0, "recovery"), w), EINVAL) << "'" << w << "'";
    }
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "disabled\n");
}

TEST_F(Attributes, CoredumpWords) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    for (const char* w : {"enabled", "inline\n", "disabled\n"}) {
        EXPECT_EQ(writeAttr(rproc(0, "coredump"), w), 0) << w;
        std::string expect = w;
        if (expect.back() != '\n') {
            expect += '\n';
        }
        EXPECT_EQ(readAttr(rproc(0, "coredump")), expect);
    }
    for (const char* w : {"default", "default\n", "enable", "bogus", "inline\n\n", "\n"}) {
        EXPECT_EQ(writeAttr(rproc(0, "coredump"), w), EINVAL) << "'" << w << "'";
    }
    EXPECT_EQ(readAttr(rproc(0, "coredump")), "disabled\n");
}

TEST_F(Attributes, FirmwareWriteAndRead) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    EXPECT_EQ(readAttr(rproc(0, "firmware")), "echo.elf\n");
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "other.elf\n"), 0);
    EXPECT_EQ(readAttr(rproc(0, "firmware")), "other.elf\n");
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "ti/sub.elf"), 0);
    EXPECT_EQ(readAttr(rproc(0, "firmware")), "ti/sub.elf\n");
    // Copied up to the first newline.
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "a.elf\nb.elf"), 0);
    EXPECT_EQ(readAttr(rproc(0, "firmware")), "a.elf\n");
    // Empty name.
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "\n"), EINVAL);
    EXPECT_EQ(readAttr(rproc(0, "firmware")), "a.elf\n");
}

TEST_F(Attributes, FirmwareInSubdirectoryBoots) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_EQ(::mkdir((sim().firmwareDir() + "/ti").c_str(), 0755), 0);
    ASSERT_NO_FATAL_FAILURE(makeFirmware("ti/sub.elf", echoSpec()));
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "ti/sub.elf\n"), 0);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start\n"), 0);
    EXPECT_EQ(state(), "running");
}

TEST_F(Attributes, FirmwareWriteWhileRunningIsEBUSY) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "other.elf\n"), EBUSY);
    EXPECT_EQ(readAttr(rproc(0, "firmware")), "echo.elf\n");
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "\n"), EBUSY);
}

TEST_F(Attributes, FirmwareChangeTakesEffectAtNextBoot) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "missing.elf"), 0);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start"), ENOENT);
    EXPECT_EQ(state(), "offline");
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "echo.elf"), 0);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    EXPECT_EQ(state(), "running");
}

TEST_F(Attributes, SysfsReadOnlyProcessor) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim(
        echoSpec(), [](nlohmann::json& c) { c["processors"][0]["sysfs_read_only"] = true; }));
    for (const char* a : {"firmware", "state", "recovery", "coredump", "name"}) {
        EXPECT_EQ(mode(rproc(0, a)), 0444u) << a;
        EXPECT_EQ(writeAttr(rproc(0, a), "x"), EACCES) << a;
    }
    EXPECT_EQ(mode(rproc(1, "state")), 0644u);
    EXPECT_EQ(state(0), "offline");
}

TEST_F(Attributes, DetachedProcessorAttachesAndDetaches) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim(
        echoSpec(), [](nlohmann::json& c) { c["processors"][0]["initial_state"] = "detached"; }));
    EXPECT_EQ(state(), "detached");
    EXPECT_EQ(writeAttr(rproc(0, "state"), "start\n"), 0);
    EXPECT_EQ(state(), "attached");
    EXPECT_EQ(readAttr(rproc(0, "firmware")), "unknown\n");
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "x.elf"), EBUSY);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "detach\n"), 0);
    EXPECT_EQ(state(), "detached");
    EXPECT_EQ(writeAttr(rproc(0, "state"), "detach\n"), EINVAL);
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop\n"), EINVAL);
}

TEST_F(Attributes, AttachedProcessorStopsToOffline) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim(
        echoSpec(), [](nlohmann::json& c) { c["processors"][0]["initial_state"] = "detached"; }));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    ASSERT_EQ(state(), "attached");
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_EQ(state(), "offline");
    EXPECT_EQ(readAttr(rproc(0, "firmware")), "echo.elf\n");
}

TEST_F(Attributes, ConfigUnknownKeyIsRefused) {
    auto config = defaultConfig();
    config["processors"][0]["colour"] = "blue";
    writeTextFile(sim().configPath(), config.dump());
    const auto r = runCommand({simBinary(), sim().mountDir(), "--config", sim().configPath(),
                               "--firmware-dir", sim().firmwareDir()},
                              10s);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("colour"), std::string::npos) << r.err;
    EXPECT_FALSE(isMounted(sim().mountDir()));
}

} // namespace
} // namespace simtest
