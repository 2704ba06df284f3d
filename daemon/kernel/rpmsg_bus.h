// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// rpmsg channels (bus devices in /sys/bus/rpmsg/devices) and control devices
// (/sys/class/rpmsg/rpmsg_ctrlN), with the transport (virtioK) and the owning remoteproc each
// belongs to. Facts: docs/kernel-abi.md §5, §6.1; transports without a remoteproc:
// docs/dbus-api.md.

#include "daemon/kernel/paths.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rpmsgd::kernel {

/// @brief One announced (or created) rpmsg channel.
struct ChannelInfo {
    std::string device;      ///< bus device, e.g. virtio0.rpmsg-echo.-1.1024
    std::string name;        ///< `name`, the service name
    uint32_t src = 0;        ///< `src` (RPMSG_ADDR_ANY until a driver binds)
    uint32_t dst = 0;        ///< `dst`: the remote's address
    std::string transport;   ///< the parent transport device (virtioK)
    std::string processorId; ///< remoteprocN, or "" for a transport without a remoteproc
    std::string devicePath;  ///< resolved directory under /sys/devices ("" if unresolved)
    std::string tty;         ///< ttyRPMSGn when rpmsg_tty bound it (tty.h), else ""
};

/// @brief The channels on the rpmsg bus, in name order: every bus device except the control
/// (`rpmsg_ctrl`, `rpmsg_chrdev`) and name-service (`rpmsg_ns`) devices. Devices vanishing
/// during the scan are skipped; no rpmsg bus gives an empty list.
std::vector<ChannelInfo> listChannels(const Paths& paths);

/// @brief Names in /sys/bus/rpmsg/devices, sorted.
std::vector<std::string> listBusDeviceNames(const Paths& paths);

/// @brief One bus device's attributes and place; nullopt if it vanished meanwhile. Its name,
/// src (until a driver binds) and dst never change while it exists, so callers may cache it.
std::optional<ChannelInfo> readBusDevice(const Paths& paths, const std::string& device);

/// @brief Every rpmsg bus device, the control and name-service devices included (their names
/// are rpmsg_ctrl/rpmsg_chrdev and rpmsg_ns), in name order.
std::vector<ChannelInfo> listBusDevices(const Paths& paths);

/// @brief True for the bus-device names that are not channels (control and name service).
bool isInfrastructureName(const std::string& name);

/// @brief One rpmsg control device (/dev/rpmsg_ctrlN).
struct CtrlInfo {
    std::string name;        ///< rpmsg_ctrlN
    std::string busDevice;   ///< its rpmsg bus device, e.g. virtio0.rpmsg_ctrl.0.0
    std::string transport;   ///< virtioK
    std::string processorId; ///< remoteprocN, or ""
    std::string devicePath;  ///< resolved class device directory
    uint64_t instance = 0;   ///< inode of that directory: changes when the device is re-created
};

/// @brief The control devices in /sys/class/rpmsg, in index order (vanishing ones skipped).
std::vector<CtrlInfo> listCtrls(const Paths& paths);

/// @brief The remoteproc id in a resolved sysfs path (the component after ".../remoteproc/"
/// that is named remoteprocN), or "".
std::string processorFromPath(const std::string& resolvedPath);

} // namespace rpmsgd::kernel
