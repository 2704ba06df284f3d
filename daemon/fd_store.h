// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The service manager's file descriptor store (sd_notify FDSTORE=1, sd_listen_fds). rpmsgd
// keeps a copy of every kernel endpoint fd there, so that when it is killed the next instance
// gets those copies back and can destroy the endpoints it left behind — even those a client
// still holds open, which could not be opened again to destroy them (an eptdev has one opener).

#include <string>
#include <utility>
#include <vector>

namespace rpmsgd {

class FdStore {
public:
    /// @brief Uses the store when a service manager listens ($NOTIFY_SOCKET); otherwise every
    /// call is a no-op. systemd needs FileDescriptorStoreMax= in the unit to keep them.
    FdStore();

    bool enabled() const { return enabled_; }

    /// @brief Keeps a copy of @p fd under @p name (a warning is logged when that fails).
    void add(const std::string& name, int fd) const;
    /// @brief Drops every fd stored under @p name.
    void remove(const std::string& name) const;

    /// @brief The fds the service manager passed at start (LISTEN_FDS/LISTEN_FDNAMES), with
    /// their names; the variables are unset so that children do not see them. The caller owns
    /// the fds.
    static std::vector<std::pair<std::string, int>> inherited();

    /// @brief The store name of endpoint @p number; endpointNumber() is the reverse (0 when
    /// @p name is not an endpoint's).
    static std::string endpointName(uint64_t number);
    static uint64_t endpointNumber(const std::string& name);

private:
    bool enabled_ = false;
};

} // namespace rpmsgd
