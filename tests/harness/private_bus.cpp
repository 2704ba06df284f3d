// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "private_bus.h"

#include "fd_io.h"
#include "sim_harness.h"

#include <csignal>
#include <filesystem>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace harness {

using namespace std::chrono_literals;

std::string systemBusDefaults() {
    return simtest::readFile(RPMSGD_BUS_DEFAULTS_PATH).data;
}

std::string PrivateBus::start(const std::string& dir, const std::string& policy,
                              const std::vector<std::string>& more) {
    std::filesystem::create_directories(dir);
    ::chmod(dir.c_str(), 0755); // nobody must reach the socket
    const std::string socket = dir + "/bus.sock";
    logPath_ = dir + "/bus.log";
    std::vector<std::string> argv = {"/usr/bin/dbus-daemon", "--nofork",
                                     "--address=unix:path=" + socket, "--print-address=1"};
    if (policy.empty()) {
        argv.emplace_back("--session");
    } else {
        const std::string conf = dir + "/bus.conf";
        std::string includes = "  <include>" + policy + "</include>\n";
        for (const auto& p : more) {
            includes += "  <include>" + p + "</include>\n";
        }
        simtest::writeTextFile(
            conf,
            R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
)" + systemBusDefaults() +
                includes + "</busconfig>\n");
        argv.push_back("--config-file=" + conf);
    }
    std::string error;
    simtest::SpawnOptions spawn;
    spawn.logPath = logPath_;
    spawn.captureStdout = true;
    const simtest::Spawned bus = simtest::spawnLogged(argv, spawn, error);
    if (bus.pid < 0) {
        return error;
    }
    process_.reset(bus.pid);
    stdout_ = bus.stdoutFd;
    LineReader lines(stdout_);
    // Generous: in a User-Mode Linux guest of the real-kernel lane, on a loaded machine, the
    // bus's first getrandom() can wait seconds for the guest's entropy (a lane run once timed
    // out at 10 s with nothing logged).
    const auto line = lines.readLine(30s);
    if (!line) {
        return "dbus-daemon did not print its address within 30 s:\n" + log();
    }
    address_ = *line;
    // The socket inherits our umask; others need write permission to connect.
    ::chmod(socket.c_str(), 0777);
    return {};
}

void PrivateBus::stop() {
    process_.stop(5s);
    if (stdout_ >= 0) {
        ::close(stdout_);
        stdout_ = -1;
    }
}

std::string PrivateBus::log() const {
    return "---- dbus-daemon log ----\n" + simtest::readFile(logPath_).data;
}

} // namespace harness
