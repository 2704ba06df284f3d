#include "rpmsgd/error.h"

#include "bus.h"
#include "daemon/errors.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace rpmsgd::client {

namespace {

// The daemon's error table (daemon/errors.cpp) names rpmsgd's own errors; this switch only
// converts its enum, so a new daemon code breaks the build (-Wswitch) instead of being lost.
ErrorCode fromDaemon(rpmsgd::ErrorCode code) noexcept {
    switch (code) {
    case rpmsgd::ErrorCode::NotFound:
        return ErrorCode::NotFound;
    case rpmsgd::ErrorCode::InvalidArgument:
        return ErrorCode::InvalidArgument;
    case rpmsgd::ErrorCode::InvalidState:
        return ErrorCode::InvalidState;
    case rpmsgd::ErrorCode::InvalidFirmware:
        return ErrorCode::InvalidFirmware;
    case rpmsgd::ErrorCode::LimitExceeded:
        return ErrorCode::LimitExceeded;
    case rpmsgd::ErrorCode::Timeout:
        return ErrorCode::Timeout;
    case rpmsgd::ErrorCode::Unavailable:
        return ErrorCode::Unavailable;
    case rpmsgd::ErrorCode::KernelError:
        return ErrorCode::KernelError;
    case rpmsgd::ErrorCode::Internal:
        return ErrorCode::Internal;
    case rpmsgd::ErrorCode::AccessDenied:
        return ErrorCode::AccessDenied;
    }
    return ErrorCode::Other;
}

// The bus's own errors a client meets (sd-bus maps errno values onto some of these names).
constexpr std::pair<std::string_view, ErrorCode> busErrors[] = {
    {"org.freedesktop.DBus.Error.ServiceUnknown", ErrorCode::ServiceUnknown},
    {"org.freedesktop.DBus.Error.NameHasNoOwner", ErrorCode::ServiceUnknown},
    {"org.freedesktop.DBus.Error.NoReply", ErrorCode::NoReply},
    {"org.freedesktop.DBus.Error.Timeout", ErrorCode::NoReply},
    {"org.freedesktop.DBus.Error.TimedOut", ErrorCode::NoReply},
    {"org.freedesktop.DBus.Error.Disconnected", ErrorCode::Disconnected},
    {"org.freedesktop.DBus.Error.NoServer", ErrorCode::Disconnected},
    {"org.freedesktop.DBus.Error.NoNetwork", ErrorCode::Disconnected},
    {"org.freedesktop.DBus.Error.BadAddress", ErrorCode::Disconnected},
    {"org.freedesktop.DBus.Error.FileNotFound", ErrorCode::Disconnected},
    {"org.freedesktop.DBus.Error.UnknownObject", ErrorCode::NotFound},
    {"org.freedesktop.DBus.Error.InvalidArgs", ErrorCode::InvalidArgument},
    {"org.freedesktop.DBus.Error.LimitsExceeded", ErrorCode::LimitExceeded},
    {"org.freedesktop.DBus.Error.NoMemory", ErrorCode::Internal},
};

constexpr std::array<const char*, 15> codeNames = {
    "NotFound",       "InvalidArgument", "InvalidState", "InvalidFirmware", "LimitExceeded",
    "Timeout",        "Unavailable",     "KernelError",  "Internal",        "AccessDenied",
    "ServiceUnknown", "NoReply",         "Disconnected", "IoError",         "Other",
};
static_assert(static_cast<std::size_t>(ErrorCode::Other) + 1 == codeNames.size(),
              "codeNames must name every ErrorCode");

} // namespace

const char* errorCodeName(ErrorCode code) noexcept {
    const auto i = static_cast<std::size_t>(code);
    return i < codeNames.size() ? codeNames[i] : "Other";
}

ErrorCode errorCodeFromDBusName(std::string_view name) noexcept {
    if (auto code = rpmsgd::errorCodeFromName(name)) {
        return fromDaemon(*code);
    }
    for (const auto& [busName, code] : busErrors) {
        if (name == busName) {
            return code;
        }
    }
    return ErrorCode::Other;
}

Error::Error(ErrorCode code, const std::string& message, std::string dbusName)
    : std::runtime_error(message), code_(code), dbusName_(std::move(dbusName)) {}

namespace detail {

Error translate(const sdbus::Error& e) {
    const ErrorCode code = errorCodeFromDBusName(e.getName());
    std::string message = e.getMessage();
    if (message.empty()) {
        message = e.getName();
    }
    return Error(code, message, e.getName());
}

Error systemError(const std::string& what, int err) {
    const ErrorCode code = err == EPIPE ? ErrorCode::Unavailable : ErrorCode::IoError;
    std::string message = what;
    message.append(": ").append(std::strerror(err)).append(" (").append(rpmsgd::errnoName(err));
    message.append(")");
    if (err == EPIPE) {
        message.append("; the endpoint has ended (closed, or its channel or processor is gone)");
    }
    return Error(code, message);
}

} // namespace detail

} // namespace rpmsgd::client
