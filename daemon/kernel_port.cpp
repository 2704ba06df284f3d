#include "errors.h"
#include "kernel/endpoint.h"
#include "kernel/firmware.h"
#include "kernel/remoteproc.h"
#include "kernel/rpmsg_bus.h"
#include "kernel_port_real.h"

#include <set>

namespace rpmsgd {

RealKernelPort::RealKernelPort(kernel::Paths paths, size_t firmwareMaxBytes)
    : paths_(std::move(paths)), firmwareMaxBytes_(firmwareMaxBytes) {}

std::vector<ProcessorSnapshot> RealKernelPort::processors() {
    std::vector<ProcessorSnapshot> out;
    for (const auto& p : kernel::readProcessors(paths_)) {
        out.push_back({p.id, p.name, p.state, p.firmware, p.recovery, p.coredump, true});
    }
    // Transports without a remoteproc (a hypervisor's virtio-rpmsg, GLINK/SMD edges) are
    // published as processors named after the transport, always `attached` (dbus-api.md).
    std::set<std::string> transports;
    for (const auto& c : kernel::listChannels(paths_)) {
        if (c.processorId.empty() && !c.transport.empty()) {
            transports.insert(c.transport);
        }
    }
    for (const auto& c : kernel::listCtrls(paths_)) {
        if (c.processorId.empty() && !c.transport.empty()) {
            transports.insert(c.transport);
        }
    }
    for (const auto& t : transports) {
        out.push_back({t, t, "attached", "", "", "", false});
    }
    return out;
}

std::vector<ChannelSnapshot> RealKernelPort::channels() {
    std::vector<ChannelSnapshot> out;
    for (const auto& c : kernel::listChannels(paths_)) {
        std::string owner = c.processorId.empty() ? c.transport : c.processorId;
        if (owner.empty()) {
            continue;
        }
        out.push_back({c.device, c.name, c.dst, owner, c.transport});
    }
    return out;
}

std::vector<CtrlSnapshot> RealKernelPort::ctrls() {
    std::vector<CtrlSnapshot> out;
    for (const auto& c : kernel::listCtrls(paths_)) {
        std::string owner = c.processorId.empty() ? c.transport : c.processorId;
        out.push_back({c.name, owner, c.transport});
    }
    return out;
}

std::string RealKernelPort::state(const std::string& id) {
    try {
        return kernel::readState(paths_, id);
    } catch (const std::exception&) {
        return ""; // vanished: the next rescan removes it
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
void RealKernelPort::setCoredump(const std::string& id, const std::string& mode) {
    kernel::setCoredump(paths_, id, mode);
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
    for (const auto& c : kernel::listCtrls(paths_)) {
        for (const auto& e : kernel::listEptdevs(paths_, c.name)) {
            if (e.name.rfind(prefix, 0) != 0 || e.name.rfind(keep, 0) == 0) {
                continue;
            }
            std::string reason;
            if (kernel::destroyStaleEptdev(paths_, e.device, &reason)) {
                ++n;
            } else if (!reason.empty()) {
                staleWarnings_.push_back(e.device + " (" + e.name + "): " + reason);
            }
        }
    }
    return n;
}

} // namespace rpmsgd
