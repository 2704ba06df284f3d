// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Error checks on librpmsgd-client calls (those on raw D-Bus calls are errorOf and
// EXPECT_DBUS_ERROR in bus_client.h): header-only, for the suites that link the client library.

#include "rpmsgd/client.h"

#include <gtest/gtest.h>

namespace harness {

/// @brief Runs @p fn and returns the rpmsgd::client::Error it threw; fails the test otherwise.
template <typename F>
rpmsgd::client::Error clientErrorFrom(F&& fn) {
    try {
        fn();
    } catch (const rpmsgd::client::Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected an rpmsgd::client::Error";
    return rpmsgd::client::Error(rpmsgd::client::ErrorCode::Other, "no error");
}

} // namespace harness
