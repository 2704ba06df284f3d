// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Byte streams over tty channels (API 1.1 Kind "tty"): `console`, an interactive terminal on
// one, and the stream `open` runs when the channel it opened is a tty. Stdin goes to the tty
// as it comes, what the tty gives goes to stdout. The console puts a terminal stdin in raw
// mode and restores it on every way out (return, exception, SIGINT/SIGTERM); Ctrl-] quits.

#include "exit_codes.h"
#include "stop_signals.h"
#include "verbs.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

namespace rpmsgctl {

namespace rc = rpmsgd::client;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr char QuitByte = 0x1d; // Ctrl-]

/// A terminal's settings while the console runs raw; put back when it goes.
class RawTerminal {
public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (!isatty(fd) || tcgetattr(fd, &saved_) != 0) {
            return;
        }
        termios raw = saved_;
        cfmakeraw(&raw);
        if (tcsetattr(fd, TCSAFLUSH, &raw) == 0) {
            active_ = true;
        }
    }
    ~RawTerminal() {
        if (active_) {
            tcsetattr(fd_, TCSAFLUSH, &saved_);
        }
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;
    bool active() const { return active_; }

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

void writeAll(int fd, const char* data, size_t size, const char* what) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, -1);
                continue;
            }
            if (errno == EIO) {
                throw rc::Error(rc::ErrorCode::Unavailable,
                                "the channel's tty was hung up (its lease ended)");
            }
            throw rc::Error(rc::ErrorCode::IoError,
                            std::string(what) + ": " + std::strerror(errno));
        }
        data += n;
        size -= size_t(n);
    }
}

/// Streams until the tty hangs up, a stop signal, Ctrl-] (with @p quitByte), or stdin ended
/// and the tty stayed quiet for @p linger.
int stream(int tty, bool quitByte, milliseconds linger) {
    catchStopSignals();
    bool stdinOpen = true;
    Clock::time_point quietUntil{};
    while (!stopRequested()) {
        pollfd fds[2] = {{tty, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int ms = -1;
        if (!stdinOpen) {
            const auto left = std::chrono::duration_cast<milliseconds>(quietUntil - Clock::now());
            ms = static_cast<int>(std::max<long long>(0, left.count()));
        }
        const int r = ::poll(fds, stdinOpen ? 2 : 1, ms);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw rc::Error(rc::ErrorCode::IoError, std::string("poll: ") + std::strerror(errno));
        }
        if (r == 0) {
            break; // stdin ended and the tty stayed quiet for the linger time
        }
        if (fds[0].revents != 0) {
            char buf[4096];
            const ssize_t n = ::read(tty, buf, sizeof buf);
            if (n > 0) {
                writeAll(STDOUT_FILENO, buf, size_t(n), "writing stdout");
                quietUntil = Clock::now() + linger;
            } else if (n == 0 || errno == EIO) {
                throw rc::Error(rc::ErrorCode::Unavailable,
                                "the channel's tty was hung up (its lease ended)");
            } else if (errno != EINTR && errno != EAGAIN) {
                throw rc::Error(rc::ErrorCode::IoError,
                                std::string("reading the tty: ") + std::strerror(errno));
            }
        }
        if (stdinOpen && fds[1].revents != 0) {
            char buf[4096];
            const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0 && errno != EINTR && errno != EAGAIN) {
                throw rc::Error(rc::ErrorCode::IoError,
                                std::string("reading stdin: ") + std::strerror(errno));
            }
            if (n == 0) {
                stdinOpen = false;
                quietUntil = Clock::now() + linger;
                continue;
            }
            if (n > 0) {
                size_t len = size_t(n);
                bool quit = false;
                if (quitByte) {
                    if (const void* q = std::memchr(buf, QuitByte, len)) {
                        len = size_t(static_cast<const char*>(q) - buf);
                        quit = true;
                    }
                }
                writeAll(tty, buf, len, "writing the tty");
                if (quit) {
                    break;
                }
            }
        }
    }
    return ExitOk;
}

} // namespace

int streamTty(rc::Endpoint& ep, milliseconds linger) {
    const int r = stream(ep.fd(), false, linger);
    ep.close();
    return r;
}

int runConsole(Context& ctx, const Args& a) {
    if (ctx.json) {
        throw UsageError("console: --json does not apply: console is an interactive terminal, "
                         "it prints the channel's bytes as they come");
    }
    const std::string name = a.positional()[0];
    const milliseconds wait(a.number("timeout", 5000));
    const auto info = ctx.c().waitForChannel(name, a.value("processor"), wait);
    if (ctx.c().channelKind(name, info.processor) != "tty") {
        throw rc::Error(rc::ErrorCode::InvalidArgument,
                        "channel '" + name + "' on " + info.processor +
                            " is not a tty (Kind message); use `rpmsgctl open` for it");
    }
    auto ep = ctx.c().openChannel(name, info.processor, wait);
    int r = ExitOk;
    {
        RawTerminal raw(STDIN_FILENO);
        if (raw.active()) {
            ::dprintf(STDERR_FILENO, "Connected to %s on %s. Press Ctrl-] to quit.\r\n",
                      name.c_str(), info.processor.c_str());
        }
        r = stream(ep.fd(), true, milliseconds(a.number("linger", 500)));
    }
    ep.close();
    return r;
}

} // namespace rpmsgctl
