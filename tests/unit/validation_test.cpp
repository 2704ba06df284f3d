// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The argument checks of the D-Bus handlers' validate step (daemon/validation.h): each refuses
// with InvalidArgument, quoting the bad value and saying what is allowed.

#include "common/rpmsg_abi.h"
#include "common/states.h"
#include "daemon/validation.h"
#include "dbus/errors.h"

#include <string>

#include <gtest/gtest.h>

namespace {

using rpmsgd::CoredumpMode;
using rpmsgd::ErrorCode;

TEST(Validation, CoredumpModeTakesOnlyTheKernelsWords) {
    for (const CoredumpMode m : rpmsgd::allCoredumpModes) {
        EXPECT_EQ(rpmsgd::parseCoredumpMode(std::string(rpmsgd::toString(m))), m);
    }
    for (const std::string mode : {"", "Enabled", "on", "inline\n", "default"}) {
        SCOPED_TRACE("mode '" + mode + "'");
        try {
            rpmsgd::parseCoredumpMode(mode);
            ADD_FAILURE() << "accepted";
        } catch (const rpmsgd::Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
            EXPECT_EQ(std::string(e.what()),
                      "Coredump mode '" + mode + "' is not one of disabled, enabled, inline");
        }
    }
}

TEST(Validation, EndpointNamesFitTheKernelsField) {
    EXPECT_NO_THROW(rpmsgd::checkEndpointName(std::string(31, 'n')));
    EXPECT_THROW(rpmsgd::checkEndpointName(std::string("a\0b", 3)), rpmsgd::Error);
    for (const std::string& name : {std::string(), std::string(32, 'n')}) {
        try {
            rpmsgd::checkEndpointName(name);
            ADD_FAILURE() << "accepted '" << name << "'";
        } catch (const rpmsgd::Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
            EXPECT_NE(std::string(e.what()).find("must be 1 to 31 bytes without NUL"),
                      std::string::npos)
                << e.what();
        }
    }
}

TEST(Validation, AddressAnyIsNoAddress) {
    EXPECT_THROW(rpmsgd::checkRemoteAddress(rpmsgd::rpmsg::AddrAny), rpmsgd::Error);
    EXPECT_NO_THROW(rpmsgd::checkRemoteAddress(1024));
    EXPECT_THROW(rpmsgd::checkLocalAddress(rpmsgd::rpmsg::AddrAny), rpmsgd::Error);
    EXPECT_NO_THROW(rpmsgd::checkLocalAddress(std::nullopt));
    EXPECT_NO_THROW(rpmsgd::checkLocalAddress(1025u));
}

} // namespace
