// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "dbus/errors.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace rpmsgd {

namespace {

struct ErrorEntry {
    ErrorCode code;
    const char* shortName;
    const char* busName;
};

// THE table: code <-> D-Bus error name. Order follows the enum (checked below).
constexpr ErrorEntry errorTable[] = {
    {ErrorCode::NotFound, "NotFound", "org.rpmsgd.Broker1.Error.NotFound"},
    {ErrorCode::InvalidArgument, "InvalidArgument", "org.rpmsgd.Broker1.Error.InvalidArgument"},
    {ErrorCode::InvalidState, "InvalidState", "org.rpmsgd.Broker1.Error.InvalidState"},
    {ErrorCode::InvalidFirmware, "InvalidFirmware", "org.rpmsgd.Broker1.Error.InvalidFirmware"},
    {ErrorCode::LimitExceeded, "LimitExceeded", "org.rpmsgd.Broker1.Error.LimitExceeded"},
    {ErrorCode::Timeout, "Timeout", "org.rpmsgd.Broker1.Error.Timeout"},
    {ErrorCode::Unavailable, "Unavailable", "org.rpmsgd.Broker1.Error.Unavailable"},
    {ErrorCode::KernelError, "KernelError", "org.rpmsgd.Broker1.Error.KernelError"},
    {ErrorCode::Internal, "Internal", "org.rpmsgd.Broker1.Error.Internal"},
    {ErrorCode::AccessDenied, "AccessDenied", "org.freedesktop.DBus.Error.AccessDenied"},
    {ErrorCode::NotSupported, "NotSupported", "org.rpmsgd.Broker1.Error.NotSupported"},
};

constexpr bool tableMatchesEnum() {
    if (std::size(errorTable) != allErrorCodes.size()) {
        return false;
    }
    for (std::size_t i = 0; i < allErrorCodes.size(); ++i) {
        if (errorTable[i].code != allErrorCodes[i] ||
            static_cast<std::size_t>(allErrorCodes[i]) != i) {
            return false;
        }
    }
    return true;
}
static_assert(tableMatchesEnum(), "errorTable must list every ErrorCode once, in enum order");

const ErrorEntry& entry(ErrorCode code) noexcept {
    auto i = static_cast<std::size_t>(code);
    // An out-of-range value can only come from a cast; report it as Internal, not UB.
    return i < std::size(errorTable) ? errorTable[i]
                                     : errorTable[static_cast<std::size_t>(ErrorCode::Internal)];
}

// Errno names for what the kernel interfaces we use can return; others fall back to glibc.
#define RPMSGD_ERRNO(e)                                                                            \
    { e, #e }
struct ErrnoEntry {
    int value;
    const char* name;
};
constexpr ErrnoEntry errnoTable[] = {
    RPMSGD_ERRNO(EPERM),        RPMSGD_ERRNO(ENOENT),     RPMSGD_ERRNO(ESRCH),
    RPMSGD_ERRNO(EINTR),        RPMSGD_ERRNO(EIO),        RPMSGD_ERRNO(ENXIO),
    RPMSGD_ERRNO(E2BIG),        RPMSGD_ERRNO(ENOEXEC),    RPMSGD_ERRNO(EBADF),
    RPMSGD_ERRNO(ECHILD),       RPMSGD_ERRNO(EAGAIN),     RPMSGD_ERRNO(ENOMEM),
    RPMSGD_ERRNO(EACCES),       RPMSGD_ERRNO(EFAULT),     RPMSGD_ERRNO(EBUSY),
    RPMSGD_ERRNO(EEXIST),       RPMSGD_ERRNO(EXDEV),      RPMSGD_ERRNO(ENODEV),
    RPMSGD_ERRNO(ENOTDIR),      RPMSGD_ERRNO(EISDIR),     RPMSGD_ERRNO(EINVAL),
    RPMSGD_ERRNO(ENFILE),       RPMSGD_ERRNO(EMFILE),     RPMSGD_ERRNO(ENOTTY),
    RPMSGD_ERRNO(EFBIG),        RPMSGD_ERRNO(ENOSPC),     RPMSGD_ERRNO(ESPIPE),
    RPMSGD_ERRNO(EROFS),        RPMSGD_ERRNO(EPIPE),      RPMSGD_ERRNO(ERANGE),
    RPMSGD_ERRNO(ENAMETOOLONG), RPMSGD_ERRNO(ENOSYS),     RPMSGD_ERRNO(ENOTEMPTY),
    RPMSGD_ERRNO(ELOOP),        RPMSGD_ERRNO(ENODATA),    RPMSGD_ERRNO(ETIME),
    RPMSGD_ERRNO(EPROTO),       RPMSGD_ERRNO(EBADMSG),    RPMSGD_ERRNO(EOVERFLOW),
    RPMSGD_ERRNO(EMSGSIZE),     RPMSGD_ERRNO(EOPNOTSUPP), RPMSGD_ERRNO(ENOBUFS),
    RPMSGD_ERRNO(ENOTCONN),     RPMSGD_ERRNO(ESHUTDOWN),  RPMSGD_ERRNO(ETIMEDOUT),
    RPMSGD_ERRNO(ECONNRESET),   RPMSGD_ERRNO(EALREADY),   RPMSGD_ERRNO(EINPROGRESS),
    RPMSGD_ERRNO(ESTALE),       RPMSGD_ERRNO(ECANCELED),  RPMSGD_ERRNO(ENOMEDIUM),
    RPMSGD_ERRNO(EREMOTEIO),    RPMSGD_ERRNO(EHOSTDOWN),  RPMSGD_ERRNO(ENOLINK),
};
#undef RPMSGD_ERRNO

} // namespace

const char* errorName(ErrorCode code) noexcept {
    return entry(code).busName;
}

const char* errorCodeString(ErrorCode code) noexcept {
    return entry(code).shortName;
}

std::optional<ErrorCode> errorCodeFromName(std::string_view name) noexcept {
    for (const auto& e : errorTable) {
        if (name == e.busName) {
            return e.code;
        }
    }
    return std::nullopt;
}

std::string errnoName(int err) {
    const int e = err < 0 ? -err : err;
    for (const auto& n : errnoTable) {
        if (n.value == e) {
            return n.name;
        }
    }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    if (const char* name = strerrorname_np(e)) {
        return name;
    }
#endif
    return "errno " + std::to_string(e);
}

std::string kernelErrorMessage(const std::string& what, int err) {
    const int e = err < 0 ? -err : err;
    return what + ": " + std::generic_category().message(e) + " (" + errnoName(e) + ")";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

Error Error::notFound(const std::string& message) {
    return {ErrorCode::NotFound, message};
}
Error Error::invalidArgument(const std::string& message) {
    return {ErrorCode::InvalidArgument, message};
}
Error Error::invalidState(const std::string& message) {
    return {ErrorCode::InvalidState, message};
}
Error Error::invalidFirmware(const std::string& message) {
    return {ErrorCode::InvalidFirmware, message};
}
Error Error::limitExceeded(const std::string& message) {
    return {ErrorCode::LimitExceeded, message};
}
Error Error::timeout(const std::string& message) {
    return {ErrorCode::Timeout, message};
}
Error Error::unavailable(const std::string& message) {
    return {ErrorCode::Unavailable, message};
}
Error Error::kernel(const std::string& what, int err) {
    return {ErrorCode::KernelError, kernelErrorMessage(what, err)};
}
Error Error::internal(const std::string& message) {
    return {ErrorCode::Internal, message};
}
Error Error::accessDenied(const std::string& message) {
    return {ErrorCode::AccessDenied, message};
}
Error Error::notSupported(const std::string& message) {
    return {ErrorCode::NotSupported, message};
}

} // namespace rpmsgd
