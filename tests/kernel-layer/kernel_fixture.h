// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Fixture for the kernel-layer tests: the harness's sim fixture (one temporary directory and one
// rpmsg-sim per test, ctl, dump, the sim's log when a test fails) with the kernel::Paths
// pointing into its mount, and small helpers (waiting for channels, echo round trips).

#include "daemon/kernel/paths.h"
#include "sim_fixture.h"

#include <chrono>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kerneltest {

using namespace std::chrono_literals;

class KernelTest : public simtest::SimTest {
protected:
    void SetUp() override;

    /// @brief Builds echo.elf from @p spec, starts the sim with simtest::defaultConfig() edited
    /// by @p edit, on kernel profile @p kernel ("" = default 6.6).
    void startSim(const nlohmann::json& spec = simtest::echoSpec(),
                  const std::function<void(nlohmann::json&)>& edit = nullptr,
                  const std::string& kernel = "") {
        startEchoSim(spec, edit, kernel);
    }

    /// @brief Kernel paths into the sim's mount and firmware directory.
    const rpmsgd::kernel::Paths& paths() const { return paths_; }

    /// @brief The dump's eptdev entry for @p device (null if absent).
    nlohmann::json eptdev(const std::string& device) { return eptdevDump(device); }
    /// @brief Waits for bus device @p device (e.g. virtio0.rpmsg-echo.-1.1024) to exist.
    bool waitBusDevice(const std::string& device, std::chrono::milliseconds timeout = 5s);
    /// @brief rpmsg_ctrlN of processor @p id per the sim's dump ("" when none).
    std::string ctrlOf(const std::string& id = "remoteproc0");
    /// @brief Writes @p text to @p fd and reads one message back within @p timeout; returns
    /// the message, or "<errno N>" / "<timeout>".
    static std::string roundTrip(int fd, const std::string& text,
                                 std::chrono::milliseconds timeout = 5s);

    rpmsgd::kernel::Paths paths_;
};

} // namespace kerneltest
