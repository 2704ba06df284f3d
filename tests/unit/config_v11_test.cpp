// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The configuration keys of version 1.1 that bound what one client or one kernel write can take
// (config.md, "Additions (version 1.1)"): their defaults, their ranges, and the policy they give.

#include "config/config.h"
#include "daemon/policy.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace rpmsgd::config;

namespace {

std::vector<std::string> errorsOf(const std::string& text) {
    return parseConfig({Source{"rpmsgd.json", text}}).errors;
}

std::string oneError(const std::string& pointer, const std::string& reason) {
    return "rpmsgd.json: " + pointer + ": " + reason;
}

} // namespace

TEST(ConfigV11, CallsPerClientDefaultsTo32) {
    const LoadResult r = parseConfig({Source{"rpmsgd.json", "{}"}});
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.config.limits.callsPerClient, 32u);
}

TEST(ConfigV11, CallsPerClientIsReadAndReachesThePolicy) {
    const LoadResult r =
        parseConfig({Source{"rpmsgd.json", R"({"limits": {"calls_per_client": 4096}})"}});
    ASSERT_TRUE(r.ok) << r.errors.front();
    EXPECT_EQ(r.config.limits.callsPerClient, 4096u);
    std::vector<std::string> warnings;
    EXPECT_EQ(rpmsgd::policyFrom(r.config, warnings).callsPerClient, 4096u);
}

TEST(ConfigV11, CallsPerClientOutOfRangeOrNotAnIntegerIsRefused) {
    EXPECT_EQ(errorsOf(R"({"limits": {"calls_per_client": 0}})"),
              std::vector<std::string>{oneError("/limits/calls_per_client",
                                                "expected an integer from 1 to 4096, got 0")});
    EXPECT_EQ(errorsOf(R"({"limits": {"calls_per_client": 4097}})"),
              std::vector<std::string>{oneError("/limits/calls_per_client",
                                                "expected an integer from 1 to 4096, got 4097")});
    const auto text = errorsOf(R"({"limits": {"calls_per_client": "8"}})");
    ASSERT_EQ(text.size(), 1u);
    EXPECT_NE(text[0].find("/limits/calls_per_client"), std::string::npos) << text[0];
}

TEST(ConfigV11, KernelWriteTimeoutDefaultsTo30sAndIsRead) {
    EXPECT_EQ(parseConfig({Source{"rpmsgd.json", "{}"}}).config.limits.kernelWriteTimeoutMs,
              30000u);
    const LoadResult r =
        parseConfig({Source{"rpmsgd.json", R"({"limits": {"kernel_write_timeout_ms": 100}})"}});
    ASSERT_TRUE(r.ok) << r.errors.front();
    EXPECT_EQ(r.config.limits.kernelWriteTimeoutMs, 100u);
    std::vector<std::string> warnings;
    EXPECT_EQ(rpmsgd::policyFrom(r.config, warnings).kernelWriteTimeoutMs, 100u);
}

TEST(ConfigV11, KernelWriteTimeoutOutOfRangeIsRefused) {
    EXPECT_EQ(
        errorsOf(R"({"limits": {"kernel_write_timeout_ms": 99}})"),
        std::vector<std::string>{oneError("/limits/kernel_write_timeout_ms",
                                          "expected an integer from 100 to 3600000, got 99")});
    EXPECT_EQ(
        errorsOf(R"({"limits": {"kernel_write_timeout_ms": 3600001}})"),
        std::vector<std::string>{oneError("/limits/kernel_write_timeout_ms",
                                          "expected an integer from 100 to 3600000, got 3600001")});
}

TEST(ConfigV11, AuthorizationDefaultsToAutoAndIsReadIntoThePolicy) {
    EXPECT_EQ(parseConfig({Source{"rpmsgd.json", "{}"}}).config.authorization, Authorization::Auto);
    const std::pair<const char*, rpmsgd::Authorization> modes[] = {
        {"groups", rpmsgd::Authorization::Groups},
        {"polkit", rpmsgd::Authorization::Polkit},
        {"auto", rpmsgd::Authorization::Auto}};
    for (const auto& [word, mode] : modes) {
        const LoadResult r = parseConfig(
            {Source{"rpmsgd.json", std::string(R"({"authorization": ")") + word + "\"}"}});
        ASSERT_TRUE(r.ok) << word;
        std::vector<std::string> warnings;
        EXPECT_EQ(rpmsgd::policyFrom(r.config, warnings).authorization, mode) << word;
    }
}

TEST(ConfigV11, AnUnknownAuthorizationIsRefusedNamingTheChoices) {
    EXPECT_EQ(errorsOf(R"({"authorization": "pam"})"),
              std::vector<std::string>{oneError(
                  "/authorization", "expected \"groups\", \"polkit\" or \"auto\", got \"pam\"")});
}

TEST(ConfigV11, PolkitIsAskedOnlyAboutManageOpenAndReload) {
    using Kind = rpmsgd::Action::Kind;
    EXPECT_STREQ(rpmsgd::polkitAction(Kind::Manage), "org.rpmsgd.manage");
    EXPECT_STREQ(rpmsgd::polkitAction(Kind::OpenChannel), "org.rpmsgd.open-channel");
    EXPECT_STREQ(rpmsgd::polkitAction(Kind::OpenEndpoint), "org.rpmsgd.open-channel");
    EXPECT_STREQ(rpmsgd::polkitAction(Kind::Reload), "org.rpmsgd.reload");
    EXPECT_EQ(rpmsgd::polkitAction(Kind::Wait), nullptr);
    EXPECT_EQ(rpmsgd::polkitAction(Kind::CloseEndpoint), nullptr);
}
