// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The callers the registry and policy tests use, with the groups their policy names.

#include "daemon/policy.h"

#include <cstdint>

namespace unit {

inline constexpr uint32_t RpmsgGroup = 500;
inline constexpr uint32_t AdminGroup = 600;

inline const rpmsgd::Caller root{":1.1", 0, {0}};
inline const rpmsgd::Caller admin{":1.2", 1000, {1000}};                    // manager by uid
inline const rpmsgd::Caller adminByGroup{":1.3", 1001, {1001, AdminGroup}}; // manager by group
inline const rpmsgd::Caller user{":1.4", 2000, {2000, RpmsgGroup}}; // opens through its group
inline const rpmsgd::Caller user2{":1.5", 2001, {2001, RpmsgGroup}};
inline const rpmsgd::Caller stranger{":1.6", 3000, {3000}}; // neither

/// @brief Managers admin (by uid) and group AdminGroup; group RpmsgGroup may open every channel.
inline rpmsgd::Policy testPolicy() {
    rpmsgd::Policy policy;
    policy.managers.uids = {admin.uid};
    policy.managers.gids = {AdminGroup};
    rpmsgd::Policy::ChannelRule everyone;
    everyone.who.gids = {RpmsgGroup};
    policy.channelRules = {everyone};
    return policy;
}

} // namespace unit
