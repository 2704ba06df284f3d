// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The one error vocabulary of rpmsgd, beside the D-Bus contract it names: an ErrorCode enum, the
// single table that maps each code to its D-Bus error name, and the exception the domain throws.
// Built once (the rpmsgd-api library in dbus/meson.build) and linked by the daemon, the client
// library and rpmsgctl. Deliberately free of sdbus-c++: the D-Bus glue converts Error to
// sdbus::Error.

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rpmsgd {

/// @brief Why a request failed; each code has exactly one D-Bus error name (errorName()).
enum class ErrorCode {
    NotFound,        ///< no such processor, channel, endpoint, firmware file, trace buffer
    InvalidArgument, ///< a bad argument or option, or an invalid config on Reload
    InvalidState,    ///< not possible in the object's current state (or: no remoteproc)
    InvalidFirmware, ///< the firmware image failed validation
    LimitExceeded,   ///< a per-client or total limit was reached
    Timeout,         ///< a wait ran out of time
    Unavailable,     ///< processor not running, channel gone
    KernelError,     ///< the kernel refused; the message names the file and the errno
    Internal,        ///< a bug or an unexpected failure inside the daemon
    AccessDenied,    ///< the caller is not allowed to do this
    NotSupported,    ///< the running kernel lacks what the call needs (API 1.1)
};

/// @brief Every ErrorCode, in declaration order (for iteration and tests).
inline constexpr std::array<ErrorCode, 11> allErrorCodes = {
    ErrorCode::NotFound,        ErrorCode::InvalidArgument, ErrorCode::InvalidState,
    ErrorCode::InvalidFirmware, ErrorCode::LimitExceeded,   ErrorCode::Timeout,
    ErrorCode::Unavailable,     ErrorCode::KernelError,     ErrorCode::Internal,
    ErrorCode::AccessDenied,    ErrorCode::NotSupported,
};

/// @brief The version of the D-Bus API this build implements (Manager.ApiVersion).
inline constexpr std::string_view apiVersion = "1.1";

/// @brief Prefix of rpmsgd's own D-Bus error names.
inline constexpr std::string_view errorNamePrefix = "org.rpmsgd.Broker1.Error.";

/// @brief The D-Bus error name of a code, e.g. "org.rpmsgd.Broker1.Error.NotFound".
const char* errorName(ErrorCode code) noexcept;

/// @brief The code's short name for logs, e.g. "NotFound".
const char* errorCodeString(ErrorCode code) noexcept;

/// @brief The code of a D-Bus error name; nullopt for names that are not ours (NoReply, ...).
std::optional<ErrorCode> errorCodeFromName(std::string_view name) noexcept;

/// @brief The symbolic name of an errno value ("ENOENT"); "errno N" when unknown. Negative
///        values (sd-* style) are treated like their absolute value.
std::string errnoName(int err);

/// @brief "<what>: <strerror> (<ENAME>)", e.g. "write 'start' to remoteproc0/state: No such
///        file or directory (ENOENT)". Negative err is accepted like errnoName().
std::string kernelErrorMessage(const std::string& what, int err);

/// @brief The exception of the domain: a code plus a sentence a person can act on.
class Error : public std::runtime_error {
public:
    /// @brief An error with a code and a message naming the object and the reason.
    Error(ErrorCode code, const std::string& message);

    /// @brief The code.
    ErrorCode code() const noexcept { return code_; }
    /// @brief The D-Bus error name of the code.
    const char* name() const noexcept { return errorName(code_); }
    /// @brief The message (same as what()).
    std::string message() const { return what(); }

    /// @brief NotFound.
    static Error notFound(const std::string& message);
    /// @brief InvalidArgument.
    static Error invalidArgument(const std::string& message);
    /// @brief InvalidState.
    static Error invalidState(const std::string& message);
    /// @brief InvalidFirmware.
    static Error invalidFirmware(const std::string& message);
    /// @brief LimitExceeded.
    static Error limitExceeded(const std::string& message);
    /// @brief Timeout.
    static Error timeout(const std::string& message);
    /// @brief Unavailable.
    static Error unavailable(const std::string& message);
    /// @brief KernelError with kernelErrorMessage(what, err) as its message.
    static Error kernel(const std::string& what, int err);
    /// @brief Internal.
    static Error internal(const std::string& message);
    /// @brief AccessDenied.
    static Error accessDenied(const std::string& message);
    /// @brief NotSupported: @p message names the kernel feature and the kernel.
    static Error notSupported(const std::string& message);

private:
    ErrorCode code_;
};

} // namespace rpmsgd
