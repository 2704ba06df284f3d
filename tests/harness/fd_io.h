// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Reading lines from a pipe or socket with a deadline, and passing fds over a unix socket
// (SCM_RIGHTS): the one copy every suite uses. No GoogleTest here.

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace harness {

/// @brief Buffered line reader on an fd it does not own (a pipe, a socket).
class LineReader {
public:
    explicit LineReader(int fd = -1) : fd_(fd) {}

    void setFd(int fd) { fd_ = fd; }
    int fd() const { return fd_; }

    /// @brief The next line, without its newline; nullopt on timeout, or on EOF when nothing is
    /// left. With @p tailAtEof an unterminated last line is returned at EOF.
    std::optional<std::string> readLine(std::chrono::milliseconds timeout, bool tailAtEof = false);

    /// @brief What was read but is not a whole line yet.
    const std::string& pending() const { return buf_; }

private:
    int fd_ = -1;
    std::string buf_;
};

/// @brief Everything @p fd gives until EOF (or an error).
std::string readToEnd(int fd);

/// @brief A message received with receiveFds().
struct FdMessage {
    int err = 0; ///< errno of recvmsg (EAGAIN with MSG_DONTWAIT and nothing there)
    std::string data;
    std::vector<int> fds; ///< close-on-exec; the caller owns them
};

/// @brief One recvmsg() of up to @p maxBytes with room for @p maxFds SCM_RIGHTS fds, with
/// @p flags (MSG_DONTWAIT...) and MSG_CMSG_CLOEXEC.
FdMessage receiveFds(int socket, size_t maxBytes, size_t maxFds, int flags = 0);

/// @brief One sendmsg() of @p data with @p fds as SCM_RIGHTS; 0 or errno.
int sendFds(int socket, const std::string& data, const std::vector<int>& fds);

/// @brief Closes every fd in @p fds.
void closeAll(const std::vector<int>& fds);

} // namespace harness
