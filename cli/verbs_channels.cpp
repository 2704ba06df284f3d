// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl's channel verbs: channels, open, send, recv, ping and wait. Each opens an endpoint of
// its own (or waits for a channel) and ends it on exit or on SIGINT/SIGTERM.

#include "exit_codes.h"
#include "stop_signals.h"
#include "verbs.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <poll.h>
#include <unistd.h>

namespace rpmsgctl {

namespace {

namespace rc = rpmsgd::client;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds channelWait(const Args& a, unsigned long long fallback = 5000) {
    return milliseconds(a.number("timeout", fallback));
}

// Prints one received message in the verb's format.
void printMessage(Context& ctx, bool hex, const std::string& msg) {
    if (ctx.json) {
        printJsonLine(messageJson(msg));
        return;
    }
    if (hex) {
        outLine(toHex(msg));
    } else {
        out(msg);
        if (msg.empty() || msg.back() != '\n') {
            out("\n");
        }
    }
    flushStream();
}

// Waits for the endpoint to be readable until @p deadline (nullopt: forever) or a stop signal;
// true when a message is waiting.
bool waitReadable(const rc::Endpoint& ep, std::optional<Clock::time_point> deadline) {
    while (!stopRequested()) {
        int ms = -1;
        if (deadline) {
            const auto left = std::chrono::duration_cast<milliseconds>(*deadline - Clock::now());
            ms = static_cast<int>(std::max<long long>(0, left.count()));
        }
        pollfd p{ep.fd(), POLLIN, 0};
        const int r = ::poll(&p, 1, ms);
        if (r > 0) {
            return true;
        }
        if (r == 0) {
            return false;
        }
        if (errno != EINTR) {
            throw rc::Error(rc::ErrorCode::IoError,
                            std::string("waiting for a message: ") + std::strerror(errno));
        }
    }
    return false;
}

} // namespace

int runChannels(Context& ctx, const Args& a) {
    const auto chans = ctx.c().channels(a.positional().empty() ? std::string() : a.positional()[0]);
    if (ctx.json) {
        json j = json::array();
        for (const auto& c : chans) {
            json cj = toJson(c);
            cj["open_count"] = ctx.c().channelOpenCount(c.name, c.processor);
            j.push_back(cj);
        }
        printJson(j);
    } else if (a.has("quiet")) {
        for (const auto& c : chans) {
            outLine(c.name);
        }
    } else {
        Table t({"NAME", "PROCESSOR", "ADDRESS", "MTU", "ENDPOINTS", "OPENS", "DEVICE"});
        for (const auto& c : chans) {
            t.add({c.name, c.processor, std::to_string(c.remoteAddress), std::to_string(c.mtu),
                   std::to_string(c.endpoints),
                   std::to_string(ctx.c().channelOpenCount(c.name, c.processor)), c.device});
        }
        t.print(ctx.style);
    }
    return ExitOk;
}

int runWait(Context& ctx, const Args& a) {
    const auto c =
        ctx.c().waitForChannel(a.positional()[0], a.value("processor"), channelWait(a, 30000));
    if (ctx.json) {
        printJson(toJson(c));
    } else {
        outLine(c.name + " on " + c.processor + " (address " + std::to_string(c.remoteAddress) +
                ", mtu " + std::to_string(c.mtu) + ")");
    }
    return ExitOk;
}

int runSend(Context& ctx, const Args& a) {
    const auto& pos = a.positional();
    const std::string data = a.has("hex") ? fromHex(pos[1]) : pos[1];
    auto ep = ctx.c().openChannel(pos[0], a.value("processor"), channelWait(a));
    ep.send(data);
    if (a.has("reply")) {
        catchStopSignals();
        const auto deadline = Clock::now() + channelWait(a);
        if (!waitReadable(ep, deadline)) {
            throw rc::Error(rc::ErrorCode::Timeout, "no reply from '" + pos[0] + "' within " +
                                                        std::to_string(channelWait(a).count()) +
                                                        " ms");
        }
        printMessage(ctx, a.has("hex"), ep.receive(milliseconds(0)));
    }
    ep.close();
    return ExitOk;
}

int runRecv(Context& ctx, const Args& a) {
    const auto count = a.number("count", 1, 1);
    auto ep = ctx.c().openChannel(a.positional()[0], a.value("processor"), channelWait(a));
    if (a.has("send")) {
        ep.send(a.has("hex") ? fromHex(a.value("send")) : a.value("send"));
    }
    catchStopSignals();
    std::optional<Clock::time_point> deadline;
    if (a.has("timeout")) {
        deadline = Clock::now() + channelWait(a);
    }
    for (unsigned long long i = 0; i < count; ++i) {
        if (!waitReadable(ep, deadline)) {
            if (stopRequested()) {
                return ExitOk;
            }
            throw rc::Error(rc::ErrorCode::Timeout,
                            "received " + std::to_string(i) + " of " + std::to_string(count) +
                                " messages within " + a.value("timeout") + " ms");
        }
        printMessage(ctx, a.has("hex"), ep.receive(milliseconds(0)));
    }
    ep.close();
    return ExitOk;
}

// open: stdin lines become messages, messages become stdout lines.
int runOpen(Context& ctx, const Args& a) {
    const bool hex = a.has("hex");
    const bool counted = a.has("count");
    const auto count = a.number("count", 0, 1);
    const milliseconds linger(a.number("linger", 500));
    auto ep = ctx.c().openChannel(a.positional()[0], a.value("processor"), channelWait(a));
    if (isatty(ep.fd())) {
        // A tty channel (API 1.1 Kind tty): a byte stream, not messages.
        if (hex || counted) {
            throw UsageError(std::string("open: --") + (hex ? "hex" : "count") +
                             " does not apply: '" + a.positional()[0] +
                             "' is a tty channel, a byte stream");
        }
        return streamTty(ep, linger);
    }
    catchStopSignals();
    bool stdinOpen = true;
    std::string pending;
    unsigned long long received = 0;
    Clock::time_point quietUntil{};
    auto sendLine = [&](std::string line) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        ep.send(hex ? fromHex(line) : line);
    };
    while (!stopRequested()) {
        pollfd fds[2] = {{ep.fd(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int ms = -1;
        if (!stdinOpen && !counted) {
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
            break; // stdin ended and the channel stayed quiet for --linger
        }
        if (fds[0].revents != 0) {
            printMessage(ctx, hex, ep.receive(milliseconds(0)));
            quietUntil = Clock::now() + linger;
            if (counted && ++received >= count) {
                break;
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
                if (!pending.empty()) {
                    sendLine(pending);
                    pending.clear();
                }
                stdinOpen = false;
                quietUntil = Clock::now() + linger;
                continue;
            }
            if (n > 0) {
                pending.append(buf, static_cast<size_t>(n));
                size_t nl;
                while ((nl = pending.find('\n')) != std::string::npos) {
                    sendLine(pending.substr(0, nl));
                    pending.erase(0, nl + 1);
                }
            }
        }
    }
    ep.close();
    return ExitOk;
}

int runPing(Context& ctx, const Args& a) {
    const auto count = a.number("count", 10, 1);
    const milliseconds interval(a.number("interval", 0));
    const milliseconds timeout(a.number("timeout", 1000, 1));
    const bool quiet = a.has("quiet");
    const std::string name = a.positional()[0];
    const auto info = ctx.c().waitForChannel(name, a.value("processor"), milliseconds(5000));
    auto ep = ctx.c().openChannel(name, info.processor, milliseconds(5000));
    const auto size = a.number("size", 16, 1, ep.mtu());
    catchStopSignals();
    if (!ctx.json) {
        outLine("PING " + name + " on " + info.processor + " (address " +
                std::to_string(info.remoteAddress) + "): " + std::to_string(size) + " bytes");
    }
    std::vector<double> rtts;
    unsigned long long sent = 0;
    unsigned long long mismatched = 0;
    for (unsigned long long seq = 1; seq <= count && !stopRequested(); ++seq) {
        if (seq > 1 && interval.count() > 0) {
            pollfd none{-1, 0, 0};
            ::poll(&none, 1, static_cast<int>(interval.count()));
            if (stopRequested()) {
                break;
            }
        }
        // The payload carries the sequence number, so a late reply is not taken for this one.
        std::string payload(size, '\0');
        for (size_t i = 0; i < payload.size(); ++i) {
            payload[i] = static_cast<char>((seq * 131 + i) & 0xff);
        }
        const std::string tag = std::to_string(seq) + ":";
        payload.replace(0, std::min(tag.size(), payload.size()), tag, 0,
                        std::min(tag.size(), payload.size()));
        const auto t0 = Clock::now();
        ep.send(payload);
        ++sent;
        const auto deadline = t0 + timeout;
        bool got = false;
        while (waitReadable(ep, deadline)) {
            const std::string reply = ep.receive(milliseconds(0));
            if (reply == payload) {
                const double ms =
                    std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                rtts.push_back(ms);
                got = true;
                if (!ctx.json && !quiet) {
                    char line[160];
                    std::snprintf(line, sizeof line, "%zu bytes from %s: seq=%llu time=%.3f ms",
                                  reply.size(), name.c_str(), seq, ms);
                    outLine(line);
                    std::fflush(stdout);
                }
                break;
            }
            ++mismatched; // a late reply to an earlier probe, or not an echo service
        }
        if (!got && !stopRequested() && !ctx.json && !quiet) {
            outLine("no reply for seq=" + std::to_string(seq) + " within " +
                    std::to_string(timeout.count()) + " ms");
        }
    }
    ep.close();
    std::vector<double> sorted = rtts;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double v : sorted) {
        sum += v;
    }
    const size_t n = sorted.size();
    const double minV = n ? sorted.front() : 0;
    const double maxV = n ? sorted.back() : 0;
    const double avg = n ? sum / static_cast<double>(n) : 0;
    const double p99 =
        n ? sorted[static_cast<size_t>(std::ceil(0.99 * static_cast<double>(n))) - 1] : 0;
    const double loss =
        sent ? 100.0 * static_cast<double>(sent - n) / static_cast<double>(sent) : 0;
    if (ctx.json) {
        printJson({{"channel", name},
                   {"processor", info.processor},
                   {"size", size},
                   {"sent", sent},
                   {"received", n},
                   {"unexpected", mismatched},
                   {"loss_percent", loss},
                   {"min_ms", minV},
                   {"avg_ms", avg},
                   {"p99_ms", p99},
                   {"max_ms", maxV},
                   {"rtt_ms", rtts}});
    } else {
        char line[200];
        outLine("--- " + name + " ping statistics ---");
        std::snprintf(line, sizeof line, "%llu sent, %zu received, %.0f%% loss", sent, n, loss);
        outLine(line);
        if (n > 0) {
            std::snprintf(line, sizeof line, "rtt min/avg/p99/max = %.3f/%.3f/%.3f/%.3f ms", minV,
                          avg, p99, maxV);
            outLine(line);
        }
    }
    if (n < sent) {
        std::fflush(stdout);
        throw rc::Error(rc::ErrorCode::Timeout, std::to_string(sent - n) + " of " +
                                                    std::to_string(sent) +
                                                    " probes got no reply from '" + name + "'");
    }
    return ExitOk;
}

} // namespace rpmsgctl
