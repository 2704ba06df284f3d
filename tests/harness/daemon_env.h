// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The world one integration test runs in: a temporary directory, an rpmsg-sim mount with the
// echo firmware, a private system-like dbus-daemon whose config includes our real bus policy,
// and the real rpmsgd binary configured to look into the sim mount. GoogleTest appears only in
// the destructor (a sanitizer report in a child's log fails the running test); everything else
// returns errors, since the udev watcher test builds a whole environment inside a forked child
// (private network namespace) and reports through a pipe.

#include "private_bus.h"
#include "service_manager.h"
#include "sim_harness.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

namespace itest {

using namespace std::chrono_literals;

inline constexpr const char* BusName = "org.rpmsgd.Broker1";
inline constexpr const char* RootPath = "/org/rpmsgd/Broker1";

/// @brief The rpmsgd binary: $RPMSGD, else the path meson configured.
std::string daemonBinary();
/// @brief The bus policy file: $RPMSGD_POLICY, else dbus/org.rpmsgd.Broker1.conf in the source.
std::string policyFile();
/// @brief Why integration tests cannot run here (not root, no /dev/fuse, missing binaries).
/// With @p realKernel, /dev/fuse is not needed (no sim).
std::string skipReason(bool realKernel = false);

/// @brief The fixture's firmware: rpmsg-echo@1024 (echo), rpmsg-sensor@1025 (stream),
/// rpmsg-sink@1026 (sink), hidden@1027 (echo, not announced); trace "boot ok", "echo ready".
nlohmann::json echoFirmwareSpec(int bootMs = 20);

/// @brief How to build the environment.
struct EnvOptions {
    nlohmann::json firmware = echoFirmwareSpec(); ///< written to FW/echo.elf
    nlohmann::json simConfig = simtest::defaultConfig("echo.elf");
    bool uevents = false; ///< rpmsg-sim --uevents (only inside a private network namespace)
    /// @brief No sim: rpmsgd works on the running kernel's /sys and /dev (the real-kernel lane's
    /// guest, tests/uml). firmware and simConfig are unused then.
    bool realKernel = false;
    bool startDaemon = true; ///< start rpmsgd and wait for its name
    /// @brief Run rpmsgd as systemd would: $NOTIFY_SOCKET and an fd store handed back to the
    /// next instance (ServiceManager).
    bool serviceManager = true;
    /// @brief Edits the rpmsgd config after the defaults (paths into the mount, poll mode at
    /// 50 ms, managers group "users", channel rule "*" for group "nogroup") are filled in.
    std::function<void(nlohmann::json&)> editConfig;
    /// @brief More bus policy files the test bus includes (e.g. polkit's, so that polkitd may
    /// own its name there).
    std::vector<std::string> busPolicies;
};

/// @brief One environment; the destructor stops rpmsgd, the bus and the sim, in that order.
class DaemonEnv : simtest::NonCopyable {
public:
    DaemonEnv();
    ~DaemonEnv();

    /// @brief Builds everything; returns "" or a sentence (with logs) saying what failed.
    std::string start(const EnvOptions& options);

    /// @brief Starts rpmsgd (again) and waits up to @p timeout for its bus name; "" or why not
    /// (with its log).
    std::string startDaemon(std::chrono::milliseconds timeout = 10s);
    /// @brief SIGTERM, wait up to @p timeout (SIGKILL after that). Returns the wait status, or
    /// nullopt when it had to be killed (or was not running).
    std::optional<int> stopDaemon(std::chrono::milliseconds timeout = 5s);
    /// @brief Sends @p sig to rpmsgd.
    void signalDaemon(int sig);
    /// @brief SIGKILL and reap.
    void killDaemon();
    /// @brief True while rpmsgd runs.
    bool daemonAlive();
    pid_t daemonPid() const { return daemon_.pid(); }
    /// @brief Everything rpmsgd wrote to stdout/stderr so far (all instances).
    std::string daemonLog() const;
    /// @brief rpmsgd log, bus log and sim log, for failure messages.
    std::string logs();

    /// @brief The emulated service manager (null when EnvOptions::serviceManager is false).
    ServiceManager* serviceManager() { return manager_.get(); }

    /// @brief True when the bus name has an owner (one NameHasOwner call).
    bool nameHasOwner() const;

    /// @brief Rewrites the rpmsgd config file (a later Reload/SIGHUP picks it up).
    void writeConfig(const nlohmann::json& config) const;
    /// @brief Writes raw text as the rpmsgd config file.
    void writeConfigText(const std::string& text) const;
    const nlohmann::json& config() const { return config_; }
    std::string configPath() const { return root() + "/rpmsgd.json"; }

    const std::string& root() const { return tmp_->path(); }
    const std::string& busAddress() const { return bus_.address(); }
    simtest::Sim& sim() { return *sim_; }
    const simtest::Sim& sim() const { return *sim_; }
    /// @brief MOUNT/rel (/rel on the real kernel).
    std::string mountPath(const std::string& rel) const {
        return realKernel_ ? "/" + rel : sim_->path(rel);
    }
    bool realKernel() const { return realKernel_; }
    std::string firmwareDir() const { return sim_->firmwareDir(); }

    /// @brief `rpmsg-sim ctl MOUNT args...`; "" on success, else the error output.
    std::string ctl(const std::vector<std::string>& args) const;

private:
    std::string startBus(const std::vector<std::string>& policies);

    std::unique_ptr<simtest::TempDir> tmp_;
    std::unique_ptr<simtest::Sim> sim_;
    std::unique_ptr<ServiceManager> manager_;
    nlohmann::json config_;
    harness::PrivateBus bus_;
    simtest::ChildProcess daemon_;
    bool realKernel_ = false;
};

} // namespace itest
