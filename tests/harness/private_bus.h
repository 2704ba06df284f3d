// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// A private dbus-daemon for a test: system-like with our real bus policy (docs/toolchain.md §4),
// or a session bus where everything is allowed (a fake daemon's tests). No GoogleTest here.

#include "sim_harness.h"

#include <string>
#include <sys/types.h>
#include <vector>

namespace harness {

/// @brief The system bus defaults of Debian's system.conf (system-bus-defaults.xml), which the
/// policy under test is included after.
std::string systemBusDefaults();

class PrivateBus : simtest::NonCopyable {
public:
    PrivateBus() = default;
    ~PrivateBus() { stop(); }

    /// @brief Starts dbus-daemon with its socket, config and log in @p dir (made mode 0755, the
    /// socket 0777, so that nobody can connect). With @p policy, a system-type bus whose
    /// config includes that policy file after the system defaults; without, a session bus.
    /// Returns "" or why not (with the bus's log).
    /// @p more: further policy files included after it (e.g. polkit's, so polkitd may own its
    /// name on this bus).
    std::string start(const std::string& dir, const std::string& policy = {},
                      const std::vector<std::string>& more = {});
    /// @brief SIGTERM (SIGKILL after 5 s) and reap.
    void stop();

    const std::string& address() const { return address_; }
    pid_t pid() const { return process_.pid(); }
    /// @brief What dbus-daemon wrote, for failure messages.
    std::string log() const;

private:
    simtest::ChildProcess process_;
    int stdout_ = -1;
    std::string address_;
    std::string logPath_;
};

} // namespace harness
