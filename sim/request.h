// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// A filesystem request that may be answered later (a blocked read, a write waiting for a TX
// buffer, a `recover` waiting for an inline coredump). The FUSE layer implements it; the model
// only sees this interface.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace rpmsgsim {

/// @brief One pending request. Exactly one reply is sent; destroying an unanswered request
/// answers EIO so that no caller is ever left hanging.
class Request {
public:
    virtual ~Request() = default;
    virtual void replyError(int error) = 0; ///< error is a positive errno
    virtual void replyData(const void* data, size_t size) = 0;
    virtual void replyWritten(size_t count) = 0;
    virtual void replyIoctl(int result, const void* out, size_t size) = 0;
    virtual void replyPoll(unsigned revents) = 0;
    /// @brief Calls @p fn (from the event loop, never re-entrantly) if the caller is interrupted
    /// by a signal while the request is pending. At most one callback.
    virtual void onInterrupt(std::function<void()> fn) = 0;
    /// @brief The caller's uid, for permission decisions.
    virtual uint32_t uid() const = 0;
};

using RequestPtr = std::unique_ptr<Request>;

/// @brief A poll registration; notify() makes the kernel poll the file again.
class PollWaiter {
public:
    virtual ~PollWaiter() = default;
    virtual void notify() = 0;
};

using PollWaiterPtr = std::unique_ptr<PollWaiter>;

} // namespace rpmsgsim
