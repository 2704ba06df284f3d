// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Fairness bench (issue 16): no client stalls the others.
//  1. 200 new clients make their first acting call at once (each needs its credentials looked
//     up): the latency of an already-known client's calls meanwhile, against unloaded.
//  2. A client flooding rpmsgd with calls (beyond limits.calls_per_client) against a
//     well-behaved client's Open: p50 loaded within 1.5x of unloaded is the target.
// Figures only, no pass/fail on timing (the machine may be shared). Run on demand (root):
//   meson test -C BUILD --benchmark fairness -v

#include "bus_client.h"
#include "daemon_env.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <signal.h>
#include <string>
#include <thread>
#include <vector>

using namespace itest;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
    std::vector<double> ms;
    double pct(double p) {
        if (ms.empty()) {
            return 0;
        }
        std::sort(ms.begin(), ms.end());
        return ms[std::min(ms.size() - 1, size_t(p / 100.0 * double(ms.size())))];
    }
    std::string line() {
        char buf[160];
        std::snprintf(buf, sizeof buf, "n=%zu p50=%.2f ms p99=%.2f ms max=%.2f ms", ms.size(),
                      pct(50), pct(99), pct(100));
        return buf;
    }
};

double since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// An acting call that goes through the authorise step and answers at once: WaitForChannel of a
// channel that exists.
void knownCall(Client& c) {
    c.waitForChannel("rpmsg-echo", "cm4", 1000);
}

// The probe's call latencies while @p load runs (or for @p n calls when it is null).
Stats probe(Client& c, const std::function<bool()>& running, size_t n) {
    Stats s;
    while (running ? running() : s.ms.size() < n) {
        const auto t0 = Clock::now();
        knownCall(c);
        s.ms.push_back(since(t0));
    }
    return s;
}

void newClientsBench() {
    Client known;
    knownCall(known);
    Stats unloaded = probe(known, nullptr, 300);
    std::atomic<int> done{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> clients;
    constexpr int N = 200;
    Stats firstCalls;
    std::mutex m;
    for (int i = 0; i < N; ++i) {
        clients.emplace_back([&] {
            Client c; // a new connection: its first call needs its credentials
            while (!go) {
                std::this_thread::yield();
            }
            const auto t0 = Clock::now();
            knownCall(c);
            const double t = since(t0);
            std::lock_guard lock(m);
            firstCalls.ms.push_back(t);
            ++done;
        });
    }
    std::this_thread::sleep_for(200ms);
    const auto t0 = Clock::now();
    go = true;
    Stats loaded = probe(
        known, [&] { return done < N; }, 0);
    const double all = since(t0);
    for (auto& t : clients) {
        t.join();
    }
    std::printf("200 new clients' first calls at once (all answered in %.1f ms):\n", all);
    std::printf("  their first calls       : %s\n", firstCalls.line().c_str());
    std::printf("  known client, unloaded  : %s\n", unloaded.line().c_str());
    std::printf("  known client, meanwhile : %s\n", loaded.line().c_str());
}

void floodBench(DaemonEnv& env) {
    Client root;
    const std::string echo = root.waitForChannel("rpmsg-echo", "cm4", 5000);
    auto openClose = [&](Client& c) {
        const auto t0 = Clock::now();
        Opened o = c.open(echo);
        const double t = since(t0);
        c.close(o.endpoint);
        return t;
    };
    Client good;
    openClose(good);
    Stats unloaded;
    for (int i = 0; i < 200; ++i) {
        unloaded.ms.push_back(openClose(good));
    }
    // The flooder: its own connection and loop thread, always more calls than its quota in
    // flight (WaitForChannel of a channel that never comes, each answered by a LimitExceeded
    // or a 50 ms timeout), re-sent as answers come.
    auto conn = sdbus::createSystemBusConnection();
    conn->enterEventLoopAsync();
    auto proxy = sdbus::createProxy(*conn, BusName, RootPath);
    std::atomic<long> sent{0}, limited{0};
    std::atomic<bool> flooding{true};
    std::function<void()> fire = [&] {
        if (!flooding) {
            return;
        }
        ++sent;
        proxy->callMethodAsync("WaitForChannel")
            .onInterface(ManagerIface)
            .withArguments(std::string("never"), std::string(""), uint32_t{50})
            .uponReplyInvoke([&](const sdbus::Error* e, sdbus::ObjectPath) {
                if (e && e->getName() == "org.rpmsgd.Broker1.Error.LimitExceeded") {
                    ++limited;
                }
                fire();
            });
    };
    for (int i = 0; i < 200; ++i) {
        fire();
    }
    std::this_thread::sleep_for(500ms);
    Stats loaded;
    for (int i = 0; i < 200; ++i) {
        loaded.ms.push_back(openClose(good));
    }
    flooding = false;
    std::this_thread::sleep_for(300ms);
    conn->leaveEventLoop();
    std::printf("a flooding client (%ld calls sent, %ld LimitExceeded) vs a well-behaved client's "
                "Open:\n",
                sent.load(), limited.load());
    std::printf("  Open unloaded : %s\n", unloaded.line().c_str());
    std::printf("  Open flooded  : %s\n", loaded.line().c_str());
    std::printf("  p50 ratio     : %.2f (target <= 1.5)\n", loaded.pct(50) / unloaded.pct(50));
    std::printf("  rpmsgd alive  : %s\n", env.daemonAlive() ? "yes" : "no");
}

} // namespace

int main() {
    if (auto reason = skipReason(); !reason.empty()) {
        std::printf("fairness bench skipped: %s\n", reason.c_str());
        return 77;
    }
    ::signal(SIGPIPE, SIG_IGN);
    DaemonEnv env;
    EnvOptions o;
    if (auto e = env.start(o); !e.empty()) {
        std::fprintf(stderr, "fairness bench: environment failed: %s\n", e.c_str());
        return 1;
    }
    Client root;
    root.start(root.getProcessor("cm4"));
    root.waitForChannel("rpmsg-echo", "cm4", 5000);
    newClientsBench();
    floodBench(env);
    return 0;
}
