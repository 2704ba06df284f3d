// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Running as another user (nobody) without relying on the checkout's permissions: switching
// credentials in a forked child, and world-readable copies of what that user runs or reads
// (programs with the shared libraries of the build they load, scripts, configs) in this
// process's own staging directory under /tmp (mode 0755), since the checkout and the build
// directory may be in a directory only root may enter. No GoogleTest here.

#include <string>
#include <sys/types.h>
#include <vector>

namespace harness {

/// @brief Credentials a child switches to.
struct Cred {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups;
    std::string describe() const;
};

/// @brief nobody with nogroup and no supplementary groups.
inline const Cred Nobody{65534, 65534, {}};

/// @brief setgroups, setgid, setuid to @p cred (in a forked child); false with errno set when
/// one failed.
bool switchTo(const Cred& cred);

/// @brief True when a user other than root can read @p path: every directory above it lets
/// others search, and the file lets others read.
bool othersCanRead(const std::string& path);

/// @brief A copy of the file @p path that every user may read (and run, when @p path is
/// executable) in the staging directory, made once per path. For a program, the shared
/// libraries it loads from places others cannot read are copied to stagedLibraryDir(). Throws
/// std::runtime_error when the copy fails.
std::string worldReadableCopy(const std::string& path);

/// @brief Where worldReadableCopy() puts shared libraries; "" while there are none. A child
/// that runs a copied program as another user gets it as LD_LIBRARY_PATH.
std::string stagedLibraryDir();

/// @brief @p argv for a program run as another user: every element that is an absolute path of
/// a file of the project (source or build tree) or of one others cannot read is replaced by its
/// world-readable copy.
std::vector<std::string> forOtherUser(const std::vector<std::string>& argv);

/// @brief Sanitizer options (LSAN_OPTIONS) for a program run as another user: a suppressions
/// file of the project is replaced by its world-readable copy.
std::string sanitizerOptionsForOtherUser(const std::string& options);

} // namespace harness
