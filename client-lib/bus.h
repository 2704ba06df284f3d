// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Internals of librpmsgd-client shared by Client and Endpoint: the bus connection (kept alive by
// every Endpoint it leased), and the translation of sdbus::Error into client::Error.

#include "rpmsgd/error.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

namespace rpmsgd::client::detail {

inline constexpr const char* BusName = "org.rpmsgd.Broker1";
inline constexpr const char* ManagerPath = "/org/rpmsgd/Broker1";
inline constexpr const char* ManagerIface = "org.rpmsgd.Broker1.Manager";
inline constexpr const char* ProcessorIface = "org.rpmsgd.Broker1.Processor";
inline constexpr const char* ChannelIface = "org.rpmsgd.Broker1.Channel";
inline constexpr const char* EndpointIface = "org.rpmsgd.Broker1.Endpoint";

/// @brief One bus connection; Client and its Endpoints share it.
struct Bus {
    std::unique_ptr<sdbus::IConnection> conn;
    std::chrono::milliseconds callTimeout{25000};
};

/// @brief The client::Error of an sdbus::Error (its name mapped to a code, its message kept).
Error translate(const sdbus::Error& e);

/// @brief A client::Error for a failed system call: IoError, or Unavailable for EPIPE.
Error systemError(const std::string& what, int err);

} // namespace rpmsgd::client::detail
