// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// How a simulated firmware writes its trace buffer (sim/README.md "Simulated firmware"), shared by
// the FUSE twin (virtio_rpmsg_bus.cpp) and the vhost-user remote (rproc_remote.cpp).

#include <cstdint>
#include <string_view>

namespace rpmsgsim {

/// @brief Writes @p text into a firmware trace buffer of @p len bytes the way Zephyr's RAM
/// console does: the last byte stays NUL, the other len-1 bytes are a ring in which the writer
/// continues at @p pos and wraps to 0. Until the first wrap the zero-filled rest ends the text;
/// after it, a reader (rproc_trace_read: strnlen) sees the whole ring, newest bytes before
/// @p pos, oldest after it.
inline void writeTraceRing(uint8_t* buf, uint32_t len, uint32_t& pos, std::string_view text) {
    if (!buf || len < 2) {
        return;
    }
    const uint32_t ring = len - 1;
    for (char c : text) {
        buf[pos % ring] = uint8_t(c);
        pos = (pos % ring + 1) % ring;
    }
    buf[ring] = 0;
}

} // namespace rpmsgsim
