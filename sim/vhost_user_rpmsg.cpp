// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The virtio-rpmsg device the vhost-user remote plays (the device side of
// drivers/rpmsg/virtio_rpmsg_bus.c, Linux 6.1 and 6.6): the driver is up at its first RX kick,
// the TX queue's buffers go to the RemoteEngine with their rpmsg header read and come back as
// it consumes them, and what the remote sends fills the RX buffers Linux posted, waiting while
// none is free. A crash stops the remote: no remoteproc is there to recover it.

#include "vhost_user.h"
#include "vhost_user_wire.h"

#include <algorithm>
#include <unistd.h>

namespace rpmsgsim {

using namespace vhost;

namespace {

constexpr size_t MaxPending = 4096; // messages waiting for Linux to post RX buffers

} // namespace

int VhostUserRemote::onKick(sd_event_source*, int fd, uint32_t, void* p) {
    auto* self = static_cast<VhostUserRemote*>(p);
    // An eventfd: one read takes the whole count. UML's is blocking, and it is readable now.
    uint64_t n;
    (void)!::read(fd, &n, sizeof n);
    if (fd == self->rings_[RxQueue].kickFd) {
        if (!self->driverUp_ && self->ringReady(self->rings_[RxQueue])) {
            // vhost-user has no device status: the first RX kick comes after
            // virtio_device_ready(), so the driver is up and the remote may talk.
            self->driverUp_ = true;
            logLine("driver up: " + std::to_string(self->rings_[RxQueue].num) + "-entry vrings");
            self->engine_->start();
        }
        self->flushPending();
    } else if (fd == self->rings_[TxQueue].kickFd) {
        self->processTx();
    }
    self->sendCalls();
    return 0;
}

void VhostUserRemote::processTx() {
    Vring& vq = rings_[TxQueue];
    if (!ringReady(vq)) {
        return;
    }
    while (connFd_ >= 0) {
        auto m = takeFromDriver(vq, memory_, logLine);
        if (!m) {
            break;
        }
        ++fromLinux_;
        engine_->receive(m->src, m->dst, m->payload, m->head);
    }
}

void VhostUserRemote::releaseBuffer(uint64_t token) {
    Vring& vq = rings_[TxQueue];
    if (!ringReady(vq) || token >= vq.num) {
        return;
    }
    pushUsed(vq, uint16_t(token), 0);
    scheduleCalls();
}

void VhostUserRemote::sendToLinux(uint32_t src, uint32_t dst, std::span<const uint8_t> payload) {
    if (connFd_ < 0) {
        return;
    }
    Outgoing m{src, dst, std::vector<uint8_t>(payload.begin(), payload.end())};
    if (pending_.empty() && driverUp_ && deliver(m)) {
        scheduleCalls();
        return;
    }
    if (pending_.size() >= MaxPending) {
        if (dropped_++ % 1000 == 0) {
            logLine("Linux posts no RX buffers: dropping messages (" + std::to_string(dropped_) +
                    " so far)");
        }
        return;
    }
    pending_.push_back(std::move(m));
}

void VhostUserRemote::flushPending() {
    while (!pending_.empty() && deliver(pending_.front())) {
        pending_.pop_front();
    }
}

bool VhostUserRemote::deliver(const Outgoing& m) {
    Vring& vq = rings_[RxQueue];
    if (!driverUp_ || !ringReady(vq)) {
        return false;
    }
    const Delivery d = deliverToDriver(vq, memory_, m.src, m.dst, m.payload, logLine);
    if (d == Delivery::Delivered) {
        ++toLinux_;
    }
    return d != Delivery::NoBuffer;
}

void VhostUserRemote::reportCrash(unsigned type) {
    // A transport without a remoteproc has nobody to recover it: the remote just stops.
    logLine("the firmware crashed (type " + std::to_string(type) +
            "); with no remoteproc to recover it, the remote stops answering");
    engine_->halt();
}

void VhostUserRemote::trace(const std::string& line) {
    logLine("trace: " + line);
}

} // namespace rpmsgsim
