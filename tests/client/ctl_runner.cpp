// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "ctl_runner.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace ctltest {

namespace {

using Clock = std::chrono::steady_clock;

// In the child: credentials, environment, stdio; then exec. Never returns.
[[noreturn]] void execChild(const std::vector<std::string>& argv, const RunOptions& o, int in,
                            int out, int err) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    for (const auto& [k, v] : o.env) {
        if (v) {
            ::setenv(k.c_str(), v->c_str(), 1);
        } else {
            ::unsetenv(k.c_str());
        }
    }
    if (o.cred != nullptr) {
        if (::setgroups(o.cred->groups.size(), o.cred->groups.data()) != 0 ||
            ::setgid(o.cred->gid) != 0 || ::setuid(o.cred->uid) != 0) {
            std::fprintf(stderr, "cannot switch to %s: %s\n", o.cred->describe().c_str(),
                         std::strerror(errno));
            ::_exit(126);
        }
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
}

int decode(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

} // namespace

std::string rpmsgctlBinary() {
    if (const char* e = std::getenv("RPMSGCTL"); e != nullptr && *e != '\0') {
        return e;
    }
    return RPMSGCTL_DEFAULT_PATH;
}

std::string Result::str() const {
    return "exit " + std::to_string(code) + (timedOut ? " (timed out)" : "") + "\n--- stdout\n" +
           out + "--- stderr\n" + err + "---";
}

nlohmann::json Result::json() const {
    try {
        return nlohmann::json::parse(out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "stdout is not JSON (" << e.what() << "): " << str();
        return nullptr;
    }
}

std::vector<nlohmann::json> Result::jsonLines() const {
    std::vector<nlohmann::json> lines;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        try {
            lines.push_back(nlohmann::json::parse(line));
        } catch (const std::exception& e) {
            ADD_FAILURE() << "line is not JSON (" << e.what() << "): '" << line << "'\n" << str();
        }
    }
    return lines;
}

bool Result::oneErrorLine() const {
    return !err.empty() && err.back() == '\n' && err.find('\n') == err.size() - 1;
}

Result run(const std::vector<std::string>& argv, const RunOptions& o) {
    Result r;
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 ||
        ::pipe2(err, O_CLOEXEC) != 0) {
        r.err = std::string("pipe: ") + std::strerror(errno);
        return r;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        execChild(argv, o, in[0], out[1], err[1]);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    if (pid < 0) {
        ::close(in[1]);
        ::close(out[0]);
        ::close(err[0]);
        r.err = std::string("fork: ") + std::strerror(errno);
        return r;
    }
    // stdin is written whole up front (small inputs; a pipe holds 64 KiB), then closed.
    std::signal(SIGPIPE, SIG_IGN);
    if (!o.input.empty()) {
        (void)!::write(in[1], o.input.data(), o.input.size());
    }
    ::close(in[1]);
    const auto deadline = Clock::now() + o.timeout;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open = 2;
    while (open > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            r.timedOut = true;
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
            break;
        }
        for (auto& f : fds) {
            if (f.fd >= 0 && f.revents != 0) {
                char buf[4096];
                const ssize_t n = ::read(f.fd, buf, sizeof buf);
                if (n <= 0) {
                    ::close(f.fd);
                    f.fd = -1;
                    --open;
                } else {
                    (f.fd == out[0] ? r.out : r.err).append(buf, static_cast<size_t>(n));
                }
            }
        }
    }
    for (auto& f : fds) {
        if (f.fd >= 0) {
            ::close(f.fd);
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = decode(status);
    return r;
}

Result ctl(const std::vector<std::string>& args, const RunOptions& options) {
    std::vector<std::string> argv = {rpmsgctlBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, options);
}

Background::Background(const std::vector<std::string>& argv, const RunOptions& o) {
    char tmpl[] = "/tmp/rpmsgctl-bg-XXXXXX";
    const int err = ::mkstemp(tmpl);
    errPath_ = tmpl;
    int in[2], out[2];
    if (err < 0 || ::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
        return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
        execChild(argv, o, in[0], out[1], err);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err);
    out_ = out[0];
    if (!o.input.empty()) {
        (void)!::write(in[1], o.input.data(), o.input.size());
    }
    ::close(in[1]);
}

Background::~Background() {
    if (pid_ > 0) {
        stop(SIGKILL);
    }
    if (out_ >= 0) {
        ::close(out_);
    }
    ::unlink(errPath_.c_str());
}

std::optional<std::string> Background::readLine(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        if (auto nl = buf_.find('\n'); nl != std::string::npos) {
            std::string line = buf_.substr(0, nl);
            buf_.erase(0, nl + 1);
            return line;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0 || out_ < 0) {
            return std::nullopt;
        }
        pollfd p{out_, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return std::nullopt;
        }
        char buf[4096];
        const ssize_t n = ::read(out_, buf, sizeof buf);
        if (n <= 0) {
            return std::nullopt;
        }
        buf_.append(buf, static_cast<size_t>(n));
    }
}

std::optional<std::string>
Background::readUntil(const std::function<bool(const std::string&)>& pred,
                      std::vector<std::string>& seen, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        auto line = readLine(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
        if (!line) {
            return std::nullopt;
        }
        seen.push_back(*line);
        if (pred(*line)) {
            return line;
        }
    }
    return std::nullopt;
}

int Background::stop(int sig, std::chrono::milliseconds timeout) {
    if (pid_ <= 0) {
        return -1;
    }
    ::kill(pid_, sig);
    const auto deadline = Clock::now() + timeout;
    int status = 0;
    while (true) {
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return decode(status);
        }
        if (Clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
            return -1;
        }
        pollfd none{-1, 0, 0};
        ::poll(&none, 1, 5);
    }
}

std::string Background::errors() const {
    return simtest::readFile(errPath_).data;
}

} // namespace ctltest
