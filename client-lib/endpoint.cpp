// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "rpmsgd/endpoint.h"

#include "bus.h"
#include "endpoint_impl.h"
#include "org.rpmsgd.Broker1.Endpoint.proxy.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <poll.h>
#include <unistd.h>
#include <vector>

namespace rpmsgd::client {

namespace {

using Clock = std::chrono::steady_clock;

class EndpointProxy : public sdbus::ProxyInterfaces<org::rpmsgd::Broker1::Endpoint_proxy> {
public:
    EndpointProxy(sdbus::IConnection& conn, const std::string& path)
        : ProxyInterfaces(conn, detail::BusName, path) {
        registerProxy();
    }
    ~EndpointProxy() { unregisterProxy(); }
};

Error closedError() {
    return Error(ErrorCode::InvalidState, "the endpoint is closed");
}

} // namespace

Endpoint::Endpoint() noexcept = default;
Endpoint::Endpoint(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Endpoint::Endpoint(Endpoint&& other) noexcept = default;

Endpoint& Endpoint::operator=(Endpoint&& other) noexcept {
    if (this != &other) {
        try {
            close();
        } catch (...) { // the destination's lease ends best-effort, as in the destructor
        }
        impl_ = std::move(other.impl_);
    }
    return *this;
}

Endpoint::~Endpoint() {
    try {
        close();
    } catch (...) { // a destructor must not throw; rpmsgd ends the lease when we leave anyway
    }
}

Endpoint Endpoint::adopt(int fd, std::uint32_t mtu) {
    if (fd < 0) {
        throw Error(ErrorCode::InvalidArgument,
                    "Endpoint::adopt: fd " + std::to_string(fd) + " is not a file descriptor");
    }
    auto impl = std::make_unique<Impl>();
    impl->fd = fd;
    impl->mtu = mtu;
    return Endpoint(std::move(impl));
}

void Endpoint::send(const void* data, std::size_t size) {
    if (!isOpen()) {
        throw closedError();
    }
    if (impl_->mtu != 0 && size > impl_->mtu) {
        throw Error(ErrorCode::InvalidArgument, "message of " + std::to_string(size) +
                                                    " bytes is larger than the channel's mtu of " +
                                                    std::to_string(impl_->mtu) + " bytes");
    }
    while (true) {
        const ssize_t n = ::write(impl_->fd, data, size);
        if (n >= 0) {
            if (static_cast<std::size_t>(n) != size) {
                throw Error(ErrorCode::IoError, "short write: " + std::to_string(n) + " of " +
                                                    std::to_string(size) + " bytes sent");
            }
            return;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN) { // an fd set O_NONBLOCK by the caller: wait for room
            pollfd p{impl_->fd, POLLOUT, 0};
            ::poll(&p, 1, -1);
            continue;
        }
        throw detail::systemError("sending to the endpoint", errno);
    }
}

std::size_t Endpoint::receive(void* buffer, std::size_t size, std::chrono::milliseconds timeout) {
    if (!isOpen()) {
        throw closedError();
    }
    const bool forever = timeout.count() < 0;
    const auto deadline = Clock::now() + (forever ? std::chrono::milliseconds(0) : timeout);
    while (true) {
        int waitMs = -1;
        if (!forever) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            waitMs = static_cast<int>(std::max<std::int64_t>(0, left.count()));
        }
        pollfd p{impl_->fd, POLLIN, 0};
        const int r = ::poll(&p, 1, waitMs);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw detail::systemError("waiting for a message", errno);
        }
        if (r == 0) {
            throw Error(ErrorCode::Timeout,
                        "no message arrived within " + std::to_string(timeout.count()) + " ms");
        }
        const ssize_t n = ::read(impl_->fd, buffer, size);
        if (n > 0) {
            return static_cast<std::size_t>(n);
        }
        if (n == 0) {
            if ((p.revents & POLLHUP) != 0) {
                throw Error(ErrorCode::Unavailable,
                            "the endpoint has ended (the other side closed it)");
            }
            return 0;
        }
        if (errno == EINTR || errno == EAGAIN) {
            continue;
        }
        throw detail::systemError("receiving from the endpoint", errno);
    }
}

std::string Endpoint::receive(std::chrono::milliseconds timeout) {
    // One read is one message; a buffer of at least the mtu never truncates one.
    std::vector<char> buf(std::max<std::size_t>(impl_ ? impl_->mtu : 0, 4096));
    const std::size_t n = receive(buf.data(), buf.size(), timeout);
    return std::string(buf.data(), n);
}

int Endpoint::fd() const noexcept {
    return impl_ ? impl_->fd : -1;
}

std::uint32_t Endpoint::mtu() const noexcept {
    return impl_ ? impl_->mtu : 0;
}

const std::string& Endpoint::path() const noexcept {
    static const std::string none;
    return impl_ ? impl_->path : none;
}

bool Endpoint::isOpen() const noexcept {
    return impl_ && impl_->fd >= 0;
}

void Endpoint::close() {
    if (!isOpen()) {
        return;
    }
    const int fd = impl_->fd;
    impl_->fd = -1;
    std::shared_ptr<detail::Bus> bus = std::move(impl_->bus);
    const std::string path = impl_->path;
    ::close(fd);
    if (!bus || path.empty()) {
        return;
    }
    try {
        EndpointProxy proxy(*bus->conn, path);
        proxy.Close();
    } catch (const sdbus::Error& e) {
        // Already ended by rpmsgd (channel gone, processor stopped) or rpmsgd is gone: the
        // lease no longer exists, which is what close() wants.
        const ErrorCode code = errorCodeFromDBusName(e.getName());
        if (code != ErrorCode::NotFound && code != ErrorCode::ServiceUnknown &&
            code != ErrorCode::Disconnected) {
            throw detail::translate(e);
        }
    }
}

} // namespace rpmsgd::client
