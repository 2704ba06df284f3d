// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "fd_io.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace harness {

using Clock = std::chrono::steady_clock;

std::optional<std::string> LineReader::readLine(std::chrono::milliseconds timeout, bool tailAtEof) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        if (auto nl = buf_.find('\n'); nl != std::string::npos) {
            std::string line = buf_.substr(0, nl);
            buf_.erase(0, nl + 1);
            return line;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0 || fd_ < 0) {
            return std::nullopt;
        }
        pollfd p{fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return std::nullopt;
        }
        char buf[4096];
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) {
            if (tailAtEof && !buf_.empty()) {
                std::string rest;
                rest.swap(buf_);
                return rest;
            }
            return std::nullopt;
        }
        buf_.append(buf, static_cast<size_t>(n));
    }
}

std::string readToEnd(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        out.append(buf, static_cast<size_t>(std::max<ssize_t>(n, 0)));
    }
    return out;
}

FdMessage receiveFds(int socket, size_t maxBytes, size_t maxFds, int flags) {
    FdMessage out;
    std::string buf(maxBytes, '\0');
    std::vector<char> control(CMSG_SPACE(sizeof(int) * maxFds));
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(socket, &msg, flags | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        out.err = errno;
        return out;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; ++i) {
                int fd = -1;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                out.fds.push_back(fd);
            }
        }
    }
    buf.resize(static_cast<size_t>(n));
    out.data = std::move(buf);
    return out;
}

int sendFds(int socket, const std::string& data, const std::vector<int>& fds) {
    iovec iov{const_cast<char*>(data.data()), data.size()};
    std::vector<char> control(fds.empty() ? 0 : CMSG_SPACE(sizeof(int) * fds.size()));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    return ::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0 ? errno : 0;
}

void closeAll(const std::vector<int>& fds) {
    for (int fd : fds) {
        ::close(fd);
    }
}

} // namespace harness
