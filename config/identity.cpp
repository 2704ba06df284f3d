// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "identity.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <grp.h>
#include <optional>
#include <pwd.h>
#include <string_view>
#include <unistd.h>

namespace rpmsgd::config {

namespace {

constexpr size_t MaxBuffer = 1024 * 1024;

template <typename... Parts>
std::string cat(const Parts&... parts) {
    std::string s;
    (s.append(std::string_view(parts)), ...);
    return s;
}

// getpwnam_r/getgrnam_r report "no such entry" as 0 with a null result, or as one of these.
bool isNotFound(int error) {
    return error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM;
}

// Calls @p lookup(buffer, size, &error) with a growing buffer; the id, or nullopt with a warning.
template <typename Id, typename Lookup>
std::optional<Id> lookUp(Lookup lookup, const std::string& where, std::string_view kind,
                         const std::string& name, std::vector<std::string>& warnings) {
    std::vector<char> buffer(4096);
    for (;;) {
        Id id{};
        bool found = false;
        const int error = lookup(buffer.data(), buffer.size(), id, found);
        if (error == ERANGE && buffer.size() < MaxBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (found) {
            return id;
        }
        if (isNotFound(error)) {
            warnings.push_back(cat(where, ": unknown ", kind, " \"", name, "\", ignoring"));
        } else {
            warnings.push_back(cat(where, ": cannot look up ", kind, " \"", name,
                                   "\": ", std::strerror(error), ", ignoring"));
        }
        return std::nullopt;
    }
}

std::optional<uid_t> userId(const std::string& where, const std::string& name,
                            std::vector<std::string>& warnings) {
    auto lookup = [&](char* buf, size_t size, uid_t& id, bool& found) {
        struct passwd pw {};
        struct passwd* result = nullptr;
        const int error = getpwnam_r(name.c_str(), &pw, buf, size, &result);
        if (error == 0 && result) {
            id = result->pw_uid;
            found = true;
        }
        return error;
    };
    return lookUp<uid_t>(lookup, where, "user", name, warnings);
}

std::optional<gid_t> groupId(const std::string& where, const std::string& name,
                             std::vector<std::string>& warnings) {
    auto lookup = [&](char* buf, size_t size, gid_t& id, bool& found) {
        struct group gr {};
        struct group* result = nullptr;
        const int error = getgrnam_r(name.c_str(), &gr, buf, size, &result);
        if (error == 0 && result) {
            id = result->gr_gid;
            found = true;
        }
        return error;
    };
    return lookUp<gid_t>(lookup, where, "group", name, warnings);
}

template <typename Id>
void addUnique(std::vector<Id>& ids, Id id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
        ids.push_back(id);
    }
}

ResolvedIds resolve(const std::string& where, const std::vector<std::string>& users,
                    const std::vector<std::string>& groups, std::vector<std::string>& warnings) {
    ResolvedIds ids;
    for (const std::string& user : users) {
        if (auto uid = userId(where, user, warnings)) {
            addUnique(ids.uids, *uid);
        }
    }
    for (const std::string& group : groups) {
        if (auto gid = groupId(where, group, warnings)) {
            addUnique(ids.gids, *gid);
        }
    }
    return ids;
}

} // namespace

bool ResolvedIds::admits(uid_t uid, std::span<const gid_t> groups) const {
    if (std::find(uids.begin(), uids.end(), uid) != uids.end()) {
        return true;
    }
    return std::any_of(groups.begin(), groups.end(), [&](gid_t g) {
        return std::find(gids.begin(), gids.end(), g) != gids.end();
    });
}

ResolvedIdentities resolveIdentities(const Config& config, std::vector<std::string>& warnings) {
    ResolvedIdentities resolved;
    resolved.managers =
        resolve("managers", config.managers.users, config.managers.groups, warnings);
    for (size_t i = 0; i < config.channels.size(); ++i) {
        const ChannelRule& rule = config.channels[i];
        resolved.channels.push_back(
            resolve(cat("channels/", std::to_string(i)), rule.users, rule.groups, warnings));
    }
    return resolved;
}

} // namespace rpmsgd::config
