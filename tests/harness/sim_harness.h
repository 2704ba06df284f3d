// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Runs an rpmsg-sim instance for tests and benchmarks: a private temporary directory, the
// firmware directory, the config file, the sim process (waiting for `ready MOUNT`), `ctl` and
// `mkfw` invocations, and a teardown that always unmounts. No GoogleTest here, so the benchmark
// can link it too.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace simtest {

using namespace std::chrono_literals;

/// @brief A base that makes a class neither copyable nor movable (it owns a process, an fd, a
/// directory or a thread).
class NonCopyable {
public:
    NonCopyable() = default;
    NonCopyable(const NonCopyable&) = delete;
    NonCopyable& operator=(const NonCopyable&) = delete;
};

/// @brief Outcome of running a command: exit code (128+signal when killed by a signal, -1 when it
/// could not be started or timed out), and its stdout and stderr.
struct CommandResult {
    int exitCode = -1;
    std::string out;
    std::string err;
    bool timedOut = false;
};

/// @brief Runs @p argv (looked up in PATH) with @p input on its stdin (then EOF), capturing both
/// outputs; SIGKILL after @p timeout. @p inChild runs in the forked child before exec (switching
/// users, changing the environment); exec failing is exit code 127 with the reason on stderr.
CommandResult runCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = 20s, const std::string& input = {},
                         const std::function<void()>& inChild = nullptr);

/// @brief A child started by spawnLogged().
struct Spawned {
    pid_t pid = -1;
    int stdoutFd = -1; ///< read end of its stdout when captured, else -1
};

/// @brief How spawnLogged() runs a child.
struct SpawnOptions {
    std::string logPath;          ///< stderr (and stdout unless captured) go here
    bool appendLog = false;       ///< append instead of truncating
    bool captureStdout = false;   ///< stdout to a pipe (Spawned::stdoutFd)
    std::vector<std::string> env; ///< the whole environment; empty inherits ours
    int deathSignal = SIGTERM;    ///< sent to the child if the test process dies
    /// @brief Passed as a service manager does (sd_listen_fds): at 3, 4, ... in the child, with
    /// LISTEN_FDS and LISTEN_PID set; LISTEN_FDNAMES goes in @ref env. Needs a non-empty env.
    std::vector<int> passFds;
};

/// @brief Forks and runs @p argv (looked up in PATH) with stdin from /dev/null. On failure the
/// pid is -1 and @p error says why.
Spawned spawnLogged(const std::vector<std::string>& argv, const SpawnOptions& options,
                    std::string& error);

/// @brief A child process of this one (the sim, rpmsgd, a bus): its pid and, once reaped, its
/// wait status.
class ChildProcess {
public:
    /// @brief Follows @p pid, a new child, from now on.
    void reset(pid_t pid) {
        pid_ = pid;
        status_.reset();
    }
    pid_t pid() const { return pid_; }
    /// @brief Its wait status once it has been reaped.
    const std::optional<int>& status() const { return status_; }
    /// @brief True while it runs; reaps it once it has exited.
    bool alive();
    /// @brief Waits up to @p timeout for the exit; the wait status, or nullopt.
    std::optional<int> waitExit(std::chrono::milliseconds timeout);
    /// @brief Sends @p sig while it runs.
    void signal(int sig);
    /// @brief SIGTERM and up to @p timeout for the exit: the wait status; when it has to be
    /// killed (SIGKILL, reaped within 10 s) or never ran, nullopt.
    std::optional<int> stop(std::chrono::milliseconds timeout);

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

/// @brief The rpmsg-sim binary: $RPMSG_SIM, else `../../sim/rpmsg-sim` next to this executable.
std::string simBinary();

/// @brief Why sim tests cannot run here (not root, no /dev/fuse, no binary); empty if they can.
std::string skipReason();

/// @brief Polls @p pred every @p interval until it holds or @p timeout passes; returns the last
/// result.
bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s,
             std::chrono::milliseconds interval = 5ms);

/// @brief The first sanitizer report (AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer)
/// in a child's log, from its first line to the end of the log; "" when there is none. Children
/// built with sanitizers write reports to stderr, and their harness fails the test on one.
std::string sanitizerReport(std::string_view log);

/// @brief How many fds process @p pid has open (/proc/PID/fd); -1 when /proc cannot tell.
int openFds(pid_t pid);

/// @brief True when @p dir (canonical path) is a mount point in /proc/self/mountinfo.
bool isMounted(const std::string& dir);

/// @brief Runs a function on a thread that may block in a syscall on the mount. If the
/// function is still running at destruction, @p onStuck is called (a sim fixture kills the sim,
/// which aborts the FUSE connection) before joining, so a broken sim cannot hang the suite.
class Background : NonCopyable {
public:
    Background(std::function<void()> fn, std::function<void()> onStuck);
    ~Background();

    /// @brief Waits until the function returned.
    bool waitDone(std::chrono::milliseconds timeout);
    /// @brief Waits until the thread sleeps inside syscall @p nr (per /proc/self/task/T; see
    /// taskBlockedIn for kernels without /proc/PID/syscall).
    bool waitBlockedIn(long nr, std::chrono::milliseconds timeout = 5s);
    bool done() const { return done_; }
    pthread_t handle() { return thread_.native_handle(); }

private:
    std::atomic<pid_t> tid_{0};
    std::atomic<bool> done_{false};
    std::function<void()> onStuck_;
    std::thread thread_;
};

/// @brief True when task @p tid of process @p pid (0 = self) sleeps in syscall @p nr. Kernels
/// without /proc/PID/syscall (User-Mode Linux has no HAVE_ARCH_TRACEHOOK) only tell that the
/// task sleeps; then any sleep counts.
bool taskBlockedIn(pid_t pid, pid_t tid, long nr);

/// @brief Installs a handler for SIGUSR1 without SA_RESTART for the lifetime of the object.
class SigusrNoRestart : NonCopyable {
public:
    SigusrNoRestart();
    ~SigusrNoRestart();

private:
    struct sigaction old_ {};
};

/// @brief Result of reading one message.
struct Message {
    int err = 0; ///< errno of poll/read, ETIME when nothing arrived in time
    std::string data;
};

/// @brief Waits for POLLIN (up to @p timeout) then reads with a buffer of @p bufSize.
Message readMessage(int fd, size_t bufSize = 512, std::chrono::milliseconds timeout = 5s);

/// @brief The errno of read() and of a one-byte write() on @p fd, 0 for a call that did not fail:
/// what an fd that refuses both (a ctrl device, an eptdev whose endpoint is gone) gives.
std::pair<int, int> ioErrnos(int fd);

/// @brief Writes @p size-byte messages until one fails (at most @p max); returns how many
/// succeeded and the errno of the failure in @p err (0 if none failed).
int writeUntilFailure(int fd, size_t size, int max, int& err);

/// @brief An owned file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release();
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

/// @brief Result of a whole-file read: errno (0 on success) and the bytes.
struct ReadResult {
    int err = 0;
    std::string data;
};

/// @brief Opens, reads to EOF (or @p max bytes), closes.
ReadResult readFile(const std::string& path, size_t max = 1 << 20);

/// @brief Sentinel returned by writeFile when write() returned fewer bytes than given.
inline constexpr int kShortWrite = -1;

/// @brief Opens O_WRONLY (plus @p extraFlags), writes @p data in one write(), closes. Returns 0
/// when the whole count was accepted, the errno of open() or write() otherwise, or kShortWrite.
int writeFile(const std::string& path, std::string_view data, int extraFlags = 0);

/// @brief Writes a regular file (for specs, configs); throws on failure.
void writeTextFile(const std::string& path, const std::string& text);

/// @brief Names in a directory (without . and ..); empty if it cannot be read.
std::vector<std::string> listDir(const std::string& path);

/// @brief A directory from mkdtemp under $TMPDIR or /tmp (mode 0755 so that a process that
/// dropped privileges can reach the mount inside it), removed recursively on destruction.
class TempDir : NonCopyable {
public:
    explicit TempDir(const std::string& prefix = "rpmsg-sim-test");
    ~TempDir();
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// @brief How to start the sim.
struct SimOptions {
    std::optional<nlohmann::json> config; ///< written to ROOT/sim.json and passed as --config
    std::string kernel;                   ///< --kernel X when non-empty
    bool firmwareDir = true;              ///< pass --firmware-dir ROOT/firmware
    bool uevents = false;                 ///< --uevents
    std::vector<std::string> extraArgs;
    std::chrono::milliseconds readyTimeout = 10s;
};

/// @brief One rpmsg-sim process and its mount under a root directory:
/// ROOT/mnt (mount point), ROOT/firmware, ROOT/sim.json, ROOT/sim.stderr.
class Sim : NonCopyable {
public:
    explicit Sim(std::string root);
    ~Sim();

    /// @brief Spawns the sim and waits for `ready MOUNT`. On failure kills it, returns false and
    /// puts a sentence and the sim's stderr into @p error.
    bool start(const SimOptions& options, std::string& error);

    /// @brief SIGTERM, waitpid up to @p timeout, SIGKILL fallback; then unmounts if still
    /// mounted. Returns the wait status of the sim (or -1 if it was not running).
    int shutdown(std::chrono::milliseconds timeout = 5s);

    /// @brief Sends @p sig to the sim (no wait).
    void signal(int sig) const;

    /// @brief Waits up to @p timeout for the sim to exit; returns its wait status, or nullopt.
    std::optional<int> waitExit(std::chrono::milliseconds timeout);

    /// @brief True while the process has not exited.
    bool alive();

    pid_t pid() const { return child_.pid(); }
    const std::string& root() const { return root_; }
    const std::string& mountDir() const { return mount_; }
    std::string firmwareDir() const { return root_ + "/firmware"; }
    std::string configPath() const { return root_ + "/sim.json"; }

    /// @brief MOUNT/rel.
    std::string path(std::string_view rel) const;

    /// @brief What the sim wrote to stderr so far, and stdout after the ready line.
    std::string log();

    /// @brief `rpmsg-sim ctl MOUNT args...`.
    CommandResult ctl(const std::vector<std::string>& args) const;

    /// @brief `ctl dump` parsed; throws std::runtime_error when ctl fails or prints bad JSON.
    nlohmann::json dump() const;

    /// @brief Writes ROOT/firmware/NAME from @p spec with `rpmsg-sim mkfw` (and --defect when
    /// given); returns the mkfw result.
    CommandResult mkfw(const std::string& name, const nlohmann::json& spec,
                       const std::string& defect = "") const;

private:
    std::string root_;
    std::string mount_;
    ChildProcess child_;
    int stdoutFd_ = -1;
    std::string stdoutBuf_;

    void drainStdout();
    void unmountIfMounted();
};

/// @brief The example of sim/README.md, "Simulated firmware": every kind of service.
inline constexpr const char* ReadmeSpec = R"({ "boot_ms": 20,
  "services": [ {"name": "rpmsg-echo", "addr": 1024, "kind": "echo"},
                {"name": "rpmsg-sensor", "addr": 1025, "kind": "stream", "rate_hz": 100, "size": 64},
                {"name": "rpmsg-sink", "addr": 1026, "kind": "sink", "consume_every_ms": 10},
                {"name": "hidden", "addr": 1027, "kind": "echo", "announce": false} ],
  "trace": ["boot ok", "echo ready"],
  "crash_after_messages": 0,
  "image": { "name_service": true, "trace_len": 1024, "machine": 40 } })";

/// @brief The usual echo firmware behaviour: rpmsg-echo at 1024, trace lines "boot ok" and
/// "echo ready".
nlohmann::json echoSpec(int bootMs = 20);

/// @brief A config with cm4 (firmware @p cm4Firmware) and dsp, recovery enabled, coredump
/// disabled, everything offline.
nlohmann::json defaultConfig(const std::string& cm4Firmware = "echo.elf");

// ---- rpmsg uapi ------------------------------------------------------------------------------

/// @brief CREATE_EPT on a ctrl fd; returns 0 or errno.
int createEpt(int ctrlFd, const std::string& name, uint32_t src, uint32_t dst);

/// @brief CREATE_DEV / RELEASE_DEV on a ctrl fd; returns 0 or errno.
int createDev(int ctrlFd, const std::string& name, uint32_t src, uint32_t dst);
int releaseDev(int ctrlFd, const std::string& name, uint32_t src, uint32_t dst);

/// @brief The `rpmsgN` names (not rpmsg_ctrlN) in MOUNT/sys/class/rpmsg, sorted by N.
std::vector<std::string> eptdevNames(const Sim& sim);
/// @brief The `rpmsgN` names (not rpmsg_ctrlN) in the class directory @p classRpmsgDir, sorted
/// by N.
std::vector<std::string> eptdevNames(const std::string& classRpmsgDir);

} // namespace simtest
