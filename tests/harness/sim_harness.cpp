// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "sim_harness.h"

#include "rpmsg_uapi.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace simtest {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<char*> cArgv(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    out.reserve(argv.size() + 1);
    for (const auto& a : argv) {
        out.push_back(const_cast<char*>(a.c_str()));
    }
    out.push_back(nullptr);
    return out;
}

// Mount points in /proc/self/mountinfo escape space, tab, newline and backslash as \ooo.
std::string unescapeMountField(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            const std::string oct = s.substr(i + 1, 3);
            if (std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
                out.push_back(static_cast<char>(std::stoi(oct, nullptr, 8)));
                i += 3;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

std::vector<std::string> mountPoints() {
    std::vector<std::string> out;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, devno, rootField, mountPoint;
        if (fields >> id >> parent >> devno >> rootField >> mountPoint) {
            out.push_back(unescapeMountField(mountPoint));
        }
    }
    return out;
}

std::string canonical(const std::string& p) {
    char buf[PATH_MAX];
    if (::realpath(p.c_str(), buf) != nullptr) {
        return buf;
    }
    return p;
}

int endpointIoctl(int fd, unsigned long cmd, const std::string& name, uint32_t src, uint32_t dst) {
    rpmsg_endpoint_info info{};
    std::strncpy(info.name, name.c_str(), sizeof(info.name) - 1);
    info.src = src;
    info.dst = dst;
    return ::ioctl(fd, cmd, &info) == 0 ? 0 : errno;
}

void noopHandler(int) {}

} // namespace

// ---- processes ------------------------------------------------------------------------------

CommandResult runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::string& input, const std::function<void()>& inChild) {
    CommandResult result;
    int inPipe[2], outPipe[2], errPipe[2];
    if (::pipe2(inPipe, O_CLOEXEC) != 0 || ::pipe2(outPipe, O_CLOEXEC) != 0 ||
        ::pipe2(errPipe, O_CLOEXEC) != 0) {
        result.err = std::string("pipe: ") + std::strerror(errno);
        return result;
    }
    auto args = cArgv(argv);
    const std::string cannot = "cannot run " + argv.at(0) + ": ";
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::dup2(inPipe[0], 0);
        ::dup2(outPipe[1], 1);
        ::dup2(errPipe[1], 2);
        if (inChild) {
            inChild();
        }
        ::execvp(args[0], args.data());
        const std::string why = cannot + std::strerror(errno) + "\n";
        (void)!::write(2, why.data(), why.size());
        ::_exit(127);
    }
    ::close(inPipe[0]);
    ::close(outPipe[1]);
    ::close(errPipe[1]);
    if (pid < 0) {
        result.err = std::string("fork: ") + std::strerror(errno);
        ::close(inPipe[1]);
        ::close(outPipe[0]);
        ::close(errPipe[0]);
        return result;
    }
    // stdin is written whole up front (small inputs; a pipe holds 64 KiB), then closed.
    std::signal(SIGPIPE, SIG_IGN);
    (void)!::write(inPipe[1], input.data(), input.size());
    ::close(inPipe[1]);
    const auto deadline = Clock::now() + timeout;
    pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open = 2;
    while (open > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            result.timedOut = true;
            ::kill(pid, SIGKILL);
            break;
        }
        const int n = ::poll(fds, 2, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                char buf[4096];
                const ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
                if (r > 0) {
                    sinks[i]->append(buf, static_cast<size_t>(r));
                } else if (r == 0 || errno != EINTR) {
                    fds[i].fd = -1;
                    --open;
                }
            }
        }
    }
    ::close(outPipe[0]);
    ::close(errPipe[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (result.timedOut) {
        result.exitCode = -1;
        result.err += "\n(timed out after " + std::to_string(timeout.count()) + " ms)";
    } else if (WIFEXITED(status)) {
        result.exitCode = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.exitCode = 128 + WTERMSIG(status);
    }
    return result;
}

Spawned spawnLogged(const std::vector<std::string>& argv, const SpawnOptions& options,
                    std::string& error) {
    Spawned out;
    const bool captureStdout = options.captureStdout;
    const std::vector<std::string>& env = options.env;
    const int deathSignal = options.deathSignal;
    const int logFd =
        ::open(options.logPath.c_str(),
               O_WRONLY | O_CREAT | O_CLOEXEC | (options.appendLog ? O_APPEND : O_TRUNC), 0644);
    int pipeFds[2] = {-1, -1};
    if (logFd < 0 || (captureStdout && ::pipe2(pipeFds, O_CLOEXEC) != 0)) {
        error = "cannot set up the output of " + argv.at(0) + ": " + std::strerror(errno);
        if (logFd >= 0) {
            ::close(logFd);
        }
        return out;
    }
    auto args = cArgv(argv);
    std::vector<std::string> envCopy = env;
    const std::vector<int>& passFds = options.passFds;
    const int passCount = int(passFds.size());
    if (passCount > 0) {
        envCopy.push_back("LISTEN_FDS=" + std::to_string(passCount));
        envCopy.push_back("LISTEN_PID=" + std::string(20, '\0')); // the child fills it in
    }
    auto envp = cArgv(envCopy);
    std::vector<int> high(passFds.size(), -1); // filled in the child: no allocation there
    char* listenPid =
        passCount > 0 ? envp[envCopy.size() - 1] + std::strlen("LISTEN_PID=") : nullptr;
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec: the test may have threads.
        ::prctl(PR_SET_PDEATHSIG, deathSignal);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        const int devNull = ::open("/dev/null", O_RDONLY);
        ::dup2(devNull, 0);
        ::dup2(captureStdout ? pipeFds[1] : logFd, 1);
        ::dup2(logFd, 2);
        if (passCount > 0) {
            // Out of the way first (the targets may be taken), then to 3, 4, ...
            for (int i = 0; i < passCount; ++i) {
                high[size_t(i)] = ::fcntl(passFds[size_t(i)], F_DUPFD_CLOEXEC, 3 + passCount);
            }
            for (int i = 0; i < passCount; ++i) {
                ::dup2(high[size_t(i)], 3 + i); // the copy at 3 + i is not close-on-exec
            }
            char digits[20];
            int len = 0;
            for (pid_t self = ::getpid(); self > 0; self /= 10) {
                digits[len++] = char('0' + self % 10);
            }
            for (int i = 0; i < len; ++i) {
                listenPid[i] = digits[len - 1 - i];
            }
        }
        if (env.empty()) {
            ::execvp(args[0], args.data());
        } else {
            ::execvpe(args[0], args.data(), envp.data());
        }
        ::_exit(127);
    }
    if (captureStdout) {
        ::close(pipeFds[1]);
    }
    ::close(logFd);
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        if (captureStdout) {
            ::close(pipeFds[0]);
        }
        return out;
    }
    out.pid = pid;
    out.stdoutFd = pipeFds[0];
    return out;
}

std::string simBinary() {
    if (const char* env = std::getenv("RPMSG_SIM"); env != nullptr && *env != '\0') {
        return env;
    }
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path guess = self.parent_path() / ".." / ".." / "sim" / "rpmsg-sim";
        if (fs::exists(guess, ec)) {
            return fs::weakly_canonical(guess, ec).string();
        }
    }
    return "rpmsg-sim";
}

std::string skipReason() {
    if (::geteuid() != 0) {
        return "rpmsg-sim tests need root (FUSE allow_other mounts, root-owned nodes)";
    }
    if (::access("/dev/fuse", R_OK | W_OK) != 0) {
        return "/dev/fuse is missing or not accessible (modprobe fuse)";
    }
    return {};
}

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        if (pred()) {
            return true;
        }
        if (Clock::now() >= deadline) {
            return pred();
        }
        std::this_thread::sleep_for(interval);
    }
}

int openFds(pid_t pid) {
    std::error_code ec;
    int n = 0;
    for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
         !ec && it != end; it.increment(ec)) {
        ++n;
    }
    return ec && n == 0 ? -1 : n;
}

bool isMounted(const std::string& dir) {
    const auto points = mountPoints();
    return std::find(points.begin(), points.end(), dir) != points.end();
}

// ---- threads that block ----------------------------------------------------------------------

Background::Background(std::function<void()> fn, std::function<void()> onStuck)
    : onStuck_(std::move(onStuck)) {
    thread_ = std::thread([this, fn = std::move(fn)] {
        tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
        fn();
        done_ = true;
    });
}

Background::~Background() {
    if (!waitDone(100ms) && onStuck_) {
        onStuck_();
    }
    thread_.join();
}

bool Background::waitDone(std::chrono::milliseconds timeout) {
    return waitFor([this] { return done_.load(); }, timeout, 1ms);
}

bool Background::waitBlockedIn(long nr, std::chrono::milliseconds timeout) {
    return waitFor([this, nr] { return tid_ != 0 && !done_ && taskBlockedIn(0, tid_, nr); },
                   timeout, 1ms);
}

bool taskBlockedIn(pid_t pid, pid_t tid, long nr) {
    const std::string base = "/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) +
                             "/task/" + std::to_string(tid);
    std::ifstream statIn(base + "/stat");
    std::string stat;
    std::getline(statIn, stat);
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) {
        return false;
    }
    const char st = stat[close + 2];
    if (st != 'S' && st != 'D') {
        return false;
    }
    std::ifstream sysIn(base + "/syscall");
    if (!sysIn) {
        return true; // no /proc/PID/syscall on this kernel: sleeping is all we can tell
    }
    long current = -2;
    sysIn >> current;
    return current == nr;
}

SigusrNoRestart::SigusrNoRestart() {
    struct sigaction sa {};
    sa.sa_handler = noopHandler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: the interrupted syscall must fail with EINTR
    ::sigaction(SIGUSR1, &sa, &old_);
}

SigusrNoRestart::~SigusrNoRestart() {
    ::sigaction(SIGUSR1, &old_, nullptr);
}

// ---- files ----------------------------------------------------------------------------------

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        reset(other.release());
    }
    return *this;
}

int Fd::release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

void Fd::reset(int fd) {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

ReadResult readFile(const std::string& path, size_t max) {
    ReadResult r;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r.err = errno;
        return r;
    }
    char buf[4096];
    while (r.data.size() < max) {
        const ssize_t n = ::read(fd, buf, std::min(sizeof buf, max - r.data.size()));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            r.err = errno;
            break;
        }
        if (n == 0) {
            break;
        }
        r.data.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return r;
}

int writeFile(const std::string& path, std::string_view data, int extraFlags) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | extraFlags);
    if (fd < 0) {
        return errno;
    }
    const ssize_t n = ::write(fd, data.data(), data.size());
    const int err = errno;
    ::close(fd);
    if (n < 0) {
        return err;
    }
    return static_cast<size_t>(n) == data.size() ? 0 : kShortWrite;
}

std::pair<int, int> ioErrnos(int fd) {
    char buf[16];
    errno = 0;
    const int readErr = ::read(fd, buf, sizeof buf) < 0 ? errno : 0;
    errno = 0;
    const int writeErr = ::write(fd, "x", 1) < 0 ? errno : 0;
    return {readErr, writeErr};
}

int writeUntilFailure(int fd, size_t size, int max, int& err) {
    const std::string payload(size, 'b');
    err = 0;
    for (int i = 0; i < max; ++i) {
        if (::write(fd, payload.data(), payload.size()) != static_cast<ssize_t>(size)) {
            err = errno;
            return i;
        }
    }
    return max;
}

Message readMessage(int fd, size_t bufSize, std::chrono::milliseconds timeout) {
    Message m;
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n < 0) {
        m.err = errno;
        return m;
    }
    if (n == 0) {
        m.err = ETIME;
        return m;
    }
    std::string buf(bufSize, '\0');
    const ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0) {
        m.err = errno;
        return m;
    }
    buf.resize(static_cast<size_t>(r));
    m.data = std::move(buf);
    return m;
}

void writeTextFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        throw std::runtime_error("cannot write " + path);
    }
}

std::vector<std::string> listDir(const std::string& path) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        out.push_back(it->path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

TempDir::TempDir(const std::string& prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
        throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    }
    ::chmod(buf.data(), 0755);
    path_ = canonical(buf.data());
}

TempDir::~TempDir() {
    // Never recurse into a live mount: detach anything still mounted below us first.
    for (const auto& mp : mountPoints()) {
        if (mp.rfind(path_ + "/", 0) == 0) {
            ::umount2(mp.c_str(), MNT_DETACH);
        }
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
}

// ---- the sim --------------------------------------------------------------------------------

Sim::Sim(std::string root) : root_(std::move(root)), mount_(root_ + "/mnt") {
    fs::create_directories(mount_);
    fs::create_directories(firmwareDir());
    fs::create_directories(root_ + "/specs");
    ::chmod(mount_.c_str(), 0755);
}

Sim::~Sim() {
    shutdown();
}

bool Sim::start(const SimOptions& options, std::string& error) {
    if (child_.pid() > 0) {
        if (alive()) {
            error = "sim already started";
            return false;
        }
        // The previous sim exited (a test killed it): start a new one on the same mount.
        if (stdoutFd_ >= 0) {
            ::close(stdoutFd_);
            stdoutFd_ = -1;
        }
    }
    std::vector<std::string> argv = {simBinary(), mount_};
    if (options.config) {
        writeTextFile(configPath(), options.config->dump(2) + "\n");
        argv.insert(argv.end(), {"--config", configPath()});
    }
    if (options.firmwareDir) {
        argv.insert(argv.end(), {"--firmware-dir", firmwareDir()});
    }
    if (!options.kernel.empty()) {
        argv.insert(argv.end(), {"--kernel", options.kernel});
    }
    if (options.uevents) {
        argv.emplace_back("--uevents");
    }
    argv.insert(argv.end(), options.extraArgs.begin(), options.extraArgs.end());

    SpawnOptions spawn;
    spawn.logPath = root_ + "/sim.stderr";
    spawn.captureStdout = true;
    Spawned child = spawnLogged(argv, spawn, error);
    if (child.pid < 0) {
        return false;
    }
    child_.reset(child.pid);
    stdoutFd_ = child.stdoutFd;

    const std::string want = "ready " + mount_;
    // Only this sim's output counts: after a restart the buffer still holds the previous
    // sim's ready line, which must not pass for this one's.
    const size_t from = stdoutBuf_.size();
    const auto deadline = Clock::now() + options.readyTimeout;
    bool ready = false;
    bool eof = false;
    while (!ready && !eof) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            break;
        }
        pollfd p{stdoutFd_, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
        if (n > 0) {
            char buf[1024];
            const ssize_t r = ::read(stdoutFd_, buf, sizeof buf);
            if (r > 0) {
                stdoutBuf_.append(buf, static_cast<size_t>(r));
            } else if (r == 0) {
                eof = true;
            }
        }
        std::istringstream lines(stdoutBuf_.substr(from));
        std::string line;
        while (std::getline(lines, line)) {
            if (line == want) {
                ready = true;
            }
        }
    }
    if (ready) {
        // The sim writes little after the ready line; keep the pipe non-blocking and drain it at
        // teardown, so we never block on it and never make the sim's writes fail.
        ::fcntl(stdoutFd_, F_SETFL, ::fcntl(stdoutFd_, F_GETFL) | O_NONBLOCK);
        return true;
    }
    const bool exited = !alive();
    shutdown();
    std::ostringstream msg;
    msg << "rpmsg-sim did not print '" << want << "' within " << options.readyTimeout.count()
        << " ms";
    if (exited && child_.status()) {
        msg << " (it exited, wait status " << *child_.status() << ")";
    }
    msg << "\ncommand:";
    for (const auto& a : argv) {
        msg << ' ' << a;
    }
    msg << "\n" << log();
    error = msg.str();
    return false;
}

void Sim::drainStdout() {
    if (stdoutFd_ < 0) {
        return;
    }
    char buf[4096];
    while (true) {
        const ssize_t r = ::read(stdoutFd_, buf, sizeof buf);
        if (r <= 0) {
            break;
        }
        stdoutBuf_.append(buf, static_cast<size_t>(r));
    }
}

std::string Sim::log() {
    const int flags = stdoutFd_ >= 0 ? ::fcntl(stdoutFd_, F_GETFL) : 0;
    if (stdoutFd_ >= 0 && (flags & O_NONBLOCK) == 0) {
        ::fcntl(stdoutFd_, F_SETFL, flags | O_NONBLOCK);
    }
    drainStdout();
    const auto err = readFile(root_ + "/sim.stderr");
    return "---- rpmsg-sim stderr ----\n" + err.data + "---- rpmsg-sim stdout ----\n" + stdoutBuf_ +
           "--------------------------\n";
}

std::string sanitizerReport(std::string_view log) {
    size_t first = std::string_view::npos;
    for (std::string_view marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                    "runtime error: ", "SUMMARY: UndefinedBehaviorSanitizer"}) {
        first = std::min(first, log.find(marker));
    }
    if (first == std::string_view::npos) {
        return {};
    }
    const size_t lineStart = log.rfind('\n', first);
    return std::string(log.substr(lineStart == std::string_view::npos ? 0 : lineStart + 1));
}

bool ChildProcess::alive() {
    if (pid_ <= 0 || status_) {
        return false;
    }
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = status;
        return false;
    }
    return r == 0;
}

std::optional<int> ChildProcess::waitExit(std::chrono::milliseconds timeout) {
    if (pid_ > 0) {
        waitFor([this] { return !alive(); }, timeout, 2ms);
    }
    return status_;
}

void ChildProcess::signal(int sig) {
    if (alive()) {
        ::kill(pid_, sig);
    }
}

std::optional<int> ChildProcess::stop(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) {
        return std::nullopt;
    }
    signal(SIGTERM);
    if (auto s = waitExit(timeout)) {
        return s;
    }
    signal(SIGKILL);
    waitExit(10s);
    return std::nullopt;
}

bool Sim::alive() {
    return child_.alive();
}

std::optional<int> Sim::waitExit(std::chrono::milliseconds timeout) {
    return child_.waitExit(timeout);
}

void Sim::signal(int sig) const {
    if (child_.pid() > 0) {
        ::kill(child_.pid(), sig);
    }
}

void Sim::unmountIfMounted() {
    if (isMounted(mount_)) {
        runCommand({"fusermount3", "-u", "-z", mount_}, 10s);
    }
    if (isMounted(mount_)) {
        ::umount2(mount_.c_str(), MNT_DETACH);
    }
}

int Sim::shutdown(std::chrono::milliseconds timeout) {
    child_.stop(timeout);
    const int status = child_.status().value_or(-1);
    if (stdoutFd_ >= 0) {
        drainStdout();
        ::close(stdoutFd_);
        stdoutFd_ = -1;
    }
    unmountIfMounted();
    return status;
}

std::string Sim::path(std::string_view rel) const {
    std::string p = mount_;
    if (!rel.empty()) {
        p += '/';
        p += rel;
    }
    return p;
}

CommandResult Sim::ctl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {simBinary(), "ctl", mount_};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, 20s);
}

nlohmann::json Sim::dump() const {
    const auto r = ctl({"dump"});
    if (r.exitCode != 0) {
        throw std::runtime_error("rpmsg-sim ctl dump failed (" + std::to_string(r.exitCode) +
                                 "): " + r.err);
    }
    try {
        return nlohmann::json::parse(r.out);
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("rpmsg-sim ctl dump printed bad JSON: ") + e.what() +
                                 "\n" + r.out);
    }
}

CommandResult Sim::mkfw(const std::string& name, const nlohmann::json& spec,
                        const std::string& defect) const {
    std::string flat = name;
    std::replace(flat.begin(), flat.end(), '/', '_');
    const std::string specPath = root_ + "/specs/" + flat + ".json";
    writeTextFile(specPath, spec.dump(2) + "\n");
    std::vector<std::string> argv = {simBinary(), "mkfw",  "--spec",
                                     specPath,    "--out", firmwareDir() + "/" + name};
    if (!defect.empty()) {
        argv.insert(argv.end(), {"--defect", defect});
    }
    return runCommand(argv, 20s);
}

nlohmann::json echoSpec(int bootMs) {
    return {
        {"boot_ms", bootMs},
        {"services",
         nlohmann::json::array({{{"name", "rpmsg-echo"}, {"addr", 1024}, {"kind", "echo"}}})},
        {"trace", nlohmann::json::array({"boot ok", "echo ready"})},
    };
}

nlohmann::json defaultConfig(const std::string& cm4Firmware) {
    return {
        {"kernel", "6.6"},
        {"processors", nlohmann::json::array({
                           {{"name", "cm4"},
                            {"firmware", cm4Firmware},
                            {"recovery", "enabled"},
                            {"coredump", "disabled"},
                            {"auto_boot", false}},
                           {{"name", "dsp"},
                            {"firmware", "echo.elf"},
                            {"recovery", "enabled"},
                            {"coredump", "disabled"},
                            {"auto_boot", false}},
                       })},
    };
}

// ---- rpmsg uapi -----------------------------------------------------------------------------

int createEpt(int ctrlFd, const std::string& name, uint32_t src, uint32_t dst) {
    return endpointIoctl(ctrlFd, RPMSG_CREATE_EPT_IOCTL, name, src, dst);
}

int createDev(int ctrlFd, const std::string& name, uint32_t src, uint32_t dst) {
    return endpointIoctl(ctrlFd, RPMSG_CREATE_DEV_IOCTL, name, src, dst);
}

int releaseDev(int ctrlFd, const std::string& name, uint32_t src, uint32_t dst) {
    return endpointIoctl(ctrlFd, RPMSG_RELEASE_DEV_IOCTL, name, src, dst);
}

std::vector<std::string> eptdevNames(const Sim& sim) {
    return eptdevNames(sim.path("sys/class/rpmsg"));
}

std::vector<std::string> eptdevNames(const std::string& classRpmsgDir) {
    std::vector<std::pair<int, std::string>> found;
    for (const auto& n : listDir(classRpmsgDir)) {
        if (n.size() > 5 && n.rfind("rpmsg", 0) == 0 &&
            std::all_of(n.begin() + 5, n.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            found.emplace_back(std::stoi(n.substr(5)), n);
        }
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> out;
    for (auto& f : found) {
        out.push_back(f.second);
    }
    return out;
}

} // namespace simtest
