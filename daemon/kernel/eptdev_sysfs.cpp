// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "daemon/kernel/eptdev_sysfs.h"

#include "daemon/kernel/sysfs.h"

#include <sys/stat.h>

namespace rpmsgd::kernel {

namespace detail {

std::string classDir(const Paths& paths, const std::string& ctrl) {
    return paths.sysfs + "/class/rpmsg/" + ctrl;
}

KernelError ctrlError(const std::string& ctrl, const std::string& what, int err) {
    if (isGone(err)) {
        return KernelError(
            err,
            ctrl + " is gone (its processor stopped or crashed): " + kernelErrorMessage(what, err),
            ErrorCode::Unavailable);
    }
    return KernelError(what, err);
}

std::optional<Eptdev> readEptdev(const std::string& base, const std::string& device) {
    const std::string path = base + "/" + device;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return std::nullopt;
    }
    Eptdev e;
    e.info.device = device;
    e.ino = st.st_ino;
    auto name = readFile(path + "/name");
    auto src = readFile(path + "/src");
    auto dst = readFile(path + "/dst");
    if (isGone(name.err) || isGone(src.err) || isGone(dst.err)) {
        return std::nullopt; // destroyed while we looked
    }
    for (const auto* r : {&name, &src, &dst}) {
        if (r->err != 0) {
            throw KernelError("read " + device + "/" +
                                  (r == &name ? "name" : (r == &src ? "src" : "dst")),
                              r->err);
        }
    }
    auto srcValue = parseAddress(src.data);
    auto dstValue = parseAddress(dst.data);
    if (!srcValue || !dstValue) {
        return std::nullopt;
    }
    e.info.name = chomp(std::move(name.data));
    e.info.src = *srcValue;
    e.info.dst = *dstValue;
    return e;
}

std::map<std::string, ino_t> listEntries(const Paths& paths, const std::string& ctrl) {
    auto dir = listDir(classDir(paths, ctrl));
    if (dir.err != 0) {
        throw ctrlError(ctrl, "list " + ctrl, dir.err);
    }
    std::map<std::string, ino_t> out;
    for (size_t i = 0; i < dir.names.size(); ++i) {
        if (hasIndexSuffix(dir.names[i], "rpmsg")) {
            out.emplace(dir.names[i], dir.inodes[i]);
        }
    }
    return out;
}

std::vector<Eptdev> scan(const Paths& paths, const std::string& ctrl) {
    const std::string base = classDir(paths, ctrl);
    std::vector<std::string> devices;
    for (const auto& [device, ino] : listEntries(paths, ctrl)) {
        devices.push_back(device);
    }
    naturalSort(devices);
    std::vector<Eptdev> out;
    for (const auto& device : devices) {
        if (auto e = readEptdev(base, device)) {
            out.push_back(std::move(*e));
        }
    }
    return out;
}

} // namespace detail

std::vector<EptdevInfo> listEptdevs(const Paths& paths, const std::string& ctrl) {
    if (!detail::hasIndexSuffix(ctrl, "rpmsg_ctrl")) {
        throw rpmsgd::Error::invalidArgument("invalid control device name '" + ctrl + "'");
    }
    std::vector<EptdevInfo> out;
    for (auto& e : detail::scan(paths, ctrl)) {
        out.push_back(std::move(e.info));
    }
    return out;
}

} // namespace rpmsgd::kernel
