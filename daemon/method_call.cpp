// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "method_call.h"

#include "dbus/errors.h"
#include "log.h"

#include <string>

namespace rpmsgd {

sdbus::Error toDbusError(std::exception_ptr error) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (const sdbus::Error& e) {
        return e;
    } catch (const Error& e) {
        return sdbus::Error(errorName(e.code()), e.what());
    } catch (const std::exception& e) {
        log::error(std::string("Internal error in a D-Bus handler: ") + e.what());
        return sdbus::Error(errorName(ErrorCode::Internal),
                            std::string("Internal error: ") + e.what());
    } catch (...) {
        log::error("Internal error in a D-Bus handler: an exception of unknown type");
        return sdbus::Error(errorName(ErrorCode::Internal), "Internal error");
    }
}

} // namespace rpmsgd
