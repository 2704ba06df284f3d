// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl on tty channels (API 1.1 Kind tty): `console` with stdin a pipe (the bytes go
// through, the echo comes back), on a pseudo-terminal (raw mode while it runs, Ctrl-] quits,
// the terminal restored), its refusals (--json, a message channel), `open` streaming bytes on
// a tty channel, and the client library's channelKind().

#include "ctl_runner.h"
#include "fixture.h"
#include "rpmsgd/client.h"

#include <cerrno>
#include <chrono>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace ctltest {
namespace {

using itest::DaemonTest;
using itest::EnvOptions;

constexpr int Usage = 2;
constexpr int InvalidArgumentExit = 5;

class RpmsgctlTty : public DaemonTest {
protected:
    void configure(EnvOptions& o) override {
        o.firmware["services"].push_back({{"name", "rpmsg-tty"}, {"addr", 30}, {"kind", "tty"}});
    }
    void startTty() {
        startCm4();
        root().waitForChannel("rpmsg-tty", "cm4", 5000);
    }
};

/// Reads from @p fd until @p want appears, it ends, or 10 s pass.
std::string readUntil(int fd, const std::string& want) {
    std::string got;
    while (got.find(want) == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10000) <= 0) {
            break;
        }
        char buf[256];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        got.append(buf, size_t(n));
    }
    return got;
}

TEST_F(RpmsgctlTty, ClientLibrarySeesTheKind) {
    startTty();
    rpmsgd::client::Client c;
    EXPECT_EQ(c.channelKind("rpmsg-tty", "cm4"), "tty");
    EXPECT_EQ(c.channelKind("rpmsg-echo", "cm4"), "message");
    auto ep = c.openChannel("rpmsg-tty", "cm4");
    EXPECT_TRUE(isatty(ep.fd()));
    ep.send("lib\n");
    EXPECT_EQ(ep.receive(std::chrono::seconds(5)), "lib\n");
}

TEST_F(RpmsgctlTty, ConsoleWithStdinAPipeSendsItsBytesAndPrintsTheEcho) {
    startTty();
    RunOptions o;
    o.input = "hello console\n";
    Result r = ctl({"console", "rpmsg-tty", "-p", "cm4"}, o);
    EXPECT_EQ(r.code, 0) << r.str();
    EXPECT_EQ(r.out, "hello console\n") << r.str();
}

TEST_F(RpmsgctlTty, OpenOnATtyChannelStreamsBytes) {
    startTty();
    RunOptions o;
    o.input = "no newline at the end";
    Result r = ctl({"open", "rpmsg-tty"}, o);
    EXPECT_EQ(r.code, 0) << r.str();
    EXPECT_EQ(r.out, "no newline at the end") << r.str();
    Result hex = ctl({"open", "rpmsg-tty", "--hex"}, o);
    EXPECT_EQ(hex.code, Usage) << hex.str();
    EXPECT_NE(hex.err.find("--hex does not apply"), std::string::npos) << hex.str();
}

TEST_F(RpmsgctlTty, ConsoleRefusesJsonAndMessageChannels) {
    startTty();
    Result json = ctl({"--json", "console", "rpmsg-tty"});
    EXPECT_EQ(json.code, Usage) << json.str();
    EXPECT_NE(json.err.find("--json does not apply"), std::string::npos) << json.str();
    EXPECT_EQ(json.out, "");
    Result msg = ctl({"console", "rpmsg-echo"});
    EXPECT_EQ(msg.code, InvalidArgumentExit) << msg.str();
    EXPECT_NE(msg.err.find("is not a tty"), std::string::npos) << msg.str();
}

TEST_F(RpmsgctlTty, ConsoleOnATerminalIsRawUntilCtrlBracketAndRestoresIt) {
    startTty();
    const std::string bin = rpmsgctlBinary();
    int master = -1;
    pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    ASSERT_GE(pid, 0) << strerror(errno);
    if (pid == 0) {
        execl(bin.c_str(), bin.c_str(), "console", "rpmsg-tty", "-p", "cm4",
              static_cast<char*>(nullptr));
        _exit(127);
    }
    // The banner says how to quit; by then the terminal is raw.
    std::string seen = readUntil(master, "Ctrl-] to quit");
    ASSERT_NE(seen.find("Ctrl-] to quit"), std::string::npos) << seen;
    termios during{};
    ASSERT_EQ(tcgetattr(master, &during), 0);
    EXPECT_EQ(during.c_lflag & (ICANON | ECHO | ISIG), 0u) << "raw while it runs";
    // Typed bytes go to the tty (not echoed by the local terminal) and come back from the
    // remote; then Ctrl-] ends it.
    ASSERT_EQ(::write(master, "typed", 5), 5);
    seen = readUntil(master, "typed");
    EXPECT_NE(seen.find("typed"), std::string::npos) << seen;
    ASSERT_EQ(::write(master, "\x1d", 1), 1);
    int status = -1;
    bool reaped = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!reaped && std::chrono::steady_clock::now() < deadline) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            reaped = true;
            break;
        }
        // Drain what it prints (it could block on a full terminal); after its exit the
        // terminal hangs up before the child can be reaped, so then just wait a little.
        pollfd p{master, POLLIN, 0};
        char buf[256];
        ssize_t n = ::poll(&p, 1, 100) > 0 ? ::read(master, buf, sizeof buf) : 0;
        if (n > 0) {
            seen.append(buf, size_t(n));
        } else {
            usleep(10000);
        }
    }
    if (!reaped || !WIFEXITED(status)) {
        if (!reaped) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
        }
        FAIL() << "console did not end on Ctrl-] (wait status " << status << "): " << seen;
    }
    EXPECT_EQ(WEXITSTATUS(status), 0) << seen;
    termios after{};
    ASSERT_EQ(tcgetattr(master, &after), 0);
    EXPECT_NE(after.c_lflag & ICANON, 0u) << "the terminal is restored";
    EXPECT_NE(after.c_lflag & ECHO, 0u) << "the terminal is restored";
    ::close(master);
    // The lease ended with it: the tty is free again.
    rpmsgd::client::Client c;
    auto ep = c.openChannel("rpmsg-tty", "cm4");
    EXPECT_TRUE(ep.isOpen());
}

} // namespace
} // namespace ctltest
