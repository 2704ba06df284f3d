// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The simulated kernel: remoteproc processors and their state machine, the virtio-rpmsg bus
// (name service, ctrl devices, endpoint devices, TX buffers), devcoredump and debugfs, all
// published in a Vfs tree with the kernel's names, strings and errno (docs/kernel-abi.md). It is
// written in one file per kernel file it mirrors; sim/README.md has the map.

#include "scheduler.h"
#include "sim_config.h"
#include "vfs.h"

#include <memory>
#include <string>
#include <vector>

namespace rpmsgsim {

class UeventSender;

/// @brief The whole simulated kernel.
class Simulator {
public:
    Simulator(Vfs& vfs, Scheduler& scheduler, SimConfig config, std::string firmwareDir,
              UeventSender* uevents);
    ~Simulator();
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    /// @brief Builds the tree and boots the processors configured with auto_boot.
    void start();
    /// @brief Answers every pending request (the sim is going away).
    void shutdown();

    /// @brief Result of a control command.
    struct ControlResult {
        bool ok = false;
        std::string output; ///< command output, or the error sentence
    };
    /// @brief Runs one `rpmsg-sim ctl` command (see sim/README.md).
    ControlResult control(const std::vector<std::string>& args);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace rpmsgsim
