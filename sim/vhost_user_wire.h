// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// What the parts of the vhost-user remote (vhost_user*.cpp) share: the split-ring flags, the
// queue numbers of virtio-rpmsg, little-endian access to guest memory and to the ring indices
// the guest changes while we read them, the log line, and the socket helpers of the
// connection and the control streams. Private to sim/.

#include "common/rpmsg_abi.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <endian.h>
#include <iostream>
#include <string>

typedef struct sd_event sd_event;

namespace rpmsgsim::vhost {

// struct vring_desc flags, and the driver's VRING_AVAIL_F_NO_INTERRUPT.
inline constexpr uint16_t DescNext = 1;
inline constexpr uint16_t DescWrite = 2;
inline constexpr uint16_t DescIndirect = 4;
inline constexpr uint16_t AvailNoInterrupt = 1;

/// The rpmsg header (struct rpmsg_hdr) that starts every buffer.
inline constexpr size_t RpmsgHeader = rpmsgd::rpmsg::HeaderSize;

/// What disconnect() is told when the control stream asked for the hang-up.
inline const char* const HungUpOnRequest = "hung up on request";

inline constexpr uint32_t RxQueue = 0; // device -> driver ("input")
inline constexpr uint32_t TxQueue = 1; // driver -> device ("output")

inline void logLine(const std::string& s) {
    std::cerr << "rpmsg-sim remote: " << s << std::endl;
}

inline std::string hex(uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

inline uint64_t get64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return le64toh(v);
}
inline uint32_t get32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return le32toh(v);
}
inline uint16_t get16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return le16toh(v);
}
inline void put32(uint8_t* p, uint32_t v) {
    v = htole32(v);
    std::memcpy(p, &v, 4);
}
inline void put16(uint8_t* p, uint16_t v) {
    v = htole16(v);
    std::memcpy(p, &v, 2);
}
// The ring indices are shared with the guest, which runs at the same time.
inline uint16_t loadIdx(const uint8_t* p) {
    return le16toh(__atomic_load_n(reinterpret_cast<const uint16_t*>(p), __ATOMIC_ACQUIRE));
}
inline void storeIdx(uint8_t* p, uint16_t v) {
    __atomic_store_n(reinterpret_cast<uint16_t*>(p), htole16(v), __ATOMIC_RELEASE);
}

/// Prints `ready WHAT` on stdout and runs @p event until it exits; the exit code of a `remote`
/// command (1 when the loop failed, said on stderr).
int serveReady(sd_event* event, const std::string& what);
/// Writes all of @p s to a (non-blocking) stream, waiting up to 5 s for room; false on failure.
bool writeAll(int fd, const std::string& s);
/// A listening UNIX stream socket at @p path (a stale socket file is replaced); -1 with
/// @p error on failure.
int listenUnix(const std::string& path, std::string& error);

} // namespace rpmsgsim::vhost
