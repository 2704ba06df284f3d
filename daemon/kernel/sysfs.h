// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// File helpers shared by the kernel layer: whole-file reads, single-write() attribute stores,
// directory listings and symlink resolution, all reporting errno instead of throwing, so that
// each caller decides what is an error (a processor vanishing mid-scan is not).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace rpmsgd::kernel::detail {

/// @brief Result of a read: errno (0 on success) and the bytes read.
struct ReadResult {
    int err = 0;
    std::string data;
    bool truncated = false; ///< more than the limit was available
};

/// @brief Opens @p path read-only and reads to EOF, at most @p max bytes (one extra byte is
/// read to detect truncation).
ReadResult readFile(const std::string& path, size_t max = 64 * 1024);

/// @brief Opens @p path write-only and stores @p data with exactly one write(), as sysfs
/// expects. Returns 0, the errno of open()/write(), or EIO for a short write.
int writeFile(const std::string& path, std::string_view data);

/// @brief The value of an attribute without its trailing newline.
std::string chomp(std::string value);

/// @brief Entry names of a directory (no "." / ".."), or the errno of opendir().
struct DirResult {
    int err = 0;
    std::vector<std::string> names;
    std::vector<ino_t> inodes; ///< d_ino of each name (sysfs and FUSE give the real inode)
};
DirResult listDir(const std::string& path);

/// @brief realpath(3); nullopt when any component does not resolve.
std::optional<std::string> resolve(const std::string& path);

/// @brief The final component of a symlink's target (readlink, no resolution); nullopt when it
/// is not a readable symlink.
std::optional<std::string> linkBasename(const std::string& path);

/// @brief The last component of @p path ("" for "/").
std::string basename(std::string_view path);

/// @brief @p path without its last component.
std::string dirname(std::string_view path);

/// @brief True for a single path component that is safe to append to a directory: non-empty,
/// no '/', not "." or "..", no NUL.
bool isPlainName(std::string_view name);

/// @brief True when @p name is @p prefix followed by one or more decimal digits.
bool hasIndexSuffix(std::string_view name, std::string_view prefix);

/// @brief Sorts names like remoteproc2 < remoteproc10 (numeric suffix, then text).
void naturalSort(std::vector<std::string>& names);

/// @brief Parses "0x400", "1024", "-1" (sysfs forms) into a 32-bit address; -1 becomes
/// RPMSG_ADDR_ANY. nullopt when it is not a number in range.
std::optional<uint32_t> parseAddress(std::string_view text);

/// @brief True for the errnos that mean "the object is gone" (ENOENT, ENODEV, ENXIO).
bool isGone(int err);

} // namespace rpmsgd::kernel::detail
