// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "daemon/kernel/sysfs.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

namespace rpmsgd::kernel::detail {

namespace {

int openRetry(const std::string& path, int flags) {
    int fd = -1;
    do {
        fd = ::open(path.c_str(), flags | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

// A name like "remoteproc12" split into its stem and numeric suffix (-1 when there is none).
std::pair<std::string_view, long long> splitIndex(const std::string& name) {
    size_t i = name.size();
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') {
        --i;
    }
    if (i == name.size() || name.size() - i > 18) {
        return {std::string_view(name), -1};
    }
    return {std::string_view(name).substr(0, i), std::strtoll(name.c_str() + i, nullptr, 10)};
}

} // namespace

ReadResult readFile(const std::string& path, size_t max) {
    ReadResult r;
    const int fd = openRetry(path, O_RDONLY);
    if (fd < 0) {
        r.err = errno;
        return r;
    }
    char buf[4096];
    for (;;) {
        const size_t want = std::min(sizeof buf, max + 1 - r.data.size());
        const ssize_t n = ::read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            r.err = errno;
            break;
        }
        if (n == 0) {
            break;
        }
        r.data.append(buf, static_cast<size_t>(n));
        if (r.data.size() > max) {
            r.data.resize(max);
            r.truncated = true;
            break;
        }
    }
    ::close(fd);
    return r;
}

int writeFile(const std::string& path, std::string_view data) {
    const int fd = openRetry(path, O_WRONLY);
    if (fd < 0) {
        return errno;
    }
    // One write() of the whole word: sysfs parses each write on its own, so a retry after a
    // partial or interrupted write would send a different (and wrong) word.
    const ssize_t n = ::write(fd, data.data(), data.size());
    int err = 0;
    if (n < 0) {
        err = errno;
    } else if (static_cast<size_t>(n) != data.size()) {
        err = EIO;
    }
    ::close(fd);
    return err;
}

std::string chomp(std::string value) {
    if (!value.empty() && value.back() == '\n') {
        value.pop_back();
    }
    return value;
}

DirResult listDir(const std::string& path) {
    DirResult r;
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
        r.err = errno;
        return r;
    }
    while (const dirent* e = ::readdir(dir)) {
        const std::string_view name = e->d_name;
        if (name != "." && name != "..") {
            r.names.emplace_back(name);
            r.inodes.push_back(e->d_ino);
        }
    }
    ::closedir(dir);
    return r;
}

std::optional<std::string> resolve(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) == nullptr) {
        return std::nullopt;
    }
    return std::string(buf);
}

std::optional<std::string> linkBasename(const std::string& path) {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) {
        return std::nullopt;
    }
    std::string target(buf, static_cast<size_t>(n));
    while (target.size() > 1 && target.back() == '/') {
        target.pop_back();
    }
    return basename(target);
}

std::string basename(std::string_view path) {
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string dirname(std::string_view path) {
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos) {
        return ".";
    }
    return slash == 0 ? std::string("/") : std::string(path.substr(0, slash));
}

bool isPlainName(std::string_view name) {
    return !name.empty() && name != "." && name != ".." &&
           name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

bool hasIndexSuffix(std::string_view name, std::string_view prefix) {
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) {
        return false;
    }
    return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

void naturalSort(std::vector<std::string>& names) {
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
        const auto [sa, ia] = splitIndex(a);
        const auto [sb, ib] = splitIndex(b);
        if (sa != sb) {
            return sa < sb;
        }
        return ia != ib ? ia < ib : a < b;
    });
}

std::optional<uint32_t> parseAddress(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        return std::nullopt;
    }
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        uint64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), v, 16);
        if (ec != std::errc() || end != text.data() + text.size() || v > UINT32_MAX) {
            return std::nullopt;
        }
        return static_cast<uint32_t>(v);
    }
    // Class attributes print the address with %d: ANY is -1, and an address above INT_MAX
    // would print negative, so any 32-bit signed value maps back to its unsigned bits.
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
    if (ec != std::errc() || end != text.data() + text.size() || v < INT32_MIN || v > UINT32_MAX) {
        return std::nullopt;
    }
    return static_cast<uint32_t>(static_cast<int64_t>(v) & 0xFFFFFFFF);
}

bool isGone(int err) {
    return err == ENOENT || err == ENODEV || err == ENXIO;
}

} // namespace rpmsgd::kernel::detail
