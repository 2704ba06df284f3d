// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "daemon/kernel/rpmsg_bus.h"

#include "daemon/kernel/error.h"
#include "daemon/kernel/sysfs.h"
#include "tty.h"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <sys/stat.h>

namespace rpmsgd::kernel {

namespace {

using detail::isGone;

// The parent device name encoded in a bus device name "%s.%s.%d.%d" (parent, channel name,
// src, dst), for when the sysfs path cannot be resolved.
std::string transportFromDeviceName(const std::string& device, const std::string& name) {
    std::string rest = device;
    for (int i = 0; i < 2; ++i) {
        const auto dot = rest.rfind('.');
        if (dot == std::string::npos) {
            return "";
        }
        rest.resize(dot);
    }
    std::string suffix = ".";
    suffix += name;
    if (rest.size() > suffix.size() &&
        rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) == 0) {
        rest.resize(rest.size() - suffix.size());
        return rest;
    }
    return rest.substr(0, rest.find('.'));
}

} // namespace

bool isInfrastructureName(const std::string& name) {
    return name == "rpmsg_ctrl" || name == "rpmsg_chrdev" || name == "rpmsg_ns";
}

std::string processorFromPath(const std::string& resolvedPath) {
    // The deepest ".../remoteproc/remoteprocN" pair: a virtio device's owner.
    size_t end = resolvedPath.size();
    while (end > 0) {
        const size_t pos = resolvedPath.rfind("/remoteproc/", end - 1);
        if (pos == std::string::npos) {
            break;
        }
        const size_t start = pos + 12;
        const size_t slash = resolvedPath.find('/', start);
        const std::string comp = resolvedPath.substr(
            start, slash == std::string::npos ? std::string::npos : slash - start);
        if (detail::hasIndexSuffix(comp, "remoteproc")) {
            return comp;
        }
        end = pos;
    }
    return "";
}

std::vector<ChannelInfo> listChannels(const Paths& paths) {
    auto all = listBusDevices(paths);
    std::erase_if(all, [](const ChannelInfo& c) { return isInfrastructureName(c.name); });
    return all;
}

std::vector<std::string> listBusDeviceNames(const Paths& paths) {
    const std::string busDir = paths.sysfs + "/bus/rpmsg/devices";
    auto dir = detail::listDir(busDir);
    if (dir.err != 0) {
        if (isGone(dir.err)) {
            return {};
        }
        throw KernelError("list " + busDir, dir.err);
    }
    std::sort(dir.names.begin(), dir.names.end());
    return dir.names;
}

std::optional<ChannelInfo> readBusDevice(const Paths& paths, const std::string& device) {
    const std::string base = paths.sysfs + "/bus/rpmsg/devices/" + device;
    ChannelInfo c;
    c.device = device;
    for (auto [attr, out32] : {std::pair{"src", &c.src}, std::pair{"dst", &c.dst}}) {
        auto r = detail::readFile(base + "/" + attr);
        if (r.err != 0) {
            if (isGone(r.err)) {
                return std::nullopt; // removed while we looked
            }
            throw KernelError("read " + device + "/" + attr, r.err);
        }
        auto value = detail::parseAddress(r.data);
        if (!value) {
            throw KernelError(EPROTO,
                              "read " + device + "/" + attr + ": not an address: '" +
                                  detail::chomp(r.data) + "'",
                              ErrorCode::KernelError);
        }
        *out32 = *value;
    }
    auto name = detail::readFile(base + "/name");
    if (isGone(name.err)) {
        return std::nullopt;
    }
    if (name.err != 0) {
        throw KernelError("read " + device + "/name", name.err);
    }
    c.name = detail::chomp(std::move(name.data));
    c.tty = channelTty(paths, device);
    if (auto resolved = detail::resolve(base)) {
        c.devicePath = std::move(*resolved);
        c.transport = detail::basename(detail::dirname(c.devicePath));
        c.processorId = processorFromPath(c.devicePath);
    } else {
        c.transport = transportFromDeviceName(device, c.name);
    }
    return c;
}

std::vector<ChannelInfo> listBusDevices(const Paths& paths) {
    std::vector<ChannelInfo> out;
    for (const auto& device : listBusDeviceNames(paths)) {
        if (auto c = readBusDevice(paths, device)) {
            out.push_back(std::move(*c));
        }
    }
    return out;
}

std::vector<CtrlInfo> listCtrls(const Paths& paths) {
    const std::string classDir = paths.sysfs + "/class/rpmsg";
    auto dir = detail::listDir(classDir);
    if (dir.err != 0) {
        if (isGone(dir.err)) {
            return {};
        }
        throw KernelError("list " + classDir, dir.err);
    }
    detail::naturalSort(dir.names);
    std::vector<CtrlInfo> out;
    for (const auto& name : dir.names) {
        if (!detail::hasIndexSuffix(name, "rpmsg_ctrl")) {
            continue;
        }
        auto resolved = detail::resolve(classDir + "/" + name);
        if (!resolved) {
            continue;
        }
        CtrlInfo c;
        c.name = name;
        c.devicePath = std::move(*resolved);
        // The inode tells one instance of rpmsg_ctrlN from the next: after a recovery the
        // name usually comes back the same (lowest free index), the inode does not.
        struct stat st {};
        if (stat(c.devicePath.c_str(), &st) != 0) {
            continue; // gone meanwhile
        }
        c.instance = uint64_t(st.st_ino);
        // .../virtioK/virtioK.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrlN: the class device sits in the
        // "rpmsg" glue directory of its bus device, whose parent is the transport.
        std::string parent = detail::dirname(c.devicePath);
        if (detail::basename(parent) == "rpmsg") {
            parent = detail::dirname(parent);
        }
        c.busDevice = detail::basename(parent);
        c.transport = detail::basename(detail::dirname(parent));
        c.processorId = processorFromPath(c.devicePath);
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace rpmsgd::kernel
