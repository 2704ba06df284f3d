// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "fd_store.h"

#include "log.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

namespace rpmsgd {

namespace {
constexpr const char* EndpointPrefix = "endpoint-";
} // namespace

FdStore::FdStore() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket != nullptr && *socket != '\0';
}

void FdStore::add(const std::string& name, int fd) const {
    if (!enabled_) {
        return;
    }
    const std::string message = "FDSTORE=1\nFDNAME=" + name;
    const int r = sd_pid_notify_with_fds(0, 0, message.c_str(), &fd, 1);
    if (r <= 0) {
        log::warning("Failed to keep " + name + " in the service manager's fd store (" +
                     (r < 0 ? std::string(strerror(-r)) : std::string("no service manager")) +
                     "): if rpmsgd is killed, its endpoint survives until its client closes it");
    }
}

void FdStore::remove(const std::string& name) const {
    if (!enabled_) {
        return;
    }
    const std::string message = "FDSTOREREMOVE=1\nFDNAME=" + name;
    const int r = sd_notify(0, message.c_str());
    if (r < 0) {
        log::warning("Failed to drop " + name +
                     " from the service manager's fd store: " + strerror(-r));
    }
}

std::vector<std::pair<std::string, int>> FdStore::inherited() {
    std::vector<std::pair<std::string, int>> out;
    char** names = nullptr;
    const int n = sd_listen_fds_with_names(1, &names);
    if (n < 0) {
        log::warning(std::string("Ignoring the fds passed by the service manager: ") +
                     strerror(-n));
        return out;
    }
    for (int i = 0; i < n; ++i) {
        const int fd = SD_LISTEN_FDS_START + i;
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        out.emplace_back(names && names[i] ? names[i] : "unknown", fd);
    }
    if (names) {
        for (int i = 0; i < n; ++i) {
            std::free(names[i]);
        }
        std::free(names);
    }
    return out;
}

std::string FdStore::endpointName(uint64_t number) {
    return EndpointPrefix + std::to_string(number);
}

uint64_t FdStore::endpointNumber(const std::string& name) {
    const std::string prefix = EndpointPrefix;
    if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size() ||
        name.size() - prefix.size() > 19) {
        return 0;
    }
    uint64_t n = 0;
    for (size_t i = prefix.size(); i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9') {
            return 0;
        }
        n = n * 10 + uint64_t(name[i] - '0');
    }
    return n;
}

} // namespace rpmsgd
