#pragma once
// rpmsgctl's exit codes: one per error class, listed in `rpmsgctl --help` and the README.

#include "rpmsgd/error.h"

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
    ExitNoDaemon = 12, ///< ServiceUnknown, NoReply, Disconnected: rpmsgd or the bus unreachable
    ExitIoError = 13,  ///< IoError: a local file, stdin/stdout or the endpoint fd failed
};

/// @brief The exit code of an error class.
inline int exitCodeOf(rpmsgd::client::ErrorCode code) {
    using C = rpmsgd::client::ErrorCode;
    switch (code) {
    case C::NotFound:
        return ExitNotFound;
    case C::InvalidArgument:
        return ExitInvalidArgument;
    case C::InvalidState:
        return ExitInvalidState;
    case C::InvalidFirmware:
        return ExitInvalidFirmware;
    case C::LimitExceeded:
        return ExitLimitExceeded;
    case C::Timeout:
        return ExitTimeout;
    case C::Unavailable:
        return ExitUnavailable;
    case C::KernelError:
        return ExitKernelError;
    case C::AccessDenied:
        return ExitAccessDenied;
    case C::ServiceUnknown:
    case C::NoReply:
    case C::Disconnected:
        return ExitNoDaemon;
    case C::IoError:
        return ExitIoError;
    case C::Internal:
    case C::Other:
        return ExitFailure;
    }
    return ExitFailure;
}

/// @brief The table printed by --help.
inline constexpr const char* exitCodeHelp = R"(Exit status:
   0  success
   1  other failure (rpmsgd Internal error, unexpected D-Bus error)
   2  usage: unknown verb or option, missing or malformed argument
   3  not found: no such processor, channel, firmware file or trace buffer
   4  access denied: not a manager, or no channel rule allows you
   5  invalid argument, rejected by rpmsgd
   6  invalid state: e.g. firmware change while running, recover while not crashed
   7  invalid firmware: the image failed validation
   8  limit exceeded: too many endpoints or waits, image too large
   9  timeout: the channel did not appear, no message arrived, ping lost replies
  10  unavailable: processor not running, channel or endpoint gone
  11  kernel error: the kernel refused (the message names the file and errno)
  12  rpmsgd unreachable: not running, not answering, or no bus
  13  I/O error: a local file, stdin/stdout, or the endpoint fd
)";

} // namespace rpmsgctl
