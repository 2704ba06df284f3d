// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/rpmsg/rpmsg_ns.c (Linux 6.6): the name service at address 53 (RPMSG_NS_ADDR). A remote's
// CREATE adds a channel (rpmsg_create_channel; a duplicate is logged and ignored), its DESTROY
// removes the channel (rpmsg_release_channel), with the kernel's log lines. A channel named
// rpmsg-raw is bound to rpmsg_char (5.18+; not in the 5.15 profile), one named rpmsg-tty to
// rpmsg_tty (5.16+; not in the 5.15 profile).

#include "kernel_model_impl.h"

#include <algorithm>

namespace rpmsgsim {

void Simulator::Impl::nsMessage(const std::shared_ptr<Vdev>& v, std::span<const uint8_t> payload) {
    if (payload.size() != RpmsgNsMsgSize) {
        log(v->virtioDir->name + ": malformed ns msg (" + std::to_string(payload.size()) + ")");
        return;
    }
    std::string name = cstrName(reinterpret_cast<const char*>(payload.data()), rpmsg::NameSize - 1);
    auto le32 = [&](size_t off) {
        return uint32_t(payload[off]) | uint32_t(payload[off + 1]) << 8 |
               uint32_t(payload[off + 2]) << 16 | uint32_t(payload[off + 3]) << 24;
    };
    uint32_t addr = le32(32), flags = le32(36);
    if (flags & RpmsgNsDestroy) {
        for (const auto& b : v->busDevices) {
            if (b->kind == BusDevice::Channel &&
                channelMatches(b->name, b->src, b->dst, name, rpmsg::AddrAny, addr)) {
                log(v->virtioDir->name + ": destroying channel " + name + " addr " + hex(addr));
                return removeBusDevice(v, b);
            }
        }
        log(v->virtioDir->name + ": rpmsg_destroy_channel failed for " + name);
        return;
    }
    for (const auto& b : v->busDevices) {
        if (b->kind == BusDevice::Channel &&
            channelMatches(b->name, b->src, b->dst, name, rpmsg::AddrAny, addr)) {
            log(v->virtioDir->name + ": channel " + name + ":" + hex(addr) + " already exist");
            return;
        }
    }
    log(v->virtioDir->name + ": creating channel " + name + " addr " + hex(addr));
    auto b = addBusDevice(v, BusDevice::Channel, name, rpmsg::AddrAny, addr, "", false);
    rpmsg_endpoint_info chinfo{};
    std::memcpy(chinfo.name, name.data(), std::min<size_t>(name.size(), rpmsg::NameSize - 1));
    chinfo.src = rpmsg::AddrAny;
    chinfo.dst = addr;
    // Each driver's id table names the one channel it binds: rpmsg_char rpmsg-raw, rpmsg_tty
    // rpmsg-tty.
    if (chrdevProbe(v, b, chinfo)) {
        vfs.symlink(b->dir, "driver", "/sys/bus/rpmsg/drivers/rpmsg_chrdev");
    } else if (ttyProbe(v, b)) {
        vfs.symlink(b->dir, "driver", "/sys/bus/rpmsg/drivers/rpmsg_tty");
    }
}

} // namespace rpmsgsim
