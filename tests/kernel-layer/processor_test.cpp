// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// remoteproc through daemon/kernel against rpmsg-sim: snapshots, guarded start/stop, exact
// error messages, traces, and processors vanishing during a scan (docs/kernel-abi.md §1, §2).

#include "daemon/kernel/error.h"
#include "daemon/kernel/firmware.h"
#include "daemon/kernel/remoteproc.h"
#include "kernel_fixture.h"

#include <atomic>
#include <cerrno>
#include <thread>

namespace kerneltest {
namespace {

using namespace rpmsgd::kernel;

using Processors = KernelTest;

TEST_F(Processors, ListAndSnapshot) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    EXPECT_EQ(listProcessors(paths()), (std::vector<std::string>{"remoteproc0", "remoteproc1"}));
    const auto all = readProcessors(paths());
    ASSERT_EQ(all.size(), 2u);
    const auto& p = all[0];
    EXPECT_EQ(p.id, "remoteproc0");
    EXPECT_EQ(p.name, "cm4");
    EXPECT_EQ(p.state, "offline");
    EXPECT_EQ(p.firmware, "echo.elf");
    EXPECT_EQ(p.recovery, "enabled");
    EXPECT_EQ(p.coredump, "disabled");
    EXPECT_EQ(p.devcoredump, "");
    EXPECT_EQ(p.devicePath,
              sim().mountDir() + "/sys/devices/platform/sim-cm4/remoteproc/remoteproc0");
    EXPECT_EQ(all[1].id, "remoteproc1");
    EXPECT_EQ(all[1].name, "dsp");
    EXPECT_EQ(readState(paths(), "remoteproc1"), "offline");
    EXPECT_FALSE(readProcessor(paths(), "remoteproc7").has_value());
}

TEST_F(Processors, StartAndStopAreIdempotentAndTakeOnePowerReference) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    EXPECT_TRUE(start(paths(), "remoteproc0"));
    EXPECT_EQ(readState(paths(), "remoteproc0"), "running");
    EXPECT_EQ(processor()["power"], 1);
    EXPECT_FALSE(start(paths(), "remoteproc0")) << "second start must be a no-op";
    EXPECT_EQ(processor()["power"], 1) << "a start was written to a running processor";
    EXPECT_TRUE(stop(paths(), "remoteproc0"));
    EXPECT_EQ(readState(paths(), "remoteproc0"), "offline") << "one stop must be enough";
    EXPECT_EQ(processor()["power"], 0);
    EXPECT_FALSE(stop(paths(), "remoteproc0"));
    EXPECT_EQ(readState(paths(), "remoteproc0"), "offline");
}

TEST_F(Processors, StartWithMissingFirmwareReportsTheBootErrno) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    setFirmware(paths(), "remoteproc0", "missing.elf");
    EXPECT_EQ(readProcessor(paths(), "remoteproc0")->firmware, "missing.elf");
    try {
        start(paths(), "remoteproc0");
        FAIL() << "start succeeded without firmware";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.error(), ENOENT);
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::KernelError);
        EXPECT_STREQ(e.what(),
                     "write 'start' to remoteproc0/state: No such file or directory (ENOENT)");
    }
    EXPECT_EQ(readState(paths(), "remoteproc0"), "offline");
}

TEST_F(Processors, FirmwareWriteWhileRunningIsEbusy) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    ASSERT_TRUE(start(paths(), "remoteproc0"));
    try {
        setFirmware(paths(), "remoteproc0", "other.elf");
        FAIL() << "firmware write accepted while running";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.error(), EBUSY);
        EXPECT_STREQ(e.what(),
                     "write 'other.elf' to remoteproc0/firmware: Device or resource busy (EBUSY)");
    }
    EXPECT_EQ(readProcessor(paths(), "remoteproc0")->firmware, "echo.elf");
}

TEST_F(Processors, MissingProcessorMessage) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    try {
        start(paths(), "remoteproc9");
        FAIL() << "no exception";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.error(), ENOENT);
        EXPECT_STREQ(e.what(), "read remoteproc9/state: No such file or directory (ENOENT)");
    }
}

TEST_F(Processors, CrashedProcessorIsNeverStartedButIsStopped) {
    ASSERT_NO_FATAL_FAILURE(startSim(simtest::echoSpec(), [](nlohmann::json& c) {
        c["processors"][0]["recovery"] = "disabled";
    }));
    ASSERT_TRUE(start(paths(), "remoteproc0"));
    ctlOk({"crash", "cm4"});
    ASSERT_EQ(readState(paths(), "remoteproc0"), "crashed");
    try {
        start(paths(), "remoteproc0");
        FAIL() << "start on a crashed processor was not refused";
    } catch (const StateError& e) {
        EXPECT_EQ(e.state(), "crashed");
        EXPECT_EQ(e.processor(), "remoteproc0");
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::InvalidState);
    }
    EXPECT_EQ(processor()["power"], 1) << "start was written while crashed";
    // Kernels since 6.1.188 / 6.12.110 shut a crashed processor down.
    EXPECT_TRUE(stop(paths(), "remoteproc0"));
    EXPECT_EQ(readState(paths(), "remoteproc0"), "offline");
    EXPECT_EQ(processor()["power"], 0);
}

TEST_F(Processors, CrashedProcessorOnAnOlderKernelIsRecoveredNotStopped) {
    ASSERT_NO_FATAL_FAILURE(startSim(simtest::echoSpec(), [](nlohmann::json& c) {
        c["kernel"] = "5.15";
        c["processors"][0]["recovery"] = "disabled";
    }));
    ASSERT_TRUE(start(paths(), "remoteproc0"));
    ctlOk({"crash", "cm4"});
    ASSERT_EQ(readState(paths(), "remoteproc0"), "crashed");
    try {
        stop(paths(), "remoteproc0");
        FAIL() << "stop on a crashed processor did not fail on 5.15";
    } catch (const StateError& e) {
        EXPECT_EQ(e.state(), "crashed");
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::InvalidState);
        EXPECT_NE(std::string(e.what()).find("recover it first"), std::string::npos) << e.what();
    }
    EXPECT_EQ(readState(paths(), "remoteproc0"), "crashed");
    recover(paths(), "remoteproc0");
    EXPECT_EQ(readState(paths(), "remoteproc0"), "running");
    EXPECT_EQ(processor()["power"], 1);
    EXPECT_TRUE(stop(paths(), "remoteproc0"));
    EXPECT_EQ(readState(paths(), "remoteproc0"), "offline");
}

TEST_F(Processors, DetachedProcessorAttachesOnceAndStops) {
    ASSERT_NO_FATAL_FAILURE(startSim(simtest::echoSpec(), [](nlohmann::json& c) {
        c["processors"][0]["initial_state"] = "detached";
    }));
    EXPECT_TRUE(start(paths(), "remoteproc0"));
    EXPECT_EQ(readState(paths(), "remoteproc0"), "attached");
    EXPECT_EQ(readProcessor(paths(), "remoteproc0")->firmware, "unknown");
    EXPECT_FALSE(start(paths(), "remoteproc0"));
    EXPECT_EQ(processor()["power"], 1);
    EXPECT_TRUE(stop(paths(), "remoteproc0"));
    EXPECT_EQ(readState(paths(), "remoteproc0"), "offline");
}

TEST_F(Processors, RecoveryAndCoredumpWords) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    setRecovery(paths(), "remoteproc0", false);
    setCoredump(paths(), "remoteproc0", "inline");
    auto p = readProcessor(paths(), "remoteproc0");
    EXPECT_EQ(p->recovery, "disabled");
    EXPECT_EQ(p->coredump, "inline");
    setRecovery(paths(), "remoteproc0", true);
    EXPECT_EQ(readProcessor(paths(), "remoteproc0")->recovery, "enabled");
    try {
        setCoredump(paths(), "remoteproc0", "default");
        FAIL() << "bad word accepted";
    } catch (const KernelError& e) {
        EXPECT_STREQ(e.what(),
                     "write 'default' to remoteproc0/coredump: Invalid argument (EINVAL)");
    }
}

TEST_F(Processors, ReadOnlySysfsGivesEacces) {
    ASSERT_NO_FATAL_FAILURE(startSim(simtest::echoSpec(), [](nlohmann::json& c) {
        c["processors"][0]["sysfs_read_only"] = true;
    }));
    try {
        start(paths(), "remoteproc0");
        FAIL() << "start accepted on read-only sysfs";
    } catch (const KernelError& e) {
        EXPECT_STREQ(e.what(), "write 'start' to remoteproc0/state: Permission denied (EACCES)");
    }
}

TEST_F(Processors, ReadTrace) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    try {
        readTrace(paths(), "remoteproc0", 0);
        FAIL() << "a trace buffer exists while offline";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.error(), ENOENT);
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::NotFound);
        EXPECT_EQ(std::string(e.what()).rfind("remoteproc0: no trace buffer 0", 0), 0u) << e.what();
    }
    ASSERT_TRUE(start(paths(), "remoteproc0"));
    ASSERT_TRUE(simtest::waitFor([&] {
        return readTrace(paths(), "remoteproc0", 0).find("echo ready") != std::string::npos;
    }));
    const std::string trace = readTrace(paths(), "remoteproc0", 0);
    EXPECT_NE(trace.find("boot ok"), std::string::npos) << trace;
    EXPECT_LE(readTrace(paths(), "remoteproc0", 0, 4).size(), 4u) << "the limit is honoured";
    try {
        readTrace(paths(), "remoteproc0", 1);
        FAIL() << "trace1 exists";
    } catch (const KernelError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("remoteproc0: no trace buffer 1", 0), 0u) << e.what();
    }
    try {
        readTrace(paths(), "remoteproc5", 0);
        FAIL() << "trace of a missing processor";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::NotFound);
        EXPECT_NE(std::string(e.what()).find("no processor remoteproc5"), std::string::npos)
            << e.what();
    }
}

TEST_F(Processors, FirmwareCheckAgainstTheSimFirmwareDir) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    const auto checked = checkFirmware(paths(), "echo.elf");
    EXPECT_EQ(checked.path, sim().firmwareDir() + "/echo.elf");
    EXPECT_TRUE(checked.image.hasResourceTable);
    ASSERT_EQ(sim().mkfw("bad.elf", simtest::echoSpec(), "no-resource-table").exitCode, 0);
    try {
        checkFirmware(paths(), "bad.elf");
        FAIL() << "a firmware without resource table passed";
    } catch (const rpmsgd::Error& e) {
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::InvalidFirmware);
        EXPECT_NE(std::string(e.what()).find("resource_table"), std::string::npos) << e.what();
    }
}

TEST_F(Processors, ProcessorVanishingDuringScansIsTolerated) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    ASSERT_TRUE(start(paths(), "remoteproc1")); // removal then has a virtio tree to tear down
    std::atomic<bool> removed{false};
    std::thread remover([&] {
        sim().ctl({"remove-processor", "dsp"});
        removed = true;
    });
    int scans = 0;
    std::string failure;
    while (!removed || scans < 5) {
        try {
            (void)readProcessors(paths());
            ++scans;
        } catch (const std::exception& e) {
            failure = e.what();
            break;
        }
    }
    remover.join();
    EXPECT_EQ(failure, "") << "a scan failed while a processor was being removed";
    EXPECT_GT(scans, 0);
    ASSERT_TRUE(simtest::waitFor([&] { return listProcessors(paths()).size() == 1; }));
    EXPECT_FALSE(readProcessor(paths(), "remoteproc1").has_value());
    EXPECT_EQ(readProcessors(paths()).size(), 1u);
}

} // namespace
} // namespace kerneltest
