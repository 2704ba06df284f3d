// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Endpoint's private state (client.cpp fills it in when a channel is opened).

#include "bus.h"
#include "rpmsgd/endpoint.h"

#include <cstdint>
#include <memory>
#include <string>

namespace rpmsgd::client {

struct Endpoint::Impl {
    int fd = -1;
    std::uint32_t mtu = 0;
    std::string path;                 ///< Endpoint object; empty for adopted fds
    std::shared_ptr<detail::Bus> bus; ///< to end the lease; null for adopted fds
};

} // namespace rpmsgd::client
