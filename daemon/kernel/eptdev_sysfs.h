// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The endpoint devices of a control device as sysfs lists them
// (/sys/class/rpmsg/rpmsg_ctrlN/rpmsgE with name, src, dst: docs/kernel-abi.md §6): what
// endpoint.cpp reads to find the device an ioctl made and to list those a previous daemon left.
// Internal to the kernel layer.

#include "daemon/kernel/endpoint.h"
#include "daemon/kernel/error.h"
#include "daemon/kernel/paths.h"

#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rpmsgd::kernel::detail {

/// @brief An endpoint device with the identity of its sysfs directory: a number freed and
///        reused between two scans gets a new directory (new inode), so it is not mistaken for
///        an old one.
struct Eptdev {
    EptdevInfo info;
    ino_t ino = 0;
};

/// @brief /sys/class/rpmsg/<ctrl>.
std::string classDir(const Paths& paths, const std::string& ctrl);

/// @brief The error for @p what failing on @p ctrl: a control device that vanished (its
///        processor stopped or crashed meanwhile) is Unavailable, not a kernel failure.
KernelError ctrlError(const std::string& ctrl, const std::string& what, int err);

/// @brief name/src/dst of endpoint device @p device under @p base; nullopt when it went away
///        meanwhile or is not an endpoint device of the kind we know.
std::optional<Eptdev> readEptdev(const std::string& base, const std::string& device);

/// @brief The endpoint devices under @p ctrl by name and inode: one readdir, nothing read.
std::map<std::string, ino_t> listEntries(const Paths& paths, const std::string& ctrl);

/// @brief Every endpoint device under @p ctrl, read, in index order.
std::vector<Eptdev> scan(const Paths& paths, const std::string& ctrl);

} // namespace rpmsgd::kernel::detail
