// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "rpmsgd/error.h"

#include "bus.h"
#include "dbus/errors.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace rpmsgd::client {

namespace {

// The daemon's API 1.0 codes come first in the client's enum, in the same order (client_unit_test
// checks each by name), so one cast converts them and the table in dbus/errors.cpp stays the only
// place that names them. Codes the daemon gained later (NotSupported) follow the client's own,
// so that no value of library version 1.0 changes.
constexpr auto daemonCodes = static_cast<std::size_t>(rpmsgd::ErrorCode::NotSupported);
static_assert(daemonCodes == static_cast<std::size_t>(ErrorCode::ServiceUnknown),
              "the client's ErrorCode must start with every API 1.0 rpmsgd::ErrorCode, in order");
static_assert(rpmsgd::allErrorCodes.size() == daemonCodes + 1 &&
                  ErrorCode::NotSupported ==
                      static_cast<ErrorCode>(static_cast<std::size_t>(ErrorCode::Other) + 1),
              "a daemon code added after API 1.0 needs its place after Other");

ErrorCode fromDaemon(rpmsgd::ErrorCode code) noexcept {
    return code == rpmsgd::ErrorCode::NotSupported ? ErrorCode::NotSupported
                                                   : static_cast<ErrorCode>(code);
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

// The client's own codes, after the daemon's.
constexpr std::array<const char*, 5> clientCodeNames = {
    "ServiceUnknown", "NoReply", "Disconnected", "IoError", "Other",
};
static_assert(daemonCodes + clientCodeNames.size() ==
                  static_cast<std::size_t>(ErrorCode::Other) + 1,
              "clientCodeNames must name every client-only ErrorCode");

} // namespace

const char* errorCodeName(ErrorCode code) noexcept {
    if (code == ErrorCode::NotSupported) {
        return rpmsgd::errorCodeString(rpmsgd::ErrorCode::NotSupported);
    }
    const auto i = static_cast<std::size_t>(code);
    if (i < daemonCodes) {
        return rpmsgd::errorCodeString(static_cast<rpmsgd::ErrorCode>(i));
    }
    return i - daemonCodes < clientCodeNames.size() ? clientCodeNames[i - daemonCodes] : "Other";
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
