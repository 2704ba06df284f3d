// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// rpmsgctl's exit codes: one per error class, listed in `rpmsgctl --help` and the README. Two
// tables: what each exit code means, and which exit code each client ErrorCode gets.

#include "rpmsgd/error.h"

#include <array>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace rpmsgctl {

enum ExitCode : int {
    ExitOk = 0,
    ExitFailure = 1,      ///< Internal, Other: anything not listed below
    ExitUsage = 2,        ///< bad command line
    ExitNotFound = 3,     ///< NotFound
    ExitAccessDenied = 4, ///< AccessDenied
    ExitInvalidArgument = 5,
    ExitInvalidState = 6,
    ExitInvalidFirmware = 7,
    ExitLimitExceeded = 8,
    ExitTimeout = 9,      ///< Timeout: a wait or receive ran out of time, ping lost replies
    ExitUnavailable = 10, ///< Unavailable: processor not running, channel/endpoint gone
    ExitKernelError = 11,
    ExitNoDaemon = 12,     ///< ServiceUnknown, NoReply, Disconnected: rpmsgd or the bus unreachable
    ExitIoError = 13,      ///< IoError: a local file, stdin/stdout or the endpoint fd failed
    ExitNotSupported = 14, ///< NotSupported: the running kernel lacks the feature (API 1.1)
};

/// @brief What each exit code means, in order (printed by --help).
inline constexpr std::array<std::pair<ExitCode, std::string_view>, 15> exitCodeMeanings = {{
    {ExitOk, "success"},
    {ExitFailure, "other failure (rpmsgd Internal error, unexpected D-Bus error)"},
    {ExitUsage, "usage: unknown verb or option, missing or malformed argument"},
    {ExitNotFound, "not found: no such processor, channel, firmware file or trace buffer"},
    {ExitAccessDenied, "access denied: not a manager, or no channel rule allows you"},
    {ExitInvalidArgument, "invalid argument, rejected by rpmsgd"},
    {ExitInvalidState,
     "invalid state: e.g. firmware change while running, recover while not crashed"},
    {ExitInvalidFirmware, "invalid firmware: the image failed validation"},
    {ExitLimitExceeded, "limit exceeded: too many endpoints or waits, image too large"},
    {ExitTimeout, "timeout: the channel did not appear, no message arrived, ping lost replies"},
    {ExitUnavailable, "unavailable: processor not running, channel or endpoint gone"},
    {ExitKernelError, "kernel error: the kernel refused (the message names the file and errno)"},
    {ExitNoDaemon, "rpmsgd unreachable: not running, not answering, or no bus"},
    {ExitIoError, "I/O error: a local file, stdin/stdout, or the endpoint fd"},
    {ExitNotSupported, "not supported: the running kernel lacks what the call needs"},
}};

/// @brief The exit code of each client ErrorCode, in the enum's order.
inline constexpr std::array<std::pair<rpmsgd::client::ErrorCode, ExitCode>, 16> exitCodeOfError = {{
    {rpmsgd::client::ErrorCode::NotFound, ExitNotFound},
    {rpmsgd::client::ErrorCode::InvalidArgument, ExitInvalidArgument},
    {rpmsgd::client::ErrorCode::InvalidState, ExitInvalidState},
    {rpmsgd::client::ErrorCode::InvalidFirmware, ExitInvalidFirmware},
    {rpmsgd::client::ErrorCode::LimitExceeded, ExitLimitExceeded},
    {rpmsgd::client::ErrorCode::Timeout, ExitTimeout},
    {rpmsgd::client::ErrorCode::Unavailable, ExitUnavailable},
    {rpmsgd::client::ErrorCode::KernelError, ExitKernelError},
    {rpmsgd::client::ErrorCode::Internal, ExitFailure},
    {rpmsgd::client::ErrorCode::AccessDenied, ExitAccessDenied},
    {rpmsgd::client::ErrorCode::ServiceUnknown, ExitNoDaemon},
    {rpmsgd::client::ErrorCode::NoReply, ExitNoDaemon},
    {rpmsgd::client::ErrorCode::Disconnected, ExitNoDaemon},
    {rpmsgd::client::ErrorCode::IoError, ExitIoError},
    {rpmsgd::client::ErrorCode::Other, ExitFailure},
    {rpmsgd::client::ErrorCode::NotSupported, ExitNotSupported},
}};

namespace detail {
// Row i of @p table holds the enum value i, and there is a row for every value up to @p last.
template <typename Enum, typename Value, std::size_t N>
constexpr bool everyValueInOrder(const std::array<std::pair<Enum, Value>, N>& table, Enum last) {
    for (std::size_t i = 0; i < N; ++i) {
        if (static_cast<std::size_t>(table[i].first) != i) {
            return false;
        }
    }
    return N == static_cast<std::size_t>(last) + 1;
}
} // namespace detail

// In place of -Wswitch: a code added to either enum without a row here fails the build
// (NotSupported is the client's last code, as client-lib/error.cpp also requires).
static_assert(detail::everyValueInOrder(exitCodeMeanings, ExitNotSupported),
              "exitCodeMeanings must describe every ExitCode, in order");
static_assert(detail::everyValueInOrder(exitCodeOfError, rpmsgd::client::ErrorCode::NotSupported),
              "exitCodeOfError must map every client ErrorCode, in order");

/// @brief The exit code of an error class.
inline int exitCodeOf(rpmsgd::client::ErrorCode code) {
    const auto i = static_cast<std::size_t>(code);
    return i < exitCodeOfError.size() ? exitCodeOfError[i].second : ExitFailure;
}

/// @brief The table printed by --help.
inline std::string exitCodeHelp() {
    std::string s = "Exit status:\n";
    for (const auto& [code, meaning] : exitCodeMeanings) {
        char number[8];
        std::snprintf(number, sizeof number, "%4d  ", static_cast<int>(code));
        s.append(number).append(meaning).append("\n");
    }
    return s;
}

} // namespace rpmsgctl
