// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// rpmsg-sim's own configuration file (see sim/README.md). Pure parsing.

#include "common/states.h"

#include <cstdint>
#include <string>
#include <vector>

namespace rpmsgsim {

struct ProcessorConfig {
    std::string name;
    std::string firmware; ///< empty = rproc-<name>-fw
    bool recovery = true;
    rpmsgd::CoredumpMode coredump = rpmsgd::CoredumpMode::Disabled;
    bool autoBoot = false;
    bool detached = false; ///< initial_state "detached"
    bool sysfsReadOnly = false;
    /// @brief false: a virtio-rpmsg transport with no remoteproc (a hypervisor's or vhost-user
    /// device): always attached from mount, its remote described by `firmware`, no remoteproc
    /// sysfs or debugfs.
    bool remoteproc = true;
};

struct SimConfig {
    std::string kernel = "6.6";
    std::vector<ProcessorConfig> processors;
    uint32_t txTimeoutMs = 15000;
    uint32_t devcoredumpTimeoutS = 300;
};

/// @brief The configuration used without --config: cm4 and dsp, both offline.
SimConfig defaultSimConfig();

/// @brief Parses a config text; on error returns false with @p error naming the JSON path.
bool parseSimConfig(const std::string& text, SimConfig& out, std::string& error);

} // namespace rpmsgsim
