// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The rpmsg and remoteproc vocabulary that rpmsgd and rpmsg-sim share with the kernel: the
// address constants, the payload limit of virtio-rpmsg and the /dev/rpmsg* ioctl numbers, each
// checked against <linux/rpmsg.h> where the installed header has it (docs/kernel-abi.md).
// Defined here rather than taken from the header alone so that both build on headers older than
// a feature (CREATE_DEV arrived in 5.18, the flow-control ioctls in 6.6).

#include <cstddef>
#include <cstdint>

#include <linux/rpmsg.h>

namespace rpmsgd::rpmsg {

/// @brief RPMSG_ADDR_ANY: "any address" in struct rpmsg_endpoint_info and the name service.
inline constexpr std::uint32_t AddrAny = 0xFFFFFFFFu;
/// @brief Addresses below this are reserved by virtio_rpmsg_bus (RPMSG_RESERVED_ADDRESSES).
inline constexpr std::uint32_t ReservedAddresses = 1024;
/// @brief The name service's own address (RPMSG_NS_ADDR).
inline constexpr std::uint32_t NsAddr = 53;
/// @brief Size of one virtio-rpmsg buffer (MAX_RPMSG_BUF_SIZE).
inline constexpr std::size_t BufferSize = 512;
/// @brief Size of struct rpmsg_hdr, which every buffer starts with.
inline constexpr std::size_t HeaderSize = 16;
/// @brief Largest payload of one message on virtio-rpmsg: a buffer minus its header (496).
inline constexpr std::size_t Mtu = BufferSize - HeaderSize;
/// @brief Length of a channel name in struct rpmsg_endpoint_info and the NS message
///        (RPMSG_NAME_SIZE), including the terminating NUL.
inline constexpr std::size_t NameSize = 32;

/// @brief RPMSG_CREATE_EPT_IOCTL: _IOW(0xb5, 0x1, struct rpmsg_endpoint_info).
inline constexpr unsigned long IoctlCreateEpt = 0x4028B501;
/// @brief RPMSG_DESTROY_EPT_IOCTL: _IO(0xb5, 0x2).
inline constexpr unsigned long IoctlDestroyEpt = 0x0000B502;
/// @brief RPMSG_CREATE_DEV_IOCTL: _IOW(0xb5, 0x3, struct rpmsg_endpoint_info), Linux 5.18+.
inline constexpr unsigned long IoctlCreateDev = 0x4028B503;
/// @brief RPMSG_RELEASE_DEV_IOCTL: _IOW(0xb5, 0x4, struct rpmsg_endpoint_info), Linux 5.18+.
inline constexpr unsigned long IoctlReleaseDev = 0x4028B504;
/// @brief RPMSG_GET_OUTGOING_FLOWCONTROL: _IOR(0xb5, 0x5, int), Linux 6.6+.
inline constexpr unsigned long IoctlGetOutgoingFlow = 0x8004B505;
/// @brief RPMSG_SET_INCOMING_FLOWCONTROL: _IOR(0xb5, 0x6, int), Linux 6.6+.
inline constexpr unsigned long IoctlSetIncomingFlow = 0x8004B506;

static_assert(sizeof(struct rpmsg_endpoint_info) == 40, "struct rpmsg_endpoint_info is 40 bytes");
static_assert(sizeof(rpmsg_endpoint_info::name) == NameSize);
static_assert(RPMSG_CREATE_EPT_IOCTL == IoctlCreateEpt);
static_assert(RPMSG_DESTROY_EPT_IOCTL == IoctlDestroyEpt);
#ifdef RPMSG_ADDR_ANY
static_assert(RPMSG_ADDR_ANY == AddrAny);
#endif
#ifdef RPMSG_CREATE_DEV_IOCTL
static_assert(RPMSG_CREATE_DEV_IOCTL == IoctlCreateDev);
static_assert(RPMSG_RELEASE_DEV_IOCTL == IoctlReleaseDev);
#endif
#ifdef RPMSG_GET_OUTGOING_FLOWCONTROL
static_assert(RPMSG_GET_OUTGOING_FLOWCONTROL == IoctlGetOutgoingFlow);
static_assert(RPMSG_SET_INCOMING_FLOWCONTROL == IoctlSetIncomingFlow);
#endif

} // namespace rpmsgd::rpmsg
