// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "daemon_env.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>

namespace itest {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string describeStatus(int status) {
    if (WIFEXITED(status)) {
        return "exit code " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return std::string("killed by signal ") + strsignal(WTERMSIG(status));
    }
    return "wait status " + std::to_string(status);
}

} // namespace

std::string daemonBinary() {
    if (const char* env = std::getenv("RPMSGD"); env != nullptr && *env != '\0') {
        return env;
    }
    return RPMSGD_DEFAULT_PATH;
}

std::string policyFile() {
    if (const char* env = std::getenv("RPMSGD_POLICY"); env != nullptr && *env != '\0') {
        return env;
    }
    return RPMSGD_POLICY_DEFAULT_PATH;
}

std::string skipReason(bool realKernel) {
    if (::geteuid() != 0) {
        return "daemon integration tests need root (FUSE allow_other mounts, root-owned nodes, "
               "the bus name is root's only, and the tests switch to nobody)";
    }
    if (auto r = realKernel ? std::string() : simtest::skipReason(); !r.empty()) {
        return r;
    }
    if (::access(daemonBinary().c_str(), X_OK) != 0) {
        return "rpmsgd binary " + daemonBinary() + " is missing (set RPMSGD)";
    }
    if (::access(policyFile().c_str(), R_OK) != 0) {
        return "bus policy " + policyFile() + " is missing (set RPMSGD_POLICY)";
    }
    if (::access("/usr/bin/dbus-daemon", X_OK) != 0) {
        return "dbus-daemon is not installed (/usr/bin/dbus-daemon)";
    }
    return {};
}

nlohmann::json echoFirmwareSpec(int bootMs) {
    using nlohmann::json;
    return {
        {"boot_ms", bootMs},
        {"services",
         json::array({
             {{"name", "rpmsg-echo"}, {"addr", 1024}, {"kind", "echo"}},
             {{"name", "rpmsg-sensor"},
              {"addr", 1025},
              {"kind", "stream"},
              {"rate_hz", 10},
              {"size", 16}},
             {{"name", "rpmsg-sink"}, {"addr", 1026}, {"kind", "sink"}, {"consume_every_ms", 10}},
             {{"name", "hidden"}, {"addr", 1027}, {"kind", "echo"}, {"announce", false}},
         })},
        {"trace", json::array({"boot ok", "echo ready"})},
    };
}

DaemonEnv::DaemonEnv() : tmp_(std::make_unique<simtest::TempDir>("rpmsgd-it")) {
    sim_ = std::make_unique<simtest::Sim>(tmp_->path() + "/sim");
}

DaemonEnv::~DaemonEnv() {
    stopDaemon();
    bus_.stop();
    sim_->shutdown();
    // Both have exited now (LeakSanitizer reports at exit): a sanitizer report in either log
    // fails the test that ran them, even when everything it asserted held.
    const std::string daemonLogText = simtest::readFile(root() + "/rpmsgd.log").data;
    if (const auto report = simtest::sanitizerReport(daemonLogText); !report.empty()) {
        ADD_FAILURE() << "rpmsgd reported a sanitizer error:\n" << report;
    }
    if (const auto report = simtest::sanitizerReport(sim_->log()); !report.empty()) {
        ADD_FAILURE() << "rpmsg-sim reported a sanitizer error:\n" << report;
    }
}

std::string DaemonEnv::start(const EnvOptions& options) {
    realKernel_ = options.realKernel;
    if (!realKernel_) {
        if (auto r = sim_->mkfw("echo.elf", options.firmware); r.exitCode != 0) {
            return "mkfw echo.elf failed: " + r.err;
        }
        simtest::SimOptions simOptions;
        simOptions.config = options.simConfig;
        simOptions.uevents = options.uevents;
        std::string error;
        if (!sim_->start(simOptions, error)) {
            return "rpmsg-sim did not start: " + error;
        }
    }
    if (auto e = startBus(options.busPolicies); !e.empty()) {
        return e;
    }
    fs::create_directories(root() + "/state");
    if (options.serviceManager) {
        manager_ = std::make_unique<ServiceManager>(root() + "/notify");
        if (!manager_->error().empty()) {
            return manager_->error();
        }
    }
    const std::string mnt = realKernel_ ? "" : sim_->mountDir();
    config_ = {
        {"paths",
         {{"sysfs", mnt + "/sys"},
          {"dev", mnt + "/dev"},
          {"debugfs", mnt + "/sys/kernel/debug"},
          {"firmware", realKernel_ ? "/lib/firmware" : sim_->firmwareDir()},
          {"state", root() + "/state"}}},
        {"watch", {{"mode", "poll"}, {"poll_interval_ms", 50}, {"state_interval_ms", 50}}},
        {"managers", {{"users", nlohmann::json::array()}, {"groups", {"users"}}}},
        {"channels", {{{"match", "*"}, {"processor", "*"}, {"groups", {"nogroup"}}}}},
    };
    if (options.editConfig) {
        options.editConfig(config_);
    }
    writeConfig(config_);
    if (options.startDaemon) {
        return startDaemon();
    }
    return {};
}

std::string DaemonEnv::startBus(const std::vector<std::string>& policies) {
    if (auto e = bus_.start(root() + "/bus", policyFile(), policies); !e.empty()) {
        return e;
    }
    // Every sd-bus user in this process and its children (rpmsgd, the clients) uses it.
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_.address().c_str(), 1);
    return {};
}

void DaemonEnv::writeConfig(const nlohmann::json& config) const {
    writeConfigText(config.dump(2) + "\n");
}

void DaemonEnv::writeConfigText(const std::string& text) const {
    simtest::writeTextFile(configPath(), text);
}

std::string DaemonEnv::startDaemon(std::chrono::milliseconds timeout) {
    if (daemonAlive()) {
        return "rpmsgd is already running";
    }
    const std::string logPath = root() + "/rpmsgd.log";
    const int logFd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logFd < 0) {
        return "cannot open " + logPath + ": " + std::strerror(errno);
    }
    const std::string banner = "==== rpmsgd --config " + configPath() + " ====\n";
    (void)!::write(logFd, banner.data(), banner.size());
    ::close(logFd);
    std::vector<std::string> argv = {daemonBinary(), "--config", configPath()};
    std::vector<std::string> envStrings;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string s = *e;
        if (s.rfind("DBUS_SYSTEM_BUS_ADDRESS=", 0) != 0 && s.rfind("RPMSGD_DEBUG=", 0) != 0 &&
            s.rfind("NOTIFY_SOCKET=", 0) != 0) {
            envStrings.push_back(s);
        }
    }
    envStrings.push_back("DBUS_SYSTEM_BUS_ADDRESS=" + bus_.address());
    envStrings.push_back("RPMSGD_DEBUG=1");
    std::vector<std::pair<std::string, int>> stored;
    if (manager_) {
        envStrings.push_back("NOTIFY_SOCKET=" + manager_->socketPath());
        stored = manager_->storeCopies();
        if (!stored.empty()) {
            std::string names;
            for (const auto& [name, fd] : stored) {
                names += (names.empty() ? "" : ":") + name;
            }
            envStrings.push_back("LISTEN_FDNAMES=" + names);
        }
    }
    std::string error;
    simtest::SpawnOptions spawn;
    for (const auto& [name, fd] : stored) {
        spawn.passFds.push_back(fd);
    }
    spawn.logPath = logPath;
    spawn.appendLog = true;
    spawn.env = std::move(envStrings);
    spawn.deathSignal = SIGKILL;
    simtest::Spawned child = simtest::spawnLogged(argv, spawn, error);
    for (const auto& [name, fd] : stored) {
        ::close(fd);
    }
    if (child.pid < 0) {
        return error;
    }
    daemon_.reset(child.pid);
    const auto deadline = Clock::now() + timeout;
    while (true) {
        if (!daemonAlive()) {
            return "rpmsgd exited before taking the bus name (" +
                   describeStatus(daemon_.status().value_or(-1)) + ")\n" + daemonLog();
        }
        if (nameHasOwner()) {
            return {};
        }
        if (Clock::now() >= deadline) {
            return "rpmsgd did not take the name " + std::string(BusName) + " within " +
                   std::to_string(timeout.count()) + " ms\n" + daemonLog();
        }
        std::this_thread::sleep_for(20ms);
    }
}

bool DaemonEnv::daemonAlive() {
    return daemon_.alive();
}

std::optional<int> DaemonEnv::stopDaemon(std::chrono::milliseconds timeout) {
    return daemon_.stop(timeout);
}

void DaemonEnv::signalDaemon(int sig) {
    daemon_.signal(sig);
}

void DaemonEnv::killDaemon() {
    daemon_.signal(SIGKILL);
    daemon_.waitExit(10s);
}

std::string DaemonEnv::daemonLog() const {
    return "---- rpmsgd log ----\n" + simtest::readFile(root() + "/rpmsgd.log").data +
           "--------------------\n";
}

std::string DaemonEnv::logs() {
    return daemonLog() + bus_.log() + (realKernel_ ? "" : sim_->log());
}

bool DaemonEnv::nameHasOwner() const {
    try {
        auto conn = sdbus::createSystemBusConnection();
        auto proxy = sdbus::createProxy(*conn, "org.freedesktop.DBus", "/org/freedesktop/DBus");
        bool has = false;
        proxy->callMethod("NameHasOwner")
            .onInterface("org.freedesktop.DBus")
            .withArguments(std::string(BusName))
            .storeResultsTo(has);
        return has;
    } catch (const sdbus::Error&) {
        return false;
    }
}

std::string DaemonEnv::ctl(const std::vector<std::string>& args) const {
    if (realKernel_) {
        return "ctl is the sim's: there is no sim on the real kernel";
    }
    const auto r = sim_->ctl(args);
    if (r.exitCode == 0) {
        return {};
    }
    std::string cmd;
    for (const auto& a : args) {
        cmd += " " + a;
    }
    return "ctl" + cmd + " failed (" + std::to_string(r.exitCode) + "): " + r.err;
}

} // namespace itest
