// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Guest memory and the split virtqueues of the vhost-user remote (virtio 1.1, 2.6 "Split
// Virtqueues", as drivers/virtio/virtio_ring.c of Linux 6.6 lays them out): the regions of
// SET_MEM_TABLE mapped and translated (guest physical and front-end virtual addresses), the
// three parts of each ring, used entries, and the call that tells the guest, unless it asked
// for none (VRING_AVAIL_F_NO_INTERRUPT).

#include "vhost_user.h"
#include "vhost_user_wire.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#include <systemd/sd-event.h>

namespace rpmsgsim {

using namespace vhost;

void VhostUserRemote::unmapAll() {
    for (auto& r : regions_) {
        munmap(r.base, r.mapLen);
    }
    regions_.clear();
    for (auto& vq : rings_) {
        vq.desc = vq.avail = vq.used = nullptr;
    }
}

uint8_t* VhostUserRemote::guestPtr(uint64_t addr, uint64_t len) {
    for (auto& r : regions_) {
        if (addr >= r.guestAddr && len <= r.size && addr - r.guestAddr <= r.size - len) {
            return r.base + r.mmapOffset + (addr - r.guestAddr);
        }
    }
    return nullptr;
}

uint8_t* VhostUserRemote::userPtr(uint64_t addr, uint64_t len) {
    for (auto& r : regions_) {
        if (addr >= r.userAddr && len <= r.size && addr - r.userAddr <= r.size - len) {
            return r.base + r.mmapOffset + (addr - r.userAddr);
        }
    }
    return nullptr;
}

bool VhostUserRemote::mapRing(Vring& vq, std::string& why) {
    if (regions_.empty()) {
        return true; // translated when SET_MEM_TABLE arrives
    }
    if (vq.num == 0) {
        why = "SET_VRING_ADDR before SET_VRING_NUM";
        return false;
    }
    vq.desc = userPtr(vq.descUser, 16ull * vq.num);
    vq.avail = userPtr(vq.availUser, 6 + 2ull * vq.num);
    vq.used = userPtr(vq.usedUser, 6 + 8ull * vq.num);
    if (!vq.desc || !vq.avail || !vq.used) {
        why = "a vring lies outside guest memory (desc " + hex(vq.descUser) + ", avail " +
              hex(vq.availUser) + ", used " + hex(vq.usedUser) + ")";
        return false;
    }
    return true;
}

bool VhostUserRemote::ringReady(const Vring& vq) const {
    return connFd_ >= 0 && vq.enabled && vq.desc && vq.avail && vq.used && vq.num;
}

void VhostUserRemote::resetRing(Vring& vq) {
    sd_event_source_disable_unref(vq.kickSource);
    if (vq.kickFd >= 0) {
        close(vq.kickFd);
    }
    if (vq.callFd >= 0) {
        close(vq.callFd);
    }
    vq = Vring{};
}

void VhostUserRemote::scheduleCalls() {
    if (callsScheduled_) {
        return;
    }
    callsScheduled_ = true;
    scheduler_.post([this] { sendCalls(); });
}

void VhostUserRemote::sendCalls() {
    callsScheduled_ = false;
    // The used index is published before the driver's flags are read: a driver that enables
    // interrupts after we looked sees the new entries when it re-checks the ring.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (auto& vq : rings_) {
        if (!vq.needCall || !ringReady(vq)) {
            continue;
        }
        vq.needCall = false;
        if (!driverWantsCall(vq)) {
            continue; // Linux suppresses TX-complete interrupts; the buffers are back anyway
        }
        if (vq.callFd >= 0) {
            // UML's call fd is a socketpair end, not an eventfd: it wants exactly 8 bytes.
            uint64_t one = 1;
            if (::write(vq.callFd, &one, sizeof one) < 0 && errno != EAGAIN) {
                logLine(std::string("signalling the guest: ") + strerror(errno));
            }
        }
    }
}

} // namespace rpmsgsim
