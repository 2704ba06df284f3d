// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "service_manager.h"

#include "fd_io.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace itest {

ServiceManager::ServiceManager(std::string socketPath) : path_(std::move(socketPath)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path)) {
        error_ = "socket path too long: " + path_;
        return;
    }
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    socket_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ::unlink(path_.c_str());
    if (socket_ < 0 || ::bind(socket_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        error_ = "cannot bind the notification socket " + path_ + ": " + std::strerror(errno);
        return;
    }
    // systemd's socket is 8 MiB; a large buffer keeps a burst of FDSTOREs from blocking.
    const int size = 8 << 20;
    ::setsockopt(socket_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
    stop_ = ::eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { run(); });
}

ServiceManager::~ServiceManager() {
    if (thread_.joinable()) {
        uint64_t one = 1;
        (void)!::write(stop_, &one, sizeof(one));
        thread_.join();
    }
    for (auto& [name, fd] : store_) {
        ::close(fd);
    }
    if (socket_ >= 0) {
        ::close(socket_);
        ::unlink(path_.c_str());
    }
    if (stop_ >= 0) {
        ::close(stop_);
    }
}

void ServiceManager::run() {
    while (true) {
        pollfd fds[2] = {{socket_, POLLIN, 0}, {stop_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[1].revents) {
            return;
        }
        while (true) {
            harness::FdMessage m = harness::receiveFds(socket_, 64 * 1024, 253, MSG_DONTWAIT);
            if (m.err != 0) {
                break;
            }
            handle(m.data, std::move(m.fds));
        }
    }
}

void ServiceManager::handle(const std::string& text, std::vector<int> fds) {
    bool fdstore = false, remove = false;
    std::string name = "stored";
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string line = text.substr(pos, end - pos);
        if (line == "FDSTORE=1") {
            fdstore = true;
        } else if (line == "FDSTOREREMOVE=1") {
            remove = true;
        } else if (line.rfind("FDNAME=", 0) == 0) {
            name = line.substr(7);
        }
        pos = end + 1;
    }
    std::lock_guard lock(mutex_);
    messages_.push_back(text);
    if (remove) {
        for (auto it = store_.begin(); it != store_.end();) {
            if (it->first == name) {
                ::close(it->second);
                it = store_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (int fd : fds) {
        if (fdstore) {
            store_.emplace_back(name, fd);
        } else {
            ::close(fd); // fds without FDSTORE=1 are closed, as systemd does
        }
    }
}

std::vector<std::pair<std::string, int>> ServiceManager::storeCopies() {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, int>> out;
    for (const auto& [name, fd] : store_) {
        out.emplace_back(name, ::fcntl(fd, F_DUPFD_CLOEXEC, 3));
    }
    return out;
}

size_t ServiceManager::stored() {
    std::lock_guard lock(mutex_);
    return store_.size();
}

std::vector<std::string> ServiceManager::messages() {
    std::lock_guard lock(mutex_);
    return messages_;
}

} // namespace itest
