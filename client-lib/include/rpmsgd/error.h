// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The one exception of librpmsgd-client: an ErrorCode (every org.rpmsgd.Broker1.Error.* name,
// the bus errors a client meets, and local failures) plus the daemon's own message.

#include "rpmsgd/export.h"

#include <stdexcept>
#include <string>
#include <string_view>

namespace rpmsgd::client {

/// @brief Why a call failed. The first ten and NotSupported are rpmsgd's own errors
///        (docs/dbus-api.md "Errors"). NotSupported (API 1.1) comes last so that the values of
///        the codes before it stay as in version 1.0 of this library.
enum class ErrorCode {
    NotFound,        ///< no such processor, channel, firmware file or trace buffer
    InvalidArgument, ///< a bad argument (rejected by rpmsgd or by this library)
    InvalidState,    ///< not possible in the object's current state
    InvalidFirmware, ///< the firmware image failed validation
    LimitExceeded,   ///< a per-client or total limit was reached
    Timeout,         ///< a wait ran out of time (WaitForChannel, Endpoint::receive)
    Unavailable,     ///< processor not running, channel or endpoint gone
    KernelError,     ///< the kernel refused; the message names the file and the errno
    Internal,        ///< a failure inside rpmsgd
    AccessDenied,    ///< the caller is not allowed to do this
    ServiceUnknown,  ///< rpmsgd is not on the bus
    NoReply,         ///< rpmsgd did not answer within the call timeout
    Disconnected,    ///< no connection to the bus (cannot connect, or it was lost)
    IoError,         ///< reading or writing an endpoint or a local file failed
    Other,           ///< any other D-Bus error; Error::dbusName() says which
    NotSupported,    ///< the running kernel lacks what the call needs (rpmsgd API 1.1)
};

/// @brief The code's name, e.g. "NotFound".
RPMSGD_CLIENT_API const char* errorCodeName(ErrorCode code) noexcept;

/// @brief The code of a D-Bus error name ("org.rpmsgd.Broker1.Error.NotFound" -> NotFound,
///        "org.freedesktop.DBus.Error.ServiceUnknown" -> ServiceUnknown, unknown -> Other).
RPMSGD_CLIENT_API ErrorCode errorCodeFromDBusName(std::string_view name) noexcept;

/// @brief Every failure of the library: a code, the message (what()) and, when the error came
///        over D-Bus, its error name.
class RPMSGD_CLIENT_API Error : public std::runtime_error {
public:
    /// @brief An error with a code, a message and the D-Bus error name (empty if local).
    Error(ErrorCode code, const std::string& message, std::string dbusName = {});

    /// @brief The code.
    ErrorCode code() const noexcept { return code_; }
    /// @brief The D-Bus error name as received; empty for local errors.
    const std::string& dbusName() const noexcept { return dbusName_; }

private:
    ErrorCode code_;
    std::string dbusName_;
};

} // namespace rpmsgd::client
