// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Soak: many unprivileged clients opening, using and closing channels through rpmsgd, with
// random client kills and remote crashes, for a bounded time (default 10 minutes). At the end
// the daemon's fd count and the sim's endpoint count must be back to the baseline, RSS growth
// at most 256 KiB, and no unexpected error. Run on demand (root):
//   meson test -C BUILD --benchmark soak -v
//   RPMSGD=... RPMSG_SIM=... BUILD/tests/bench/soak --seconds 600 --clients 6

#include "bus_client.h"
#include "daemon_env.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <signal.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace itest;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

long rssKiB(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

/// @brief The daemon's resident memory by where it lives, from /proc/PID/smaps, in KiB: the
/// main malloc arena ("heap", the brk area), thread stacks (anonymous 8 MiB rw mappings: one
/// per live or cached thread), other anonymous memory (glibc's per-thread malloc arenas and
/// large mmap'ed blocks), and file-backed pages (code, shared libraries). A growth is named
/// by the class that grew.
std::map<std::string, long> rssByClass(pid_t pid) {
    std::map<std::string, long> kib{
        {"heap", 0}, {"thread stacks", 0}, {"other anon", 0}, {"files", 0}, {"stack", 0}};
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
    std::string line, cls;
    long size = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
            line.find('-') != std::string::npos && line.find(':') > line.find(' ')) {
            std::istringstream h(line);
            std::string range, perms, offset, dev, inode, name;
            h >> range >> perms >> offset >> dev >> inode;
            std::getline(h >> std::ws, name);
            const auto dash = range.find('-');
            const unsigned long lo = std::stoul(range.substr(0, dash), nullptr, 16);
            const unsigned long hi = std::stoul(range.substr(dash + 1), nullptr, 16);
            size = long((hi - lo) / 1024);
            if (name == "[heap]") {
                cls = "heap";
            } else if (name == "[stack]") {
                cls = "stack";
            } else if (!name.empty() && name[0] == '/') {
                cls = "files";
            } else if (name.empty() && size == 8192 && perms.rfind("rw", 0) == 0) {
                cls = "thread stacks";
            } else {
                cls = "other anon";
            }
        } else if (line.rfind("Rss:", 0) == 0 && !cls.empty()) {
            kib[cls] += std::stol(line.substr(4));
        }
    }
    return kib;
}

/// @brief With RPMSGD_SOAK_MALLOC_INFO=DIR, writes glibc's malloc_info() of the daemon to
/// DIR/NAME.xml through gdb (the daemon stops for a moment): it tells bytes in use from free
/// bytes the allocator keeps, per arena, so that a growth can be called a leak or not.
void dumpMallocInfo(pid_t pid, const std::string& name) {
    const char* dir = std::getenv("RPMSGD_SOAK_MALLOC_INFO");
    if (!dir) {
        return;
    }
    const std::string path = std::string(dir) + "/" + name + ".xml";
    const std::string cmd = "gdb -p " + std::to_string(pid) +
                            " -batch -ex 'set $f = (void*)fopen(\"" + path +
                            "\", \"w\")' -ex 'call (int)malloc_info(0, $f)'"
                            " -ex 'call (int)fclose($f)' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "soak: gdb could not write %s\n", path.c_str());
    }
}

/// @brief What one worker did; sent to the parent as one line.
struct Stats {
    long opens = 0, roundTrips = 0, closes = 0, dropped = 0, expected = 0, unexpected = 0;
    long stray = 0; ///< a reply that was not ours: see strayMessage()
    std::string firstUnexpected;

    std::string line() const {
        std::ostringstream o;
        o << "stats " << opens << " " << roundTrips << " " << closes << " " << dropped << " "
          << expected << " " << unexpected << " " << stray << " " << firstUnexpected;
        return o.str();
    }
    static Stats parse(const std::string& line) {
        Stats s;
        std::istringstream in(line.substr(6));
        in >> s.opens >> s.roundTrips >> s.closes >> s.dropped >> s.expected >> s.unexpected >>
            s.stray;
        std::getline(in >> std::ws, s.firstUnexpected);
        return s;
    }
    void add(const Stats& o) {
        opens += o.opens;
        roundTrips += o.roundTrips;
        closes += o.closes;
        dropped += o.dropped;
        expected += o.expected;
        unexpected += o.unexpected;
        stray += o.stray;
        if (firstUnexpected.empty() && !o.firstUnexpected.empty()) {
            firstUnexpected = o.firstUnexpected;
        }
    }
};

/// @brief Errors a crash or a client's own kill explains: the endpoint or channel went away.
bool expectedError(const std::string& name) {
    return name == err::Unavailable || name == err::NotFound || name == err::Timeout ||
           name == err::UnknownObject || name == "EPIPE" || name == "ETIMEDOUT";
}

/// @brief A worker: @p cycles times, wait for an echo channel, open it, exchange 1-20
/// messages of random size, then Close (half), drop the fd without Close (a third: the
/// daemon cleans up when the client leaves), or keep it until exit.
int worker(ChildIo& io, unsigned seed, int cycles) {
    std::mt19937 rng(seed);
    Stats s;
    auto note = [&](const std::string& what) {
        if (expectedError(what.substr(0, what.find(':')))) {
            ++s.expected;
        } else {
            if (s.unexpected++ == 0) {
                s.firstUnexpected = what;
            }
        }
    };
    Client c;
    std::vector<Opened> kept;
    for (int i = 0; i < cycles; ++i) {
        const std::string processor = rng() % 2 ? "cm4" : "dsp";
        try {
            const std::string path = c.waitForChannel("rpmsg-echo", processor, 5000);
            Opened ep = c.open(path);
            ++s.opens;
            const int n = 1 + int(rng() % 20);
            bool broken = false;
            for (int k = 0; k < n && !broken; ++k) {
                std::string msg(1 + rng() % 496, 'a');
                for (auto& ch : msg) {
                    ch = char('a' + rng() % 26);
                }
                const std::string back = roundTrip(ep.fd.get(), msg, 5s);
                if (back == msg) {
                    ++s.roundTrips;
                } else if (back.rfind("<write: ", 0) == 0 || back.rfind("<read: ", 0) == 0) {
                    // roundTrip()'s "<write: EPIPE>": the remote crashed under us.
                    const size_t colon = back.find(": ");
                    note(back.substr(colon + 2, back.size() - colon - 3));
                    broken = true;
                } else if (back.find_first_not_of("abcdefghijklmnopqrstuvwxyz") ==
                           std::string::npos) {
                    // Another worker's message, echoed to an address that was that worker's
                    // (killed, its endpoint destroyed) and is now ours: the kernel reuses the
                    // lowest free address at once, so a reply in flight reaches the next
                    // endpoint bound there. A property of rpmsg, counted, not an error.
                    ++s.stray;
                    broken = true;
                } else {
                    note("echo mismatch: sent " + std::to_string(msg.size()) + " bytes, got " +
                         std::to_string(back.size()));
                    broken = true;
                }
            }
            const unsigned how = rng() % 6;
            if (how < 3) {
                c.close(ep.endpoint);
                ++s.closes;
            } else if (how < 5) {
                ++s.dropped; // fd closed here, endpoint left for the daemon to end at exit
            } else {
                kept.push_back(std::move(ep));
            }
        } catch (const sdbus::Error& e) {
            note(e.getName() + ": " + e.getMessage());
        } catch (const std::exception& e) {
            note(std::string("exception: ") + e.what());
        }
    }
    io.send(s.line());
    return 0;
}

struct Args {
    int seconds = 600;
    int clients = 6;
    int cycles = 40;
    int killEveryMs = 1500;
    int crashEveryS = 20;
};

} // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        auto next = [&]() {
            return i + 1 < argc ? std::atoi(argv[++i]) : 0;
        };
        if (k == "--seconds") {
            a.seconds = next();
        } else if (k == "--clients") {
            a.clients = next();
        } else if (k == "--cycles") {
            a.cycles = next();
        } else if (k == "--crash-every") {
            a.crashEveryS = next();
        } else if (k == "--kill-every-ms") {
            a.killEveryMs = next();
        } else {
            std::fprintf(stderr, "usage: soak [--seconds N] [--clients N] [--cycles N] "
                                 "[--crash-every S] [--kill-every-ms MS]\n");
            return 2;
        }
    }
    if (const char* s = std::getenv("RPMSGD_SOAK_SECONDS")) {
        a.seconds = std::atoi(s);
    }
    if (auto reason = skipReason(); !reason.empty()) {
        std::printf("soak skipped: %s\n", reason.c_str());
        return 77;
    }
    ::signal(SIGPIPE, SIG_IGN);
    DaemonEnv env;
    EnvOptions o;
    o.simConfig["processors"][1]["firmware"] = "echo.elf";
    if (auto e = env.start(o); !e.empty()) {
        std::fprintf(stderr, "soak: environment failed: %s\n", e.c_str());
        return 1;
    }
    Client root;
    root.start(root.getProcessor("cm4"));
    root.start(root.getProcessor("dsp"));
    const pid_t daemon = env.daemonPid();
    std::mt19937 rng(12345);
    Stats total;
    long kills = 0, crashes = 0, workersDone = 0;
    std::vector<std::unique_ptr<Child>> workers;

    auto spawnWorker = [&] {
        const unsigned seed = unsigned(rng());
        const int cycles = a.cycles;
        workers.push_back(std::make_unique<Child>(
            NobodyChannelUser, [seed, cycles](ChildIo& io) { return worker(io, seed, cycles); }));
    };
    auto reap = [&] {
        for (auto it = workers.begin(); it != workers.end();) {
            auto line = (*it)->readLine(5ms);
            const bool exited = !line && (*it)->wait(0ms).has_value();
            if (exited) {
                line = (*it)->readLine(100ms); // its last words, if it was not killed
            }
            if (line && line->rfind("stats ", 0) == 0) {
                total.add(Stats::parse(*line));
                ++workersDone;
                (*it)->wait(10s);
                it = workers.erase(it);
            } else if (line) {
                ++total.unexpected; // an exception line from the child harness
                if (total.firstUnexpected.empty()) {
                    total.firstUnexpected = *line;
                }
                ++it;
            } else if (exited) {
                it = workers.erase(it); // killed
            } else {
                ++it;
            }
        }
    };
    auto quiesce = [&](const char* phase) {
        for (auto& w : workers) {
            w->kill(SIGKILL);
            w->wait(10s);
        }
        workers.clear();
        // Every endpoint gone (owners left), processors running again after the last crash.
        const bool drained = simtest::waitFor(
            [&] {
                return simtest::eptdevNames(env.sim()).empty() &&
                       root.listProcessors().size() == 2 && root.listChannels().size() == 6;
            },
            30s);
        if (!drained) {
            std::fprintf(stderr, "soak (%s): endpoints did not drain: %s\n", phase,
                         env.sim().dump().dump().c_str());
        }
        // Let NameOwnerChanged and caches settle, and the daemon give its free heap pages back
        // once quiet (daemon/memory_trim.h: MemoryTrim::QuietMs after the last burst).
        std::this_thread::sleep_for(4s);
        return drained;
    };
    auto runFor = [&](std::chrono::seconds length) {
        const auto end = Clock::now() + length;
        auto nextKill = Clock::now() + std::chrono::milliseconds(a.killEveryMs);
        auto nextCrash = Clock::now() + std::chrono::seconds(a.crashEveryS);
        auto nextReport = Clock::now() + 60s;
        while (Clock::now() < end) {
            while (int(workers.size()) < a.clients) {
                spawnWorker();
            }
            reap();
            if (Clock::now() >= nextKill && !workers.empty()) {
                workers[rng() % workers.size()]->kill(SIGKILL);
                ++kills;
                nextKill = Clock::now() + std::chrono::milliseconds(a.killEveryMs);
            }
            if (Clock::now() >= nextCrash) {
                env.ctl({"crash", rng() % 2 ? "cm4" : "dsp"});
                ++crashes;
                nextCrash = Clock::now() + std::chrono::seconds(a.crashEveryS);
            }
            if (Clock::now() >= nextReport) {
                std::printf("  ... %ld opens, %ld round trips, %ld kills, %ld crashes, fds %d, "
                            "RSS %ld KiB\n",
                            total.opens, total.roundTrips, kills, crashes, simtest::openFds(daemon),
                            rssKiB(daemon));
                std::fflush(stdout);
                nextReport = Clock::now() + 60s;
            }
            std::this_thread::sleep_for(20ms);
        }
    };

    std::printf("soak: %d s, %d clients, %d cycles each, a kill every %d ms, a crash every %d s\n",
                a.seconds, a.clients, a.cycles, a.killEveryMs, a.crashEveryS);
    // Warm-up: the allocator and the daemon's caches reach their working size first.
    runFor(std::chrono::seconds(std::min(30, std::max(5, a.seconds / 10))));
    bool ok = quiesce("warm-up");
    const int fds0 = simtest::openFds(daemon);
    const long rss0 = rssKiB(daemon);
    const auto classes0 = rssByClass(daemon);
    dumpMallocInfo(daemon, "baseline");
    const Stats warm = total;
    total = Stats{};
    kills = crashes = workersDone = 0;

    const auto t0 = Clock::now();
    runFor(std::chrono::seconds(a.seconds));
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    ok = quiesce("end") && ok;
    const int fds1 = simtest::openFds(daemon);
    const long rss1 = rssKiB(daemon);
    const auto classes1 = rssByClass(daemon);
    dumpMallocInfo(daemon, "end");
    const size_t eptdevs = simtest::eptdevNames(env.sim()).size();
    const bool alive = env.daemonAlive();

    std::printf("soak: %.0f s: %ld worker runs, %ld opens, %ld round trips, %ld closes, "
                "%ld dropped without Close, %ld clients killed, %ld remote crashes\n",
                secs, workersDone, total.opens, total.roundTrips, total.closes, total.dropped,
                kills, crashes);
    std::printf("  errors: %ld expected (crash/kill windows), %ld stray replies (address reuse), "
                "%ld unexpected%s%s\n",
                total.expected, total.stray, total.unexpected,
                total.firstUnexpected.empty() ? "" : ": ", total.firstUnexpected.c_str());
    std::printf("  daemon fds: %d at baseline, %d at the end\n", fds0, fds1);
    std::printf("  daemon RSS: %ld KiB at baseline, %ld KiB at the end (%+ld KiB)\n", rss0, rss1,
                rss1 - rss0);
    for (const auto& [name, kib0] : classes0) {
        const long kib1 = classes1.at(name);
        std::printf("    %-13s %6ld KiB -> %6ld KiB (%+ld KiB)\n", name.c_str(), kib0, kib1,
                    kib1 - kib0);
    }
    std::printf("  sim endpoints at the end: %zu; daemon alive: %s; warm-up: %ld opens\n", eptdevs,
                alive ? "yes" : "no", warm.opens);
    const bool pass = ok && alive && fds1 <= fds0 && eptdevs == 0 && rss1 - rss0 <= 256 &&
                      total.unexpected == 0 && warm.unexpected == 0 && total.opens > 0;
    std::printf("soak: %s\n", pass ? "PASS" : "FAIL");
    if (!pass) {
        std::fprintf(stderr, "%s\n", env.logs().c_str());
    }
    return pass ? 0 : 1;
}
