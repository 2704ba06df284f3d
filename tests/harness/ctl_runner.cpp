// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "ctl_runner.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace ctltest {

namespace {

using Clock = std::chrono::steady_clock;

// In the child, before exec: environment and credentials.
void setUpChild(const RunOptions& o) {
    for (const auto& [k, v] : o.env) {
        if (v) {
            ::setenv(k.c_str(), v->c_str(), 1);
        } else {
            ::unsetenv(k.c_str());
        }
    }
    // Another user may not enter the test's directory (a checkout in a 0700 directory).
    if (o.cred != nullptr && (::chdir("/") != 0 || !harness::switchTo(*o.cred))) {
        std::fprintf(stderr, "cannot switch to %s: %s\n", o.cred->describe().c_str(),
                     std::strerror(errno));
        ::_exit(126);
    }
}

// What a child as another user runs: world-readable copies of the project's files in argv,
// and the copied shared libraries on its library path.
std::vector<std::string> forChild(const std::vector<std::string>& argv, RunOptions& o) {
    if (o.cred == nullptr) {
        return argv;
    }
    std::vector<std::string> out = harness::forOtherUser(argv);
    // A sanitizer build reads its suppressions file (scripts/lsan.supp) at exit.
    if (const char* lsan = std::getenv("LSAN_OPTIONS"); lsan != nullptr) {
        o.env.try_emplace("LSAN_OPTIONS", harness::sanitizerOptionsForOtherUser(lsan));
    }
    if (const std::string libs = harness::stagedLibraryDir(); !libs.empty()) {
        o.env.try_emplace("LD_LIBRARY_PATH", libs);
    }
    return out;
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

std::string pathWithRpmsgctl(bool otherUser) {
    const std::string bin =
        otherUser ? harness::worldReadableCopy(rpmsgctlBinary()) : rpmsgctlBinary();
    return bin.substr(0, bin.rfind('/')) + ":/usr/bin:/bin";
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

Result run(const std::vector<std::string>& argvIn, const RunOptions& options) {
    RunOptions o = options;
    const std::vector<std::string> argv = forChild(argvIn, o);
    simtest::CommandResult c =
        simtest::runCommand(argv, o.timeout, o.input, [&o] { setUpChild(o); });
    return Result{c.exitCode, std::move(c.out), std::move(c.err), c.timedOut};
}

Result ctl(const std::vector<std::string>& args, const RunOptions& options) {
    std::vector<std::string> argv = {rpmsgctlBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, options);
}

Background::Background(const std::vector<std::string>& argvIn, const RunOptions& options) {
    RunOptions o = options;
    const std::vector<std::string> argv = forChild(argvIn, o);
    char tmpl[] = "/tmp/rpmsgctl-bg-XXXXXX";
    const int err = ::mkstemp(tmpl);
    errPath_ = tmpl;
    int in[2], out[2];
    if (err < 0 || ::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
        return;
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::dup2(in[0], STDIN_FILENO);
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(err, STDERR_FILENO);
        setUpChild(o);
        ::execv(args[0], args.data());
        std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err);
    out_ = out[0];
    lines_.setFd(out_);
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
    return lines_.readLine(timeout);
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
