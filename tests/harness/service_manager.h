// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// What systemd does for rpmsgd, as far as the tests need it: a notification socket
// ($NOTIFY_SOCKET) whose messages (READY=1, STATUS=..., FDSTORE=1 with fds, FDSTOREREMOVE=1)
// are received on a thread, and the fd store that is handed back to the next instance
// (LISTEN_FDS/LISTEN_FDNAMES) — the protocol of sd_notify(3) and sd_listen_fds(3).

#include "sim_harness.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace itest {

class ServiceManager : simtest::NonCopyable {
public:
    /// @brief Binds a datagram socket at @p socketPath and starts receiving.
    explicit ServiceManager(std::string socketPath);
    ~ServiceManager();

    /// @brief "" when the socket works, else why not.
    const std::string& error() const { return error_; }
    const std::string& socketPath() const { return path_; }

    /// @brief Copies of the stored fds (the caller closes them) and their names, in store
    /// order: what the next instance gets.
    std::vector<std::pair<std::string, int>> storeCopies();
    /// @brief How many fds are stored.
    size_t stored();
    /// @brief Every notification received so far, one entry per datagram.
    std::vector<std::string> messages();

private:
    void run();
    void handle(const std::string& text, std::vector<int> fds);

    std::string path_;
    std::string error_;
    int socket_ = -1;
    int stop_ = -1; // eventfd
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::pair<std::string, int>> store_;
    std::vector<std::string> messages_;
};

} // namespace itest
