// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Checks of an eptdev fd that tests/sim and rpmsg-conformance share (docs/kernel-abi.md §6.4): what
// a dead one answers, and a read() or write() that a test expects to block. Header-only, for
// GoogleTest.

#include <cerrno>
#include <functional>
#include <poll.h>
#include <string>
#include <sys/types.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace simtest {

/// @brief An eptdev whose endpoint is gone (DESTROY_EPT, its channel or transport removed):
/// read and write fail with EPIPE and poll reports POLLERR alone. @p what names it in failures.
inline void expectDeadEptdev(int fd, const std::string& what = "") {
    char buf[8];
    errno = 0;
    EXPECT_EQ(::read(fd, buf, sizeof buf), -1) << what;
    EXPECT_EQ(errno, EPIPE) << what;
    errno = 0;
    EXPECT_EQ(::write(fd, "x", 1), -1) << what;
    EXPECT_EQ(errno, EPIPE) << what;
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 1) << what;
    EXPECT_EQ(p.revents, POLLERR) << what;
}

/// @brief The outcome of a read() or write() run in a background thread.
struct CallOutcome {
    ssize_t rc = 0;
    int err = 0;
    std::string data;
};

/// @brief A read() of up to 64 bytes from @p fd into @p out, for a background thread.
inline std::function<void()> blockingRead(int fd, CallOutcome& out) {
    return [fd, &out] {
        char buf[64];
        out.rc = ::read(fd, buf, sizeof buf);
        out.err = errno;
        if (out.rc > 0) {
            out.data.assign(buf, static_cast<size_t>(out.rc));
        }
    };
}

/// @brief A write() of @p data to @p fd into @p out, for a background thread.
inline std::function<void()> blockingWrite(int fd, std::string data, CallOutcome& out) {
    return [fd, data = std::move(data), &out] {
        out.rc = ::write(fd, data.data(), data.size());
        out.err = errno;
    };
}

} // namespace simtest
