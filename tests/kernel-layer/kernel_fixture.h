// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Fixture for the kernel-layer tests: one temporary directory and one rpmsg-sim per test, the
// kernel::Paths pointing into its mount, and small helpers (ctl, dump, waiting for channels,
// echo round trips). The sim's log is printed when a test fails.

#include "daemon/kernel/paths.h"
#include "sim_harness.h"

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kerneltest {

using namespace std::chrono_literals;

class KernelTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    /// @brief Builds echo.elf from @p spec, starts the sim with simtest::defaultConfig() edited
    /// by @p edit, on kernel profile @p kernel ("" = default 6.6).
    void startSim(const nlohmann::json& spec = simtest::echoSpec(),
                  const std::function<void(nlohmann::json&)>& edit = nullptr,
                  const std::string& kernel = "");

    /// @brief Kernel paths into the sim's mount and firmware directory.
    const rpmsgd::kernel::Paths& paths() const { return paths_; }

    simtest::Sim& sim() { return *sim_; }

    /// @brief `ctl` that must succeed.
    void ctlOk(std::initializer_list<std::string> args);
    nlohmann::json dump() { return sim_->dump(); }
    /// @brief The dump's processor entry with id @p id (null if absent).
    nlohmann::json processor(const std::string& id = "remoteproc0");
    /// @brief The dump's eptdev entry for @p device (null if absent).
    nlohmann::json eptdev(const std::string& device);

    /// @brief Waits for bus device @p device (e.g. virtio0.rpmsg-echo.-1.1024) to exist.
    bool waitBusDevice(const std::string& device, std::chrono::milliseconds timeout = 5s);

    /// @brief rpmsg_ctrlN of processor @p id per the sim's dump ("" when none).
    std::string ctrlOf(const std::string& id = "remoteproc0");

    /// @brief Writes @p text to @p fd and reads one message back within @p timeout; returns
    /// the message, or "<errno N>" / "<timeout>".
    static std::string roundTrip(int fd, const std::string& text,
                                 std::chrono::milliseconds timeout = 5s);

    /// @brief True when @p rel exists in the mount (lstat).
    bool exists(const std::string& rel) const;

    std::unique_ptr<simtest::TempDir> tmp_;
    std::unique_ptr<simtest::Sim> sim_;
    rpmsgd::kernel::Paths paths_;
};

} // namespace kerneltest
