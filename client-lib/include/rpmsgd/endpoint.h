// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// An endpoint of one's own on an rpmsg channel: the file descriptor rpmsgd handed over (one
// read = one message, one write = one message of at most mtu() bytes) and the daemon's lease.

#include "rpmsgd/error.h"
#include "rpmsgd/export.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace rpmsgd::client {

namespace detail {
struct Bus;
} // namespace detail

/// @brief Owns an endpoint fd; closing it (close() or the destructor) ends the lease.
class RPMSGD_CLIENT_API Endpoint {
public:
    /// @brief An empty (closed) endpoint.
    Endpoint() noexcept;
    /// @brief Closes the endpoint (as close(), ignoring errors).
    ~Endpoint();
    Endpoint(Endpoint&& other) noexcept;
    Endpoint& operator=(Endpoint&& other) noexcept;
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;

    /// @brief Wraps an rpmsg endpoint fd obtained elsewhere (takes ownership); no lease to end.
    static Endpoint adopt(int fd, std::uint32_t mtu);

    /// @brief Sends one message. Throws InvalidArgument (larger than mtu()), Unavailable (the
    ///        endpoint ended: EPIPE) or IoError.
    void send(const void* data, std::size_t size);
    /// @brief Sends one message (see the other overload).
    void send(std::string_view message) { send(message.data(), message.size()); }

    /// @brief Waits up to @p timeout (negative: forever) for one message and copies at most
    ///        @p size bytes of it into @p buffer; returns its length. Throws Timeout,
    ///        Unavailable (the endpoint ended) or IoError.
    std::size_t receive(void* buffer, std::size_t size,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));
    /// @brief Waits up to @p timeout (negative: forever) for one message and returns it.
    std::string receive(std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

    /// @brief The fd for the caller's own poll loop (POLLIN = a message is waiting); -1 if
    ///        closed. Stays owned by the Endpoint.
    int fd() const noexcept;
    /// @brief The maximum payload of one message in bytes.
    std::uint32_t mtu() const noexcept;
    /// @brief The Endpoint object's D-Bus path (empty for adopted fds).
    const std::string& path() const noexcept;
    /// @brief True until close().
    bool isOpen() const noexcept;
    /// @brief Ends the lease (Endpoint.Close(), errors ignored when rpmsgd already ended it)
    ///        and closes the fd. Idempotent.
    void close();

private:
    friend class Client;
    struct Impl;
    explicit Endpoint(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

} // namespace rpmsgd::client
