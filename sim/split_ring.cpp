// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsg messages in and out of split virtqueues (split_ring.h): descriptor chains gathered and
// scattered through the guest's memory, the rpmsg header read and written, used entries
// published for a driver that reads them while we write.

#include "split_ring.h"

#include "vhost_user_wire.h"

#include <algorithm>

namespace rpmsgsim {

using namespace vhost;

namespace {

constexpr size_t MaxMessage = 65536; // a TX chain longer than this is malformed

uint16_t takeAvail(SplitRing& vq) {
    const uint16_t head = get16(vq.avail + 4 + 2 * (vq.lastAvail % vq.num));
    ++vq.lastAvail;
    return head;
}

} // namespace

std::optional<RpmsgFromDriver> takeFromDriver(SplitRing& vq, const GuestMemory& memory,
                                              const std::function<void(const std::string&)>& log) {
    while (vq.lastAvail != loadIdx(vq.avail + 2)) {
        const uint16_t head = takeAvail(vq);
        std::vector<uint8_t> bytes;
        uint16_t i = head;
        bool bad = head >= vq.num;
        for (uint32_t hops = 0; !bad; ++hops) {
            const uint8_t* d = vq.desc + 16 * size_t(i);
            const uint64_t addr = get64(d);
            const uint32_t len = get32(d + 8);
            const uint16_t dflags = get16(d + 12);
            const uint8_t* buf = memory(addr, len);
            if (!buf || (dflags & (DescWrite | DescIndirect)) || hops >= vq.num ||
                bytes.size() + len > MaxMessage) {
                bad = true;
                break;
            }
            bytes.insert(bytes.end(), buf, buf + len);
            if (!(dflags & DescNext)) {
                break;
            }
            i = get16(d + 14);
            bad = i >= vq.num;
        }
        if (bad || bytes.size() < RpmsgHeader) {
            log("dropping a malformed TX buffer (descriptor " + std::to_string(head) + ")");
            if (head < vq.num) {
                pushUsed(vq, head, 0);
            }
            continue;
        }
        RpmsgFromDriver m;
        m.src = get32(bytes.data());
        m.dst = get32(bytes.data() + 4);
        const size_t len = std::min<size_t>(get16(bytes.data() + 12), bytes.size() - RpmsgHeader);
        m.payload.assign(bytes.begin() + RpmsgHeader, bytes.begin() + RpmsgHeader + len);
        m.head = head;
        return m;
    }
    return std::nullopt;
}

Delivery deliverToDriver(SplitRing& vq, const GuestMemory& memory, uint32_t src, uint32_t dst,
                         std::span<const uint8_t> payload,
                         const std::function<void(const std::string&)>& log) {
    if (vq.lastAvail == loadIdx(vq.avail + 2)) {
        return Delivery::NoBuffer; // every RX buffer is in use: wait for the next kick
    }
    const uint16_t head = takeAvail(vq);
    const size_t total = RpmsgHeader + payload.size();
    uint8_t hdr[RpmsgHeader] = {};
    put32(hdr, src);
    put32(hdr + 4, dst);
    put16(hdr + 12, uint16_t(payload.size()));
    size_t written = 0;
    uint16_t i = head;
    bool bad = head >= vq.num;
    for (uint32_t hops = 0; !bad && written < total; ++hops) {
        const uint8_t* d = vq.desc + 16 * size_t(i);
        const uint64_t addr = get64(d);
        const uint32_t len = get32(d + 8);
        const uint16_t dflags = get16(d + 12);
        uint8_t* buf = memory(addr, len);
        if (!buf || !(dflags & DescWrite) || (dflags & DescIndirect) || hops >= vq.num) {
            bad = true;
            break;
        }
        for (uint32_t k = 0; k < len && written < total; ++k, ++written) {
            buf[k] = written < RpmsgHeader ? hdr[written] : payload[written - RpmsgHeader];
        }
        if (!(dflags & DescNext)) {
            break;
        }
        i = get16(d + 14);
        bad = i >= vq.num;
    }
    if (bad || written < total) {
        log("an RX buffer (descriptor " + std::to_string(head) + ") cannot hold a " +
            std::to_string(total) + "-byte message; the message is dropped");
        if (head < vq.num) {
            pushUsed(vq, head, 0);
        }
        return Delivery::Dropped;
    }
    pushUsed(vq, head, uint32_t(total));
    return Delivery::Delivered;
}

void pushUsed(SplitRing& vq, uint16_t id, uint32_t len) {
    uint8_t* elem = vq.used + 4 + 8 * size_t(vq.usedIdx % vq.num);
    put32(elem, id);
    put32(elem + 4, len);
    ++vq.usedIdx;
    storeIdx(vq.used + 2, vq.usedIdx);
    vq.needCall = true;
}

bool driverWantsCall(const SplitRing& vq) {
    return !(loadIdx(vq.avail) & AvailNoInterrupt);
}

} // namespace rpmsgsim
