// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Kernel-like permissions under allow_other,default_permissions: an unprivileged process reads
// attributes but cannot open the nodes itself; an fd handed to it works (docs/simulator.md
// "Command line").

#include "fd_io.h"
#include "sim_fixture.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace simtest {
namespace {

/// Runs @p fn in a forked child that dropped to nobody; returns the key=value lines it reported.
std::map<std::string, std::string> runAsNobody(const std::function<std::string()>& fn) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        return {{"error", "pipe"}};
    }
    const int rc = runInChild([&] {
        ::close(p[0]);
        std::string report;
        if (!dropToNobody()) {
            report = std::string("error=cannot drop privileges: ") + std::strerror(errno) + "\n";
        } else {
            report = fn();
        }
        const ssize_t n = ::write(p[1], report.data(), report.size());
        return n == static_cast<ssize_t>(report.size()) ? 0 : 1;
    });
    ::close(p[1]);
    const std::string text = harness::readToEnd(p[0]);
    ::close(p[0]);
    std::map<std::string, std::string> out;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) {
            out[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    out["exit"] = std::to_string(rc);
    return out;
}

std::string openErrno(const std::string& p, int flags) {
    const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
    if (fd >= 0) {
        ::close(fd);
        return "0";
    }
    return std::to_string(errno);
}

class Privileges : public SimTest {
protected:
    void up() override {
        ASSERT_NO_FATAL_FAILURE(startEchoSim());
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
        ctrl_ = openCtrl();
        dev_ = createEptDev(ctrl_.get(), "priv", RPMSG_ADDR_ANY, 1024);
        ASSERT_FALSE(dev_.empty());
    }
    std::string dev_;
};

TEST_F(Privileges, NobodyReadsAttributesButCannotOpenNodesOrWrite) {
    const auto r = runAsNobody([&] {
        std::ostringstream o;
        o << "uid=" << ::geteuid() << "\n";
        const auto state = readFile(path(rproc(0, "state")));
        o << "state_err=" << state.err << "\nstate=" << state.data;
        const auto name = readFile(path(busDev("virtio0.rpmsg-echo.-1.1024", "name")));
        o << "busname_err=" << name.err << "\n";
        o << "class_list=" << listDir(path("sys/class/remoteproc")).size() << "\n";
        o << "open_ept=" << openErrno(path("dev/" + dev_), O_RDWR) << "\n";
        o << "open_ept_ro=" << openErrno(path("dev/" + dev_), O_RDONLY) << "\n";
        o << "open_ctrl=" << openErrno(path("dev/rpmsg_ctrl0"), O_RDWR) << "\n";
        o << "write_state=" << openErrno(path(rproc(0, "state")), O_WRONLY) << "\n";
        o << "write_firmware=" << openErrno(path(rproc(0, "firmware")), O_WRONLY) << "\n";
        o << "control=" << openErrno(path(".rpmsg-sim/control"), O_RDWR) << "\n";
        o << "debugfs_name=" << openErrno(path(debugfs(0, "name")), O_RDONLY) << "\n";
        o << "devcd_disabled=" << openErrno(path("sys/class/devcoredump/disabled"), O_WRONLY)
          << "\n";
        return o.str();
    });
    EXPECT_EQ(r.at("exit"), "0");
    EXPECT_EQ(r.count("error"), 0u) << r.at("error");
    EXPECT_EQ(r.at("uid"), "65534");
    EXPECT_EQ(r.at("state_err"), "0");
    EXPECT_EQ(r.at("state"), "running");
    EXPECT_EQ(r.at("busname_err"), "0");
    EXPECT_EQ(r.at("class_list"), "2");
    const std::string eacces = std::to_string(EACCES);
    for (const char* k : {"open_ept", "open_ept_ro", "open_ctrl", "write_state", "write_firmware",
                          "control", "debugfs_name", "devcd_disabled"}) {
        EXPECT_EQ(r.count(k), 1u) << k;
        if (r.count(k) != 0) {
            EXPECT_EQ(r.at(k), eacces) << k;
        }
    }
    // The sim is unharmed and the node was not opened by the attempt.
    Fd fd = openDev(dev_);
    EXPECT_TRUE(fd.valid());
}

TEST_F(Privileges, PassedFdWorksForNobody) {
    Fd ept = openDev(dev_);
    ASSERT_TRUE(ept.valid());
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(sv[0]);
        std::string result = "fail";
        if (dropToNobody()) {
            harness::FdMessage m = harness::receiveFds(sv[1], 1, 1);
            const int fd = m.fds.empty() ? -1 : m.fds.front();
            const int own = ::open(path("dev/" + dev_).c_str(), O_RDWR);
            if (fd < 0) {
                result = "no fd received";
            } else if (own >= 0 || errno != EACCES) {
                result = "nobody could open the node itself";
            } else if (::write(fd, "from-nobody", 11) != 11) {
                result = std::string("write: ") + std::strerror(errno);
            } else {
                pollfd p{fd, POLLIN, 0};
                char buf[64];
                ssize_t n = -1;
                if (::poll(&p, 1, 5000) == 1) {
                    n = ::read(fd, buf, sizeof buf);
                }
                result = n > 0 ? std::string(buf, static_cast<size_t>(n))
                               : std::string("read: ") + std::strerror(errno);
            }
        }
        (void)!::write(sv[1], result.data(), result.size());
        ::_exit(0);
    }
    ASSERT_GT(child, 0);
    ::close(sv[1]);
    ASSERT_EQ(harness::sendFds(sv[0], "f", {ept.get()}), 0);
    std::string result;
    pollfd p{sv[0], POLLIN, 0};
    if (::poll(&p, 1, 10000) == 1) {
        result = harness::readToEnd(sv[0]);
    }
    ::close(sv[0]);
    int status = 0;
    if (!waitFor([&] { return ::waitpid(child, &status, WNOHANG) == child; }, 5s)) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
    }
    EXPECT_EQ(result, "from-nobody");
}

} // namespace
} // namespace simtest
