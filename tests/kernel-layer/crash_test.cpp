// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// devcoredump through daemon/kernel against rpmsg-sim (docs/kernel-abi.md §4).

#include "daemon/kernel/error.h"
#include "daemon/kernel/remoteproc.h"
#include "kernel_fixture.h"

#include <cerrno>

namespace kerneltest {
namespace {

using namespace rpmsgd::kernel;

using Coredumps = KernelTest;

TEST_F(Coredumps, ListReadDismiss) {
    ASSERT_NO_FATAL_FAILURE(startSim(simtest::echoSpec(), [](nlohmann::json& c) {
        c["processors"][0]["coredump"] = "enabled";
    }));
    EXPECT_TRUE(listCoredumps(paths()).empty());
    ASSERT_TRUE(start(paths(), "remoteproc0"));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(simtest::waitFor([&] { return !listCoredumps(paths()).empty(); }));
    const auto dumps = listCoredumps(paths());
    ASSERT_EQ(dumps.size(), 1u);
    EXPECT_EQ(dumps[0].device, "devcd1");
    EXPECT_EQ(dumps[0].failingDevice, "remoteproc0");
    EXPECT_EQ(dumps[0].processorId, "remoteproc0");
    EXPECT_EQ(readProcessor(paths(), "remoteproc0")->devcoredump, "devcd1");

    const auto simDumps = dump()["devcoredumps"];
    ASSERT_EQ(simDumps.size(), 1u);
    const size_t size = simDumps[0]["size"].get<size_t>();
    const auto data = readCoredump(paths(), "devcd1", 64 * 1024 * 1024);
    EXPECT_FALSE(data.truncated);
    ASSERT_EQ(data.bytes.size(), size);
    ASSERT_GE(data.bytes.size(), 18u);
    EXPECT_EQ(data.bytes[0], 0x7f);
    EXPECT_EQ(data.bytes[1], 'E');
    EXPECT_EQ(data.bytes[16], 4) << "ET_CORE";
    const auto head = readCoredump(paths(), "devcd1", 100);
    EXPECT_TRUE(head.truncated);
    EXPECT_EQ(head.bytes.size(), 100u);

    EXPECT_TRUE(dismissCoredump(paths(), "devcd1"));
    ASSERT_TRUE(simtest::waitFor([&] { return listCoredumps(paths()).empty(); }));
    EXPECT_EQ(readProcessor(paths(), "remoteproc0")->devcoredump, "");
    EXPECT_FALSE(dismissCoredump(paths(), "devcd1"));
    try {
        readCoredump(paths(), "devcd1", 1024);
        FAIL() << "read a dismissed dump";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.error(), ENOENT);
        EXPECT_STREQ(e.what(), "read devcd1/data: No such file or directory (ENOENT)");
    }
}

TEST_F(Coredumps, InlineRecoveryWaitsForDismissal) {
    ASSERT_NO_FATAL_FAILURE(startSim(
        simtest::echoSpec(), [](nlohmann::json& c) { c["processors"][0]["coredump"] = "inline"; }));
    ASSERT_TRUE(start(paths(), "remoteproc0"));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(simtest::waitFor([&] { return !listCoredumps(paths()).empty(); }));
    EXPECT_NE(readState(paths(), "remoteproc0"), "running") << "inline recovery must wait";
    const auto data = readCoredump(paths(), listCoredumps(paths())[0].device, 1 << 20);
    EXPECT_FALSE(data.bytes.empty());
    EXPECT_TRUE(dismissCoredump(paths(), listCoredumps(paths())[0].device));
    EXPECT_TRUE(simtest::waitFor([&] { return readState(paths(), "remoteproc0") == "running"; }));
}

} // namespace
} // namespace kerneltest
