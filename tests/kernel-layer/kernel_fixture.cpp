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
    SimTest::SetUp();
    if (sim_) {
        paths_.sysfs = sim_->mountDir() + "/sys";
        paths_.dev = sim_->mountDir() + "/dev";
        paths_.debugfs = sim_->mountDir() + "/sys/kernel/debug";
        paths_.firmware = sim_->firmwareDir();
    }
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

} // namespace kerneltest
