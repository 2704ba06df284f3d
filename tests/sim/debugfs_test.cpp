// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// debugfs: sys/kernel/debug/remoteproc/remoteprocN (docs/kernel-abi.md §2).

#include "sim_fixture.h"

#include <cerrno>

namespace simtest {
namespace {

class Debugfs : public SimTest {
protected:
    void up() override { ASSERT_NO_FATAL_FAILURE(startEchoSim()); }

    long crashCount() {
        const auto p = processor();
        return p.is_object() && p["crash_count"].is_number() ? p["crash_count"].get<long>() : -1;
    }
};

TEST_F(Debugfs, FilesAndModes) {
    for (int n : {0, 1}) {
        EXPECT_TRUE(isDir(debugfs(n))) << n;
        EXPECT_EQ(mode(debugfs(n, "name")), 0400u);
        EXPECT_EQ(mode(debugfs(n, "crash")), 0200u);
        EXPECT_EQ(mode(debugfs(n, "recovery")), 0600u);
        EXPECT_EQ(mode(debugfs(n, "coredump")), 0600u);
        EXPECT_EQ(mode(debugfs(n, "resource_table")), 0400u);
        EXPECT_EQ(mode(debugfs(n, "carveout_memories")), 0400u);
        EXPECT_FALSE(exists(debugfs(n, "trace0"))) << "no trace buffer while offline";
    }
    EXPECT_EQ(readAttr(debugfs(0, "name")), "cm4\n");
    EXPECT_EQ(readAttr(debugfs(1, "name")), "dsp\n");
}

TEST_F(Debugfs, CrashTakesUnsignedNumbers) {
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "abc"), EINVAL);
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "fatal"), EINVAL);
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "1abc"), EINVAL);
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "-1"), EINVAL);
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "99999999999"), ERANGE);
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "4294967296"), ERANGE);
    EXPECT_EQ(crashCount(), 0);
    EXPECT_EQ(state(), "running");

    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "1"), 0);
    ASSERT_TRUE(waitFor([&] {
        return crashCount() == 1 && state() == "running" &&
               exists(busDev("virtio0.rpmsg-echo.-1.1024"));
    }));
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "0x2\n"), 0);
    ASSERT_TRUE(waitFor([&] { return crashCount() == 2 && state() == "running"; }));
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "010"), 0) << "octal 8: an unknown type";
    ASSERT_TRUE(waitFor([&] { return crashCount() == 3 && state() == "running"; }));
}

TEST_F(Debugfs, RecoveryWordsAndPrefixes) {
    EXPECT_EQ(readAttr(debugfs(0, "recovery")), "enabled\n");
    EXPECT_EQ(writeAttr(debugfs(0, "recovery"), "disabled"), 0);
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "disabled\n");
    EXPECT_EQ(readAttr(debugfs(0, "recovery")), "disabled\n");
    EXPECT_EQ(writeAttr(debugfs(0, "recovery"), "enabled\n"), 0);
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "enabled\n");
    // strncmp(buf, word, count): prefixes match, but count still includes the newline that
    // was replaced by NUL, so "dis\n" compares "dis\0" with "disa" and fails.
    EXPECT_EQ(writeAttr(debugfs(0, "recovery"), "dis"), 0);
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "disabled\n");
    EXPECT_EQ(writeAttr(debugfs(0, "recovery"), "en\n"), EINVAL);
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "disabled\n");
    EXPECT_EQ(writeAttr(debugfs(0, "recovery"), "e"), 0);
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "enabled\n");
    EXPECT_EQ(writeAttr(debugfs(0, "recovery"), "recover"), 0);
    EXPECT_EQ(writeAttr(debugfs(0, "recovery"), "bogus"), EINVAL);
    EXPECT_EQ(writeAttr(debugfs(0, "recovery"), "enabledxxxx"), EINVAL) << "more than 10 bytes";
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "enabled\n");
}

TEST_F(Debugfs, CoredumpMirrorsSysfs) {
    EXPECT_EQ(readAttr(debugfs(0, "coredump")), "disabled\n");
    EXPECT_EQ(writeAttr(debugfs(0, "coredump"), "inline\n"), 0);
    EXPECT_EQ(readAttr(rproc(0, "coredump")), "inline\n");
    EXPECT_EQ(writeAttr(rproc(0, "coredump"), "enabled"), 0);
    EXPECT_EQ(readAttr(debugfs(0, "coredump")), "enabled\n");
    EXPECT_EQ(writeAttr(debugfs(0, "coredump"), "bogus"), EINVAL);
    EXPECT_EQ(writeAttr(debugfs(0, "coredump"), std::string(21, 'd')), EINVAL);
    EXPECT_EQ(readAttr(rproc(0, "coredump")), "enabled\n");
}

TEST_F(Debugfs, ResourceTableFollowsTheLoadedImage) {
    EXPECT_EQ(readAttr(debugfs(0, "resource_table")), "No resource table found\n");
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    const auto table = readAttr(debugfs(0, "resource_table"));
    EXPECT_NE(table.find("Entry 0 is of type trace"), std::string::npos) << table;
    EXPECT_NE(table.find("Entry 1 is of type vdev"), std::string::npos) << table;
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_EQ(readAttr(debugfs(0, "resource_table")), "No resource table found\n");
}

TEST_F(Debugfs, Trace0HoldsTheFirmwareTraceWhileRunning) {
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    ASSERT_TRUE(exists(debugfs(0, "trace0")));
    EXPECT_EQ(mode(debugfs(0, "trace0")), 0400u);
    const auto trace = readAttr(debugfs(0, "trace0"));
    EXPECT_NE(trace.find("boot ok"), std::string::npos) << trace;
    EXPECT_NE(trace.find("echo ready"), std::string::npos) << trace;
    EXPECT_EQ(trace.find('\0'), std::string::npos) << "a read stops at the first NUL";
    EXPECT_FALSE(exists(debugfs(1, "trace0")));
    ASSERT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_FALSE(exists(debugfs(0, "trace0")));
}

TEST_F(Debugfs, ImageWithoutTraceHasNoTrace0) {
    auto spec = echoSpec();
    spec["image"] = {{"trace_len", 0}};
    ASSERT_NO_FATAL_FAILURE(makeFirmware("notrace.elf", spec));
    ASSERT_EQ(writeAttr(rproc(0, "firmware"), "notrace.elf"), 0);
    ASSERT_EQ(writeAttr(rproc(0, "state"), "start"), 0);
    EXPECT_FALSE(exists(debugfs(0, "trace0")));
    const auto table = readAttr(debugfs(0, "resource_table"));
    EXPECT_NE(table.find("Entry 0 is of type vdev"), std::string::npos) << table;
}

} // namespace
} // namespace simtest
