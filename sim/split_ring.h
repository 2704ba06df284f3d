// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The device side of virtio-rpmsg on two split virtqueues (virtio 1.1, 2.6 "Split Virtqueues",
// as drivers/virtio/virtio_ring.c lays them out; rpmsg headers as
// drivers/rpmsg/virtio_rpmsg_bus.c writes them), whatever carries the kicks: the vhost-user
// remote (vhost_user*.cpp) and the remote that plays a remoteproc's firmware (rproc_remote.cpp).
// Both see the driver's memory as guest-physical addresses translated by a GuestMemory.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rpmsgsim {

/// @brief Translates a guest-physical range into our mapping of it; nullptr when outside.
using GuestMemory = std::function<uint8_t*(uint64_t addr, uint64_t len)>;

/// @brief One split virtqueue as the device sees it.
struct SplitRing {
    uint32_t num = 0;
    uint8_t* desc = nullptr;
    uint8_t* avail = nullptr;
    uint8_t* used = nullptr;
    uint16_t lastAvail = 0; ///< the next available entry we have not taken
    uint16_t usedIdx = 0;
    bool needCall = false; ///< used entries were added since the driver was last told
};

/// @brief One rpmsg message the driver sent, with the descriptor chain that holds it.
struct RpmsgFromDriver {
    uint32_t src = 0, dst = 0;
    std::vector<uint8_t> payload;
    uint16_t head = 0;
};

/// @brief Takes the next buffer Linux queued on its TX ring. nullopt when there is none;
/// a malformed chain is logged through @p log, returned as used and skipped.
std::optional<RpmsgFromDriver> takeFromDriver(SplitRing& vq, const GuestMemory& memory,
                                              const std::function<void(const std::string&)>& log);

/// @brief What deliverToDriver() did.
enum class Delivery { NoBuffer, Delivered, Dropped };

/// @brief Writes one rpmsg message into the next RX buffer Linux posted (NoBuffer: none is
/// free; Dropped: the buffer was unusable or too small, and went back empty).
Delivery deliverToDriver(SplitRing& vq, const GuestMemory& memory, uint32_t src, uint32_t dst,
                         std::span<const uint8_t> payload,
                         const std::function<void(const std::string&)>& log);

/// @brief Returns descriptor chain @p id to the driver with @p len bytes written.
void pushUsed(SplitRing& vq, uint16_t id, uint32_t len);

/// @brief True when the driver wants to hear of used buffers (no VRING_AVAIL_F_NO_INTERRUPT).
bool driverWantsCall(const SplitRing& vq);

} // namespace rpmsgsim
