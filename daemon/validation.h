// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Checks of the arguments D-Bus callers pass, as pure functions: the handlers and the registry
// call them, and the fuzz targets (tests/fuzz/) call them directly. Each throws
// Error(InvalidArgument) whose message quotes the bad value and says what is allowed.

#include "common/states.h"

#include <cstdint>
#include <optional>
#include <string>

namespace rpmsgd {

/// @brief SetFirmware: a relative path inside the firmware directory, 1-255 bytes, no "..",
/// no newline, no NUL.
void checkFirmwarePath(const std::string& name);

/// @brief LoadFirmware: a plain file name of 1-200 characters A-Z a-z 0-9 . _ - not starting
/// with '.' (Store::validUploadName()).
void checkUploadName(const std::string& name);

/// @brief SetCoredump: one of the kernel's coredump words (disabled, enabled, inline).
CoredumpMode parseCoredumpMode(const std::string& mode);

/// @brief OpenEndpoint: an endpoint name of 1 to 31 bytes without NUL (RPMSG_NAME_SIZE).
void checkEndpointName(const std::string& name);

/// @brief OpenEndpoint: a remote address that can be written to (not ANY).
void checkRemoteAddress(uint32_t address);

/// @brief Open/OpenEndpoint option local_address: when given, not ANY.
void checkLocalAddress(const std::optional<uint32_t>& address);

/// @brief WaitForChannel: a non-empty channel name.
void checkChannelName(const std::string& name);

} // namespace rpmsgd
