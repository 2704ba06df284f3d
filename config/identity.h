// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Resolving the user and group names of a Config to ids (NSS lookups), kept apart from the pure
// parser: names that do not exist on this machine are warnings, not errors, because the
// default groups (`rpmsg`, `rpmsg-admin`) may not exist on a development machine.

#include "config/config.h"

#include <span>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rpmsgd::config {

/// @brief The ids one rule (or the managers) names, in config order, without duplicates.
struct ResolvedIds {
    std::vector<uid_t> uids;
    std::vector<gid_t> gids;
    /// @brief True when @p uid is listed or one of @p groups (primary and supplementary) is.
    bool admits(uid_t uid, std::span<const gid_t> groups) const;
    bool operator==(const ResolvedIds&) const = default;
};

/// @brief Config::managers and every Config::channels rule, resolved.
struct ResolvedIdentities {
    ResolvedIds managers;
    std::vector<ResolvedIds> channels; ///< same index as Config::channels
};

/// @brief Looks every name up with getpwnam_r/getgrnam_r; unknown names (and failed lookups)
/// are left out with a warning such as `channels/0: unknown group "rpmsg", ignoring`.
ResolvedIdentities resolveIdentities(const Config& config, std::vector<std::string>& warnings);

} // namespace rpmsgd::config
