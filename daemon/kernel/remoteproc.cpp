// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "daemon/kernel/remoteproc.h"

#include "common/states.h"
#include "daemon/kernel/error.h"
#include "daemon/kernel/sysfs.h"

#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

namespace rpmsgd::kernel {

namespace {

using detail::isGone;

std::string classDir(const Paths& paths) {
    return paths.sysfs + "/class/remoteproc";
}

void checkId(const std::string& id) {
    if (!detail::isPlainName(id)) {
        throw rpmsgd::Error::invalidArgument("invalid processor id '" + id + "'");
    }
}

std::string attrPath(const Paths& paths, const std::string& id, const std::string& attr) {
    return classDir(paths) + "/" + id + "/" + attr;
}

// "remoteproc0/state": how errors name sysfs attributes.
std::string shortName(const std::string& id, const std::string& attr) {
    std::string s = id;
    s += '/';
    s += attr;
    return s;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string readAttr(const Paths& paths, const std::string& id, const std::string& attr) {
    auto r = detail::readFile(attrPath(paths, id, attr));
    if (r.err != 0) {
        throw KernelError("read " + shortName(id, attr), r.err);
    }
    return detail::chomp(std::move(r.data));
}

void writeAttr(const Paths& paths, const std::string& id, const std::string& attr,
               const std::string& value) {
    checkId(id);
    // A zero-length write never reaches the store method, so it would "succeed" silently.
    if (value.empty()) {
        throw rpmsgd::Error::invalidArgument("empty value for " + shortName(id, attr));
    }
    if (const int err = detail::writeFile(attrPath(paths, id, attr), value); err != 0) {
        std::string what = "write '";
        what += value;
        what += "' to ";
        what += shortName(id, attr);
        throw KernelError(what, err);
    }
}

// Outcome of reading an optional attribute: the value, "" when this kernel lacks it, or
// nullopt when the whole processor has gone.
std::optional<std::string> readOptional(const Paths& paths, const std::string& id,
                                        const std::string& attr) {
    auto r = detail::readFile(attrPath(paths, id, attr));
    if (r.err == 0) {
        return detail::chomp(std::move(r.data));
    }
    if (isGone(r.err)) {
        if (!exists(attrPath(paths, id, "state"))) {
            return std::nullopt;
        }
        return std::string();
    }
    throw KernelError("read " + shortName(id, attr), r.err);
}

} // namespace

std::vector<std::string> listProcessors(const Paths& paths) {
    auto dir = detail::listDir(classDir(paths));
    if (dir.err != 0) {
        if (isGone(dir.err)) {
            return {};
        }
        throw KernelError("list " + classDir(paths), dir.err);
    }
    std::vector<std::string> ids;
    for (auto& name : dir.names) {
        if (name.rfind("remoteproc", 0) == 0) {
            ids.push_back(std::move(name));
        }
    }
    detail::naturalSort(ids);
    return ids;
}

std::optional<ProcessorInfo> readProcessor(const Paths& paths, const std::string& id) {
    checkId(id);
    ProcessorInfo info;
    info.id = id;
    // `state` and `name` exist on every kernel: failing to find them means the device is gone.
    for (auto [attr, out] : {std::pair{"state", &info.state}, std::pair{"name", &info.name}}) {
        auto r = detail::readFile(attrPath(paths, id, attr));
        if (r.err != 0) {
            if (isGone(r.err)) {
                return std::nullopt;
            }
            throw KernelError("read " + shortName(id, attr), r.err);
        }
        *out = detail::chomp(std::move(r.data));
    }
    for (auto [attr, out] :
         {std::pair{"firmware", &info.firmware}, std::pair{"recovery", &info.recovery},
          std::pair{"coredump", &info.coredump}}) {
        auto value = readOptional(paths, id, attr);
        if (!value) {
            return std::nullopt;
        }
        *out = std::move(*value);
    }
    auto resolved = detail::resolve(classDir(paths) + "/" + id);
    if (!resolved) {
        return std::nullopt;
    }
    info.devicePath = std::move(*resolved);
    info.devcoredump = detail::linkBasename(info.devicePath + "/devcoredump").value_or("");
    return info;
}

std::vector<ProcessorInfo> readProcessors(const Paths& paths) {
    std::vector<ProcessorInfo> out;
    for (const auto& id : listProcessors(paths)) {
        if (auto info = readProcessor(paths, id)) {
            out.push_back(std::move(*info));
        }
    }
    return out;
}

std::string readState(const Paths& paths, const std::string& id) {
    checkId(id);
    return readAttr(paths, id, "state");
}

bool start(const Paths& paths, const std::string& id) {
    const std::string state = readState(paths, id);
    switch (processorStateFromString(state).value_or(ProcessorState::Invalid)) {
    case ProcessorState::Running:
    case ProcessorState::Attached:
        return false; // already up: a `start` now would only take a second power reference
    case ProcessorState::Offline:
    case ProcessorState::Detached:
        writeAttr(paths, id, "state", "start");
        return true;
    case ProcessorState::Crashed:
        throw StateError(id, state,
                         id + " is crashed: not writing 'start' (it would take a power reference "
                              "and leave the processor dead); recover it instead");
    case ProcessorState::Deleted:
        throw StateError(id, state, id + " is being removed (state " + state + ")");
    case ProcessorState::Suspended:
    case ProcessorState::Invalid:
        break;
    }
    // suspended (vendor trees), invalid, or a word from a newer kernel: the processor may hold a
    // power reference, so a `start` is not known to be safe.
    throw StateError(id, state, id + " is " + state + ": not writing 'start' in this state");
}

bool stop(const Paths& paths, const std::string& id) {
    const std::string state = readState(paths, id);
    switch (processorStateFromString(state).value_or(ProcessorState::Invalid)) {
    case ProcessorState::Offline:
    case ProcessorState::Detached:
        return false;
    case ProcessorState::Crashed:
        // Kernels with "remoteproc: Allow shutdown of crashed processors" (stable 6.1.188,
        // 6.12.110) shut it down; older ones refuse with EINVAL (docs/kernel-abi.md §8).
        try {
            writeAttr(paths, id, "state", "stop");
        } catch (const KernelError& e) {
            if (e.error() != EINVAL) {
                throw;
            }
            throw StateError(id, state,
                             id + " is crashed and this kernel cannot stop a crashed processor "
                                  "(it can from Linux 6.1.188 and 6.12.110); recover it first");
        }
        return true;
    case ProcessorState::Deleted:
        throw StateError(id, state, id + " is being removed (state " + state + ")");
    case ProcessorState::Running:
    case ProcessorState::Attached:
    case ProcessorState::Suspended:
    case ProcessorState::Invalid:
        break;
    }
    writeAttr(paths, id, "state", "stop");
    return true;
}

void recover(const Paths& paths, const std::string& id) {
    writeAttr(paths, id, "recovery", "recover");
}

void setFirmware(const Paths& paths, const std::string& id, const std::string& name) {
    // The kernel keeps the name up to the first newline: refuse rather than set another name.
    if (name.find('\n') != std::string::npos || name.find('\0') != std::string::npos) {
        throw rpmsgd::Error::invalidArgument("invalid firmware name for " + id +
                                             ": contains a newline or NUL");
    }
    writeAttr(paths, id, "firmware", name);
}

void setRecovery(const Paths& paths, const std::string& id, bool enabled) {
    writeAttr(paths, id, "recovery",
              std::string(toString(enabled ? RecoveryMode::Enabled : RecoveryMode::Disabled)));
}

void setCoredump(const Paths& paths, const std::string& id, const std::string& mode) {
    writeAttr(paths, id, "coredump", mode);
}

std::string readTrace(const Paths& paths, const std::string& id, unsigned index, size_t maxBytes) {
    checkId(id);
    const std::string root = paths.debugfs + "/remoteproc";
    const std::string dir = root + "/" + id;
    const std::string file = dir + "/trace" + std::to_string(index);
    auto r = detail::readFile(file, maxBytes);
    if (r.err == 0) {
        return std::move(r.data);
    }
    if (r.err == ENOENT) {
        if (!exists(root)) {
            throw KernelError(ENOENT,
                              "read " + file + ": debugfs is not mounted at " + paths.debugfs +
                                  " (or the kernel has no remoteproc debugfs)",
                              ErrorCode::NotFound);
        }
        if (!exists(dir)) {
            throw KernelError(ENOENT, "read " + file + ": no processor " + id + " in debugfs",
                              ErrorCode::NotFound);
        }
        throw KernelError(ENOENT,
                          id + ": no trace buffer " + std::to_string(index) +
                              " (trace buffers exist while the firmware's resources are held)",
                          ErrorCode::NotFound);
    }
    throw KernelError("read " + file, r.err);
}

std::vector<Coredump> listCoredumps(const Paths& paths) {
    const std::string dirPath = paths.sysfs + "/class/devcoredump";
    auto dir = detail::listDir(dirPath);
    if (dir.err != 0) {
        if (isGone(dir.err)) {
            return {};
        }
        throw KernelError("list " + dirPath, dir.err);
    }
    detail::naturalSort(dir.names);
    std::vector<Coredump> out;
    for (const auto& name : dir.names) {
        if (!detail::hasIndexSuffix(name, "devcd")) {
            continue; // `disabled`
        }
        auto failing = detail::linkBasename(dirPath + "/" + name + "/failing_device");
        if (!failing) {
            continue; // dismissed or timed out while we looked
        }
        Coredump d;
        d.device = name;
        d.failingDevice = *failing;
        if (detail::hasIndexSuffix(d.failingDevice, "remoteproc")) {
            d.processorId = d.failingDevice;
        }
        out.push_back(std::move(d));
    }
    return out;
}

CoredumpData readCoredump(const Paths& paths, const std::string& device, size_t maxBytes) {
    if (!detail::isPlainName(device)) {
        throw rpmsgd::Error::invalidArgument("invalid devcoredump name '" + device + "'");
    }
    auto r = detail::readFile(paths.sysfs + "/class/devcoredump/" + device + "/data", maxBytes);
    if (r.err != 0) {
        throw KernelError("read " + device + "/data", r.err);
    }
    CoredumpData d;
    d.bytes.assign(r.data.begin(), r.data.end());
    d.truncated = r.truncated;
    return d;
}

bool dismissCoredump(const Paths& paths, const std::string& device) {
    if (!detail::isPlainName(device)) {
        throw rpmsgd::Error::invalidArgument("invalid devcoredump name '" + device + "'");
    }
    const int err = detail::writeFile(paths.sysfs + "/class/devcoredump/" + device + "/data", "1");
    if (err == 0) {
        return true;
    }
    if (isGone(err)) {
        return false;
    }
    throw KernelError("write '1' to " + device + "/data", err);
}

} // namespace rpmsgd::kernel
