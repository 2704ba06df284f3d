// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "dbus/errors.h"
#include "kernel/endpoint.h"
#include "kernel/firmware.h"
#include "kernel/remoteproc.h"
#include "kernel/rpmsg_bus.h"
#include "kernel/sysfs.h"
#include "kernel/tty.h"
#include "kernel_port_real.h"

#include <climits>
#include <map>
#include <optional>
#include <set>

namespace rpmsgd {

RealKernelPort::RealKernelPort(kernel::Paths paths, size_t firmwareMaxBytes)
    : paths_(std::move(paths)), firmwareMaxBytes_(firmwareMaxBytes) {}

namespace {

std::optional<int64_t> parseSigned(const std::string& s) {
    if (s.empty() || s.size() > 11) {
        return std::nullopt;
    }
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) {
        return std::nullopt;
    }
    int64_t v = 0;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return std::nullopt;
        }
        v = v * 10 + (s[i] - '0');
    }
    return s[0] == '-' ? -v : v;
}

// The kernel prints one of the words of rproc_state_string(), `invalid` among them for a state
// it does not know; a word no kernel prints is treated the same.
ProcessorState stateOf(const std::string& word) {
    return processorStateFromString(word).value_or(ProcessorState::Invalid);
}

} // namespace

std::optional<kernel::ChannelInfo> parseVirtioDeviceName(const std::string& device) {
    // virtioK . name . src . dst, with src and dst in signed decimal; the name may hold dots.
    if (device.rfind("virtio", 0) != 0) {
        return std::nullopt;
    }
    size_t first = device.find('.');
    size_t last = device.rfind('.');
    size_t second =
        last == std::string::npos || last == 0 ? std::string::npos : device.rfind('.', last - 1);
    if (first == std::string::npos || second == std::string::npos || second <= first) {
        return std::nullopt;
    }
    std::string transport = device.substr(0, first);
    // The kernel prints "virtio%u" and the addresses with %d: anything else ("virtio-1", an
    // address beyond 32 bits) is not its name, and the caller falls back to reading sysfs.
    if (!kernel::detail::hasIndexSuffix(transport, "virtio")) {
        return std::nullopt;
    }
    auto src = parseSigned(device.substr(second + 1, last - second - 1));
    auto dst = parseSigned(device.substr(last + 1));
    for (const auto& a : {src, dst}) {
        if (a && (*a < INT32_MIN || *a > INT32_MAX)) {
            return std::nullopt;
        }
    }
    std::string name = device.substr(first + 1, second - first - 1);
    // '!' stands for a '/' the driver core replaced: read the real name from the attribute.
    if (!src || !dst || name.find('!') != std::string::npos) {
        return std::nullopt;
    }
    kernel::ChannelInfo c;
    c.device = device;
    c.name = name;
    c.src = uint32_t(*src);
    c.dst = uint32_t(*dst);
    c.transport = transport;
    return c;
}

std::vector<kernel::ChannelInfo> RealKernelPort::busDevices() {
    // A full read of every bus device costs several file reads each (and a FUSE round trip per
    // path element under rpmsg-sim). Attributes never change while a device exists, so only
    // new devices are read, plus those whose transport now belongs to another processor (a
    // virtioK index can be reused by another remote after a stop).
    std::map<std::string, std::string> owner; // transport -> processor, from the ctrl devices
    for (const auto& c : ctrlCache_) {
        owner[c.transport] = c.processorId;
    }
    auto names = kernel::listBusDeviceNames(paths_);
    std::map<std::string, kernel::ChannelInfo> fresh;
    for (const auto& n : names) {
        // A virtio bus device is named "virtioK.<name>.<src>.<dst>" (rpmsg_register_device), and
        // its transport's processor is known from the ctrl devices: no file needs reading.
        if (auto c = parseVirtioDeviceName(n)) {
            auto o = owner.find(c->transport);
            if (o != owner.end()) {
                c->processorId = o->second;
                if (c->name == kernel::TtyChannelName) {
                    // Bound to rpmsg_tty (perhaps only since the last scan: it probes after the
                    // channel's add event): its tty is in sysfs.
                    c->tty = kernel::channelTty(paths_, n);
                }
                fresh.emplace(n, std::move(*c));
                continue;
            }
        }
        auto it = busCache_.find(n);
        if (it != busCache_.end()) {
            auto o = owner.find(it->second.transport);
            if (o != owner.end() && o->second == it->second.processorId) {
                fresh.emplace(n, std::move(it->second));
                continue;
            }
        }
        if (auto c = kernel::readBusDevice(paths_, n)) {
            fresh.emplace(n, std::move(*c));
        }
    }
    busCache_ = std::move(fresh);
    std::vector<kernel::ChannelInfo> out;
    for (const auto& [n, c] : busCache_) {
        out.push_back(c);
    }
    return out;
}

std::vector<ProcessorSnapshot> RealKernelPort::processors() {
    std::vector<ProcessorSnapshot> out;
    for (const auto& p : kernel::readProcessors(paths_)) {
        out.push_back({p.id, p.name, stateOf(p.state), p.firmware,
                       recoveryModeFromString(p.recovery), coredumpModeFromString(p.coredump),
                       true});
    }
    // Transports without a remoteproc (a hypervisor's virtio-rpmsg, GLINK/SMD edges) are
    // published as processors named after the transport, always `attached` (docs/dbus-api.md).
    ctrlCache_ = kernel::listCtrls(paths_);
    std::set<std::string> transports;
    for (const auto& c : busDevices()) {
        if (c.processorId.empty() && !c.transport.empty()) {
            transports.insert(c.transport);
        }
    }
    for (const auto& c : ctrlCache_) {
        if (c.processorId.empty() && !c.transport.empty()) {
            transports.insert(c.transport);
        }
    }
    for (const auto& t : transports) {
        out.push_back({t, t, ProcessorState::Attached, "", std::nullopt, std::nullopt, false});
    }
    return out;
}

std::vector<ChannelSnapshot> RealKernelPort::channels() {
    // Called right after processors() in a rescan: its bus-device read is reused.
    std::vector<ChannelSnapshot> out;
    for (const auto& [n, c] : busCache_) {
        if (kernel::isInfrastructureName(c.name)) {
            continue;
        }
        std::string owner = c.processorId.empty() ? c.transport : c.processorId;
        if (owner.empty()) {
            continue;
        }
        out.push_back({c.device, c.name, c.dst, owner, c.transport, c.tty});
    }
    return out;
}

std::vector<CtrlSnapshot> RealKernelPort::ctrls() {
    std::vector<CtrlSnapshot> out;
    for (const auto& c : ctrlCache_) {
        std::string owner = c.processorId.empty() ? c.transport : c.processorId;
        out.push_back({c.name, owner, c.transport, c.instance});
    }
    return out;
}

std::optional<ProcessorState> RealKernelPort::state(const std::string& id) {
    try {
        return stateOf(kernel::readState(paths_, id));
    } catch (const std::exception&) {
        return std::nullopt; // vanished: the next rescan removes it
    }
}

void RealKernelPort::start(const std::string& id) {
    kernel::start(paths_, id);
}
void RealKernelPort::stop(const std::string& id) {
    kernel::stop(paths_, id);
}
void RealKernelPort::setFirmware(const std::string& id, const std::string& name) {
    kernel::setFirmware(paths_, id, name);
}
void RealKernelPort::checkFirmware(const std::string& name) {
    kernel::checkFirmware(paths_, name, firmwareMaxBytes_);
}
void RealKernelPort::setRecovery(const std::string& id, bool enabled) {
    kernel::setRecovery(paths_, id, enabled);
}
void RealKernelPort::setCoredump(const std::string& id, CoredumpMode mode) {
    kernel::setCoredump(paths_, id, std::string(toString(mode)));
}
void RealKernelPort::recover(const std::string& id) {
    kernel::recover(paths_, id);
}
std::string RealKernelPort::readTrace(const std::string& id, unsigned index) {
    return kernel::readTrace(paths_, id, index);
}

OpenedEndpoint RealKernelPort::createEndpoint(const std::string& ctrl, const std::string& name,
                                              uint32_t src, uint32_t dst, bool nonblock) {
    auto e = kernel::createEndpoint(paths_, ctrl, name, src, dst, nonblock);
    return {e.fd, e.device};
}

void RealKernelPort::destroyEndpoint(int fd) {
    kernel::destroyEndpoint(fd);
}

OpenedEndpoint RealKernelPort::openTty(const std::string& tty, bool nonblock) {
    return {kernel::openTty(paths_, tty, nonblock), tty};
}

void RealKernelPort::hangupTty(int fd, const std::string& tty) {
    kernel::hangupTty(fd, tty);
}

std::vector<CoredumpSnapshot> RealKernelPort::coredumps() {
    std::vector<CoredumpSnapshot> out;
    for (const auto& c : kernel::listCoredumps(paths_)) {
        out.push_back({c.device, c.processorId});
    }
    return out;
}

std::vector<uint8_t> RealKernelPort::readCoredump(const std::string& device, size_t maxBytes) {
    return kernel::readCoredump(paths_, device, maxBytes).bytes;
}

void RealKernelPort::dismissCoredump(const std::string& device) {
    kernel::dismissCoredump(paths_, device);
}

size_t RealKernelPort::destroyStaleEndpoints(const std::string& prefix, const std::string& keep) {
    size_t n = 0;
    staleWarnings_.clear();
    staleLeft_ = 0;
    for (const auto& c : kernel::listCtrls(paths_)) {
        for (const auto& e : kernel::listEptdevs(paths_, c.name)) {
            if (e.name.rfind(prefix, 0) != 0 || e.name.rfind(keep, 0) == 0) {
                continue;
            }
            std::string reason;
            if (kernel::destroyStaleEptdev(paths_, e.device, &reason)) {
                ++n;
            } else {
                ++staleLeft_;
                if (!reason.empty()) {
                    staleWarnings_.push_back(e.device + " (" + e.name + "): " + reason);
                }
            }
        }
    }
    return n;
}

} // namespace rpmsgd
