// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// rpmsg endpoints through /dev/rpmsg_ctrlN and /dev/rpmsgN (docs/kernel-abi.md §6): create an
// endpoint device with RPMSG_CREATE_EPT_IOCTL, find the /dev/rpmsgN it made (the ioctl returns
// no index), open it, and destroy endpoints with RPMSG_DESTROY_EPT_IOCTL so that holders of the
// fd get EPIPE. Device nodes are opened without checking S_ISCHR (the simulator's are regular
// files).

#include "common/rpmsg_abi.h"
#include "daemon/kernel/paths.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rpmsgd::kernel {

/// @brief RPMSG_ADDR_ANY: let the kernel choose the local address (src), or no fixed remote.
using rpmsg::AddrAny;

/// @brief Longest endpoint name the kernel keeps (it forces name[31] = 0).
inline constexpr size_t MaxEndpointName = rpmsg::NameSize - 1;

/// @brief An open endpoint device; the caller owns @c fd.
struct OpenedEndpoint {
    int fd = -1;
    std::string device; ///< rpmsgN
};

/// @brief A CREATE_EPT endpoint device as its class attributes describe it.
struct EptdevInfo {
    std::string device; ///< rpmsgN
    std::string name;   ///< requested name
    uint32_t src = 0;   ///< requested local address (AddrAny: chosen at each open)
    uint32_t dst = 0;   ///< requested remote address
};

/// @brief Creates an endpoint device on control device @p ctrl (rpmsg_ctrlN), finds it among
/// the direct children of /sys/class/rpmsg/<ctrl>/ by @p name, @p src and @p dst (the caller
/// makes names unique; one that existed before the ioctl is never taken), and opens /dev/rpmsgN
/// O_RDWR|O_CLOEXEC (plus O_NONBLOCK). Any failure after the ioctl destroys the new device
/// again. An explicit @p src already requested by an endpoint device of @p ctrl or bound by an
/// rpmsg device of the same transport (a driver-bound channel, the name service at 53) is
/// refused before creating anything (EADDRINUSE, code InvalidArgument): the kernel would fail
/// the open with EINVAL, and a device that cannot be opened cannot be destroyed until the
/// address is free again. Throws KernelError
/// ("open /dev/rpmsg_ctrl0: ...", "RPMSG_CREATE_EPT_IOCTL on /dev/rpmsg_ctrl0: ...") or
/// InvalidArgument (name longer than 31 bytes, bad ctrl name).
OpenedEndpoint createEndpoint(const Paths& paths, const std::string& ctrl, const std::string& name,
                              uint32_t src, uint32_t dst, bool nonblock);

/// @brief RPMSG_DESTROY_EPT_IOCTL on an open endpoint fd: the endpoint and its device go, every
/// holder of the fd gets EPIPE. Returns false without an ioctl when the endpoint is already gone
/// (poll reports POLLERR: destroyed, or torn down with its remote), because a second destroy of
/// the same device is not guarded in the kernel. Throws KernelError otherwise. Does not close
/// @p fd.
bool destroyEndpoint(int fd);

/// @brief The endpoint devices created through @p ctrl (direct children rpmsgN of its class
/// directory), in index order; ones vanishing during the scan are skipped.
std::vector<EptdevInfo> listEptdevs(const Paths& paths, const std::string& ctrl);

/// @brief Removes an endpoint device left by an earlier daemon instance (open + DESTROY).
/// Returns true when it was destroyed or is already gone, false with @p reason when it cannot
/// be (held open by a process: EBUSY; unopenable: its address is taken; a channel's default
/// endpoint). Throws KernelError for other failures.
bool destroyStaleEptdev(const Paths& paths, const std::string& device,
                        std::string* reason = nullptr);

} // namespace rpmsgd::kernel
