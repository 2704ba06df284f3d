// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The GoogleTest fixture of the daemon integration suite: one DaemonEnv per test (sim + private
// bus + rpmsgd), a root client, helpers, and the logs printed when a test fails. Derived
// fixtures change the rpmsgd config through configure().

#include "bus_client.h"
#include "daemon_env.h"

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace itest {

/// @brief EXPECT that @p error is the D-Bus error @p name, printing its message otherwise.
#define EXPECT_DBUS_ERROR(error, expectedName)                                                     \
    EXPECT_EQ((error).name, (expectedName)) << (error).str()

class DaemonTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    /// @brief Override to change how the environment is built (the rpmsgd config above all).
    virtual void configure(EnvOptions&) {}

    DaemonEnv& env() { return *env_; }
    Client& root() { return *root_; }

    /// @brief `ctl` that must succeed (a test failure otherwise).
    void ctlOk(const std::vector<std::string>& args);
    /// @brief The sim's dump entry of processor @p id.
    nlohmann::json simProcessor(const std::string& id = "remoteproc0");
    /// @brief True when MOUNT/rel exists.
    bool existsInMount(const std::string& rel) const;
    /// @brief Processor path of remoteproc0 (cm4).
    std::string cm4() { return root().processorPath("remoteproc0"); }
    /// @brief Starts cm4 as root and returns the path of its rpmsg-echo channel.
    std::string startCm4();
    /// @brief True when the object @p path still answers Properties.Get on @p iface.
    bool objectExists(const std::string& path, const std::string& iface);

    std::unique_ptr<DaemonEnv> env_;
    std::unique_ptr<Client> root_;
};

} // namespace itest
