// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The roots under which the kernel layer finds every file it touches. The defaults are the
// real system's; tests point them into an rpmsg-sim mount (MOUNT/sys, MOUNT/dev,
// MOUNT/sys/kernel/debug) and its firmware directory.

#include <string>

namespace rpmsgd::kernel {

/// @brief Filesystem roots of the kernel interfaces (no trailing slash).
struct Paths {
    std::string sysfs = "/sys";                ///< sysfs mount (class/, bus/, devices/)
    std::string dev = "/dev";                  ///< device nodes (rpmsg_ctrlN, rpmsgN)
    std::string debugfs = "/sys/kernel/debug"; ///< debugfs mount (remoteproc/*/traceN)
    std::string firmware = "/lib/firmware";    ///< request_firmware's default directory
};

} // namespace rpmsgd::kernel
