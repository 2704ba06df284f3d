// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "kernel_fixture.h"

#include <cerrno>
#include <iostream>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kerneltest {

void KernelTest::SetUp() {
    if (const auto why = simtest::skipReason(); !why.empty()) {
        GTEST_SKIP() << why;
    }
    const std::string bin = simtest::simBinary();
    ASSERT_EQ(::access(bin.c_str(), X_OK), 0)
        << "rpmsg-sim binary not found: '" << bin << "' (set RPMSG_SIM to its path)";
    tmp_ = std::make_unique<simtest::TempDir>("rpmsgd-kernel-test");
    sim_ = std::make_unique<simtest::Sim>(tmp_->path());
    paths_.sysfs = sim_->mountDir() + "/sys";
    paths_.dev = sim_->mountDir() + "/dev";
    paths_.debugfs = sim_->mountDir() + "/sys/kernel/debug";
    paths_.firmware = sim_->firmwareDir();
}

void KernelTest::TearDown() {
    if (!sim_) {
        return;
    }
    sim_->shutdown();
    if (const auto report = simtest::sanitizerReport(sim_->log()); !report.empty()) {
        ADD_FAILURE() << "rpmsg-sim reported a sanitizer error:\n" << report;
    }
    if (HasFailure()) {
        std::cout << "---- rpmsg-sim log ----\n" << sim_->log() << "-----------------------\n";
    }
    sim_.reset();
    tmp_.reset();
}

void KernelTest::startSim(const nlohmann::json& spec,
                          const std::function<void(nlohmann::json&)>& edit,
                          const std::string& kernel) {
    const auto built = sim_->mkfw("echo.elf", spec);
    ASSERT_EQ(built.exitCode, 0) << "mkfw failed: " << built.err << built.out;
    auto config = simtest::defaultConfig();
    if (!kernel.empty()) {
        config["kernel"] = kernel;
    }
    if (edit) {
        edit(config);
    }
    simtest::SimOptions options;
    options.config = config;
    options.kernel = kernel;
    std::string error;
    ASSERT_TRUE(sim_->start(options, error)) << error;
}

void KernelTest::ctlOk(std::initializer_list<std::string> args) {
    const auto r = sim_->ctl(args);
    ASSERT_EQ(r.exitCode, 0) << "ctl failed: " << r.err << r.out;
}

nlohmann::json KernelTest::processor(const std::string& id) {
    const auto d = dump(); // a named copy: iterating dump()["..."] would dangle
    for (const auto& p : d["processors"]) {
        if (p["id"] == id) {
            return p;
        }
    }
    return nullptr;
}

nlohmann::json KernelTest::eptdev(const std::string& device) {
    const auto d = dump();
    for (const auto& e : d["eptdevs"]) {
        if (e["device"] == device) {
            return e;
        }
    }
    return nullptr;
}

bool KernelTest::waitBusDevice(const std::string& device, std::chrono::milliseconds timeout) {
    return simtest::waitFor([&] { return exists("sys/bus/rpmsg/devices/" + device); }, timeout);
}

std::string KernelTest::ctrlOf(const std::string& id) {
    const auto p = processor(id);
    if (p.is_null() || !p["ctrl"].is_string()) {
        return "";
    }
    return p["ctrl"].get<std::string>();
}

std::string KernelTest::roundTrip(int fd, const std::string& text,
                                  std::chrono::milliseconds timeout) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
        return "<errno " + std::to_string(errno) + ">";
    }
    pollfd p{};
    p.fd = fd;
    p.events = POLLIN;
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) {
        return "<timeout>";
    }
    char buf[512];
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0) {
        return "<errno " + std::to_string(errno) + ">";
    }
    return std::string(buf, static_cast<size_t>(got));
}

bool KernelTest::exists(const std::string& rel) const {
    struct stat st {};
    return ::lstat(sim_->path(rel).c_str(), &st) == 0;
}

} // namespace kerneltest
