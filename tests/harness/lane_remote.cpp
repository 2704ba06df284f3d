// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "lane_remote.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace lane {

bool onRealKernel() {
    const char* t = std::getenv("RPMSG_TARGET");
    return t && std::string(t) == "kernel";
}

StreamRemote::StreamRemote(const std::string& path, std::chrono::milliseconds timeout)
    : path_(path), timeout_(timeout) {
    fd_ = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd_ < 0 && errno == ENXIO) {
        // A UNIX socket (`rpmsg-sim remote --control PATH`) cannot be open()ed: connect.
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    if (fd_ < 0) {
        error_ = "cannot open the remote's control stream " + path + ": " + strerror(errno);
        return;
    }
    termios t{};
    if (::tcgetattr(fd_, &t) == 0) {
        // No echo (it would go back to the remote as a request), no line editing, 8 bit.
        ::cfmakeraw(&t);
        ::tcsetattr(fd_, TCSANOW, &t);
        ::tcflush(fd_, TCIFLUSH);
    }
}

StreamRemote::~StreamRemote() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void StreamRemote::note(std::string line) {
    transcript_.push_back(std::move(line));
    if (transcript_.size() > 200) {
        transcript_.pop_front();
    }
}

bool StreamRemote::readLine(std::string& line, std::chrono::steady_clock::time_point deadline,
                            std::string& error) {
    size_t nl;
    while ((nl = pending_.find('\n')) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd_, POLLIN, 0};
        const int n = left.count() <= 0 ? 0 : ::poll(&p, 1, int(left.count()));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            error = "no reply from the remote on " + path_ + " within " +
                    std::to_string(timeout_.count()) + " ms";
            return false;
        }
        char buf[4096];
        const ssize_t r = ::read(fd_, buf, sizeof buf);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (r <= 0) {
            error = "reading " + path_ + ": " + (r == 0 ? "end of stream" : strerror(errno));
            return false;
        }
        pending_.append(buf, size_t(r));
    }
    line = pending_.substr(0, nl);
    pending_.erase(0, nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
    }
    return true;
}

RemoteReply StreamRemote::command(const std::vector<std::string>& args) {
    RemoteReply r;
    if (fd_ < 0) {
        r.error = error_;
        return r;
    }
    const std::string request = nlohmann::json(args).dump();
    note("> " + request);
    // A late reply to an earlier, timed-out command must not pass for this one's.
    ::tcflush(fd_, TCIFLUSH); // fails harmlessly on a socket
    pending_.clear();
    const std::string line = request + "\n";
    for (size_t off = 0; off < line.size();) {
        const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            r.error = "writing to " + path_ + ": " + strerror(errno);
            return r;
        }
        off += size_t(n);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (true) {
        std::string answer;
        if (!readLine(answer, deadline, r.error)) {
            note("(no reply)");
            return r;
        }
        if (answer.empty() || answer[0] != '{') {
            note("(ignored) " + answer); // console noise, not a reply
            continue;
        }
        note("< " + answer);
        const auto j = nlohmann::json::parse(answer, nullptr, false);
        if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
            r.error = "malformed reply from the remote: " + answer;
            return r;
        }
        r.ok = j["ok"].get<bool>();
        if (r.ok) {
            r.output = j.contains("output") && j["output"].is_string()
                           ? j["output"].get<std::string>()
                           : "";
        } else {
            r.error = j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>()
                                                                    : "(no error text)";
        }
        return r;
    }
}

RemoteReply TwinRemote::command(const std::vector<std::string>& args) {
    RemoteReply r;
    if (args.empty()) {
        r.error = "empty command";
        return r;
    }
    if (args[0] == "ping") {
        r.ok = true;
        return r;
    }
    std::vector<std::string> ctl;
    if (args[0] == "hangup") {
        ctl = {"remove-processor", proc_};
    } else {
        ctl = {args[0], proc_};
        ctl.insert(ctl.end(), args.begin() + 1, args.end());
    }
    std::string out;
    r.ok = ctl_(ctl, out);
    (r.ok ? r.output : r.error) = out;
    return r;
}

} // namespace lane
