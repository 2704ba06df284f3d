// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgd benchmark (issues 3 and 17): every daemon row of docs/performance.md, each beside a
// reference measured in the same run.
//
// Three worlds, each a private network namespace's rpmsg-sim (uevents on, rpmsgd in udev mode,
// as on a board), a private system-like bus with our policy, and the real rpmsgd:
//   start  4 processors already running 25 channels each when rpmsgd is exec'd: READY=1 time;
//   main   cm4 (1000-channel firmware) and dsp: idle RSS, method-call floor, 1000 channels
//          announced at once, Open vs the same kernel steps done directly, RSS with 1000 channels
//          and 200 endpoints, echo on a brokered fd vs a direct one, a pipe and a socket,
//          LoadFirmware of 32 MiB vs cp, 100 clients with 10 endpoints each opening at once;
//   idle   20 processors, nothing running: wakeups per second.
// Run on demand (tests/bench/run prints the table): BUILD/tests/bench/daemon-bench [--json FILE]
// [--iterations N] [--world start|main|idle]... (default: all three). Exit 77 when not root.
// DAEMON_BENCH_WRAP="strace -f -tt -o FILE" (or any command prefix) runs rpmsgd under a profiler.

#include "daemon/kernel/endpoint.h"
#include "private_bus.h"
#include "sim_harness.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <poll.h>
#include <sched.h>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>
#include <sdbus-c++/sdbus-c++.h>

using namespace std::chrono;
using namespace simtest;
using nlohmann::json;

namespace {

constexpr const char* Bus = "org.rpmsgd.Broker1";
constexpr const char* Manager = "org.rpmsgd.Broker1.Manager";
constexpr const char* ProcessorIface = "org.rpmsgd.Broker1.Processor";
constexpr const char* ChannelIface = "org.rpmsgd.Broker1.Channel";
constexpr const char* EndpointIface = "org.rpmsgd.Broker1.Endpoint";

double usSince(steady_clock::time_point a) {
    return duration<double, std::micro>(steady_clock::now() - a).count();
}

struct Stats {
    std::vector<double> v;
    double pct(double p) {
        std::sort(v.begin(), v.end());
        return v.empty() ? 0 : v[std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())))];
    }
};

long statusField(pid_t pid, const std::string& file, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0) {
            return std::stol(line.substr(key.size() + 1));
        }
    }
    return -1;
}
long rssKiB(pid_t pid) {
    return statusField(pid, "status", "VmRSS");
}
long switches(pid_t pid) {
    return statusField(pid, "status", "voluntary_ctxt_switches") +
           statusField(pid, "status", "nonvoluntary_ctxt_switches");
}

/// @brief CPU time (user + system, all threads) process @p pid has used, in ms; 0 if unknown.
double cpuMs(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    const size_t close = s.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream rest(s.substr(close + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) {
            utime = std::stoul(field);
        } else if (i == 15) {
            stime = std::stoul(field);
        }
    }
    return double(utime + stime) * 1000.0 / double(sysconf(_SC_CLK_TCK));
}

/// @brief System calls of @p pid over @p seconds by name (strace -c), empty without strace.
std::map<std::string, long> syscalls(pid_t pid, int seconds) {
    std::map<std::string, long> calls;
    if (access("/usr/bin/strace", X_OK) != 0) {
        return calls;
    }
    const std::string cmd =
        "timeout " + std::to_string(seconds) + " strace -f -c -p " + std::to_string(pid) + " 2>&1";
    FILE* f = popen(cmd.c_str(), "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        double pct = 0, secs = 0;
        long usecs = 0, n = 0, errors = 0;
        char name[64];
        if (sscanf(line, "%lf %lf %ld %ld %ld %63s", &pct, &secs, &usecs, &n, &errors, name) == 6 ||
            sscanf(line, "%lf %lf %ld %ld %63s", &pct, &secs, &usecs, &n, name) == 5) {
            calls[name] = n;
        }
    }
    if (f) {
        pclose(f);
    }
    return calls;
}

/// @brief One result row; `reference` is NaN where the row has only a target.
struct Row {
    std::string measure, unit;
    double ours = 0;
    std::string referenceName;
    double reference = NAN;
    std::string ratioMeaning; ///< what ours/reference means, e.g. "ours / direct"
    std::string target;
    std::string note;
};
std::vector<Row> rows;

void addRow(Row r) {
    std::printf("  %-58s %12.1f %-6s", r.measure.c_str(), r.ours, r.unit.c_str());
    if (!std::isnan(r.reference)) {
        std::printf("  ref %-28s %10.1f  ratio %.2f", r.referenceName.c_str(), r.reference,
                    r.ours / r.reference);
    }
    std::printf("\n");
    std::fflush(stdout);
    rows.push_back(std::move(r));
}

/// @brief Firmware announcing @p n echo channels (`rpmsg-echo` first, then `svc-I`).
json manyChannels(int n) {
    json spec = {{"boot_ms", 0}, {"services", json::array()}};
    for (int i = 0; i < n; ++i) {
        spec["services"].push_back(
            {{"name", i == 0 ? std::string("rpmsg-echo") : "svc-" + std::to_string(i)},
             {"addr", 1024 + i},
             {"kind", "echo"}});
    }
    return spec;
}

json processors(int n, const std::string& firmware) {
    json procs = json::array();
    for (int i = 0; i < n; ++i) {
        procs.push_back({{"name", "p" + std::to_string(i)},
                         {"firmware", firmware},
                         {"recovery", "enabled"},
                         {"coredump", "disabled"},
                         {"auto_boot", false}});
    }
    return {{"kernel", "6.6"}, {"processors", procs}};
}

/// @brief A sim, a bus and rpmsgd (launched with $NOTIFY_SOCKET, as systemd does).
class World : NonCopyable {
public:
    explicit World(const std::string& name)
        : tmp_("rpmsgd-bench-" + name), sim_(tmp_.path() + "/sim") {
        chmod(tmp_.path().c_str(), 0755);
    }
    ~World() { stop(); }

    Sim& sim() { return sim_; }
    const std::string& tmp() const { return tmp_.path(); }
    pid_t daemon() const { return daemon_; }
    pid_t bus() const { return bus_.pid(); }

    /// @brief Writes the firmware, starts the sim and the bus; "" or why not.
    std::string prepare(const json& simConfig, const std::map<std::string, json>& firmware) {
        for (const auto& [file, spec] : firmware) {
            if (auto r = sim_.mkfw(file, spec); r.exitCode != 0) {
                return "mkfw " + file + ": " + r.err;
            }
        }
        SimOptions so;
        so.config = simConfig;
        so.uevents = true;
        std::string err;
        if (!sim_.start(so, err)) {
            return "sim: " + err;
        }
        if (auto e = bus_.start(tmp_.path() + "/bus", policy_); !e.empty()) {
            return e;
        }
        setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_.address().c_str(), 1);
        return "";
    }

    /// @brief Execs rpmsgd and waits for READY=1 on its notify socket; @p readyUs gets the time
    /// from fork to READY=1. "" or why not.
    std::string startDaemon(double& readyUs) {
        const std::string mnt = sim_.mountDir();
        const std::string cfg = tmp_.path() + "/rpmsgd.json";
        std::ofstream(cfg) << json{{"paths",
                                    {{"sysfs", mnt + "/sys"},
                                     {"dev", mnt + "/dev"},
                                     {"debugfs", mnt + "/sys/kernel/debug"},
                                     {"firmware", sim_.firmwareDir()},
                                     {"state", tmp_.path() + "/state"}}},
                                   {"watch", {{"mode", "udev"}}},
                                   {"limits",
                                    {{"endpoints_per_client", 4096}, {"endpoints_total", 4096}}}}
                                  .dump();
        const std::string notify = tmp_.path() + "/notify";
        int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", notify.c_str());
        if (sock < 0 || bind(sock, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
            return "cannot bind the notify socket";
        }
        const std::string log = tmp_.path() + "/rpmsgd.log";
        auto t0 = steady_clock::now();
        daemon_ = fork();
        if (daemon_ == 0) {
            int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
            dup2(fd, 2);
            setenv("NOTIFY_SOCKET", notify.c_str(), 1);
            if (const char* wrap = getenv("DAEMON_BENCH_WRAP"); wrap && *wrap) {
                // A profiler around rpmsgd, e.g. "strace -f -tt -o /tmp/rpmsgd.strace".
                const std::string cmd =
                    std::string("exec ") + wrap + " " + rpmsgd_ + " --config " + cfg;
                execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
                _exit(127);
            }
            execl(rpmsgd_.c_str(), rpmsgd_.c_str(), "--config", cfg.c_str(), nullptr);
            _exit(127);
        }
        std::string why = "no READY=1 within 20 s";
        pollfd p{sock, POLLIN, 0};
        while (usSince(t0) < 20e6 && poll(&p, 1, 20000) == 1) {
            char buf[4096];
            ssize_t n = recv(sock, buf, sizeof buf - 1, 0);
            if (n > 0 && std::string(buf, size_t(n)).find("READY=1") != std::string::npos) {
                readyUs = usSince(t0);
                why.clear();
                break;
            }
        }
        close(sock);
        if (!why.empty()) {
            std::ifstream in(log);
            why += ":\n" + std::string(std::istreambuf_iterator<char>(in), {});
        }
        return why;
    }

    void stop() {
        if (daemon_ > 0) {
            kill(daemon_, SIGTERM);
            waitpid(daemon_, nullptr, 0);
            daemon_ = -1;
        }
        bus_.stop();
        sim_.shutdown();
    }

private:
    TempDir tmp_;
    Sim sim_;
    harness::PrivateBus bus_;
    pid_t daemon_ = -1;
    std::string rpmsgd_ = getenv("RPMSGD") ? getenv("RPMSGD") : "daemon/rpmsgd";
    std::string policy_ =
        getenv("RPMSGD_POLICY") ? getenv("RPMSGD_POLICY") : "../dbus/org.rpmsgd.Broker1.conf";
};

void die(const std::string& why) {
    std::cerr << "daemon-bench: " << why << "\n";
    std::exit(1);
}

// Each World needs a fresh process environment for DBUS_SYSTEM_BUS_ADDRESS: sdbus's system bus
// connection reads it when it connects, so each world's connections are made after prepare().

void startupWorld() {
    World w("start");
    json cfg = processors(4, "c25.elf");
    if (auto e = w.prepare(cfg, {{"c25.elf", manyChannels(25)}}); !e.empty()) {
        die(e);
    }
    for (int i = 0; i < 4; ++i) {
        if (writeFile(
                w.sim().path("sys/class/remoteproc/remoteproc" + std::to_string(i) + "/state"),
                "start") != 0) {
            die("cannot start p" + std::to_string(i));
        }
    }
    std::this_thread::sleep_for(300ms); // the announcements land
    double readyUs = 0;
    if (auto e = w.startDaemon(readyUs); !e.empty()) {
        die(e);
    }
    auto conn = sdbus::createSystemBusConnection();
    auto mgr = sdbus::createProxy(*conn, Bus, "/org/rpmsgd/Broker1");
    std::vector<sdbus::Struct<std::string, std::string, uint32_t, sdbus::ObjectPath>> chans;
    mgr->callMethod("ListChannels").onInterface(Manager).storeResultsTo(chans);
    addRow({"READY=1 after exec, 4 processors running 100 channels", "ms", readyUs / 1000, "", NAN,
            "", "<= 50 ms",
            "fork to READY=1 on $NOTIFY_SOCKET; " + std::to_string(chans.size()) +
                " channels published then"});
}

void idleWorld() {
    World w("idle");
    if (auto e = w.prepare(processors(20, "echo.elf"), {{"echo.elf", echoSpec(0)}}); !e.empty()) {
        die(e);
    }
    double readyUs = 0;
    if (auto e = w.startDaemon(readyUs); !e.empty()) {
        die(e);
    }
    std::this_thread::sleep_for(2s);
    constexpr int Seconds = 30;
    long s0 = switches(w.daemon());
    auto calls = syscalls(w.daemon(), Seconds);
    const double ctx = double(switches(w.daemon()) - s0) / Seconds;
    if (calls.empty()) {
        addRow({"20 processors, idle wakeups", "/s", ctx, "", NAN, "", "<= 1",
                "context switches (no strace): each state read of the sim blocks on FUSE, so a "
                "timer tick counts more than once"});
        return;
    }
    auto per = [&](const char* name) {
        return double(calls[name]) / Seconds;
    };
    addRow({"20 processors, idle wakeups", "/s", per("epoll_wait"), "", NAN, "", "<= 1",
            "epoll_wait returns (strace -c over " + std::to_string(Seconds) +
                " s); meanwhile per second: " + std::to_string(int(per("openat"))) + " openat, " +
                std::to_string(int(per("read"))) + " read, " +
                std::to_string(int(per("readlink"))) + " readlink, " + std::to_string(int(ctx)) +
                " context switches"});
}

void mainWorld(int iterations) {
    World w("main");
    json cfg = defaultConfig("many.elf");
    if (auto e = w.prepare(cfg, {{"many.elf", manyChannels(1000)}, {"echo.elf", echoSpec(0)}});
        !e.empty()) {
        die(e);
    }
    double readyUs = 0;
    if (auto e = w.startDaemon(readyUs); !e.empty()) {
        die(e);
    }
    auto conn = sdbus::createSystemBusConnection();
    auto mgr = sdbus::createProxy(*conn, Bus, "/org/rpmsgd/Broker1");
    auto cm4 = sdbus::createProxy(*conn, Bus, "/org/rpmsgd/Broker1/processor/remoteproc0");
    auto dsp = sdbus::createProxy(*conn, Bus, "/org/rpmsgd/Broker1/processor/remoteproc1");
    auto busDriver = sdbus::createProxy(*conn, "org.freedesktop.DBus", "/org/freedesktop/DBus");

    std::this_thread::sleep_for(1s);
    addRow({"idle RSS (VmRSS), 2 processors, 0 channels", "KiB", double(rssKiB(w.daemon())),
            "dbus-daemon VmRSS", double(rssKiB(w.bus())), "", "<= 4096 KiB",
            "rpmsgd: RssAnon " + std::to_string(statusField(w.daemon(), "status", "RssAnon")) +
                " KiB, Pss " + std::to_string(statusField(w.daemon(), "smaps_rollup", "Pss")) +
                " KiB; the rest is shared library pages"});

    // The method-call floor: a property read from rpmsgd vs dbus-daemon's own GetId (the bus driver
    // answering itself).
    Stats get, ping;
    for (int i = 0; i < 2000; ++i) {
        auto a = steady_clock::now();
        sdbus::Variant v = mgr->getProperty("Version").onInterface(Manager);
        get.v.push_back(usSince(a));
        a = steady_clock::now();
        busDriver->callMethod("GetId").onInterface("org.freedesktop.DBus");
        ping.v.push_back(usSince(a));
    }
    addRow({"method call p50 (Properties.Get Version)", "us", get.pct(50), "dbus-daemon GetId p50",
            ping.pct(50), "ours / floor", "", "2000 calls each"});

    // 1000 channels announced at once: from the Start call until ListChannels has them all.
    auto t0 = steady_clock::now();
    cm4->callMethod("Start").onInterface(ProcessorIface);
    std::vector<sdbus::Struct<std::string, std::string, uint32_t, sdbus::ObjectPath>> chans;
    for (;;) {
        mgr->callMethod("ListChannels").onInterface(Manager).storeResultsTo(chans);
        if (chans.size() >= 1000) {
            break;
        }
        if (usSince(t0) > 60e6) {
            die("only " + std::to_string(chans.size()) + " channels after 60 s");
        }
        std::this_thread::sleep_for(5ms);
    }
    addRow({"1000 channels announced at once -> all published", "ms", usSince(t0) / 1000, "", NAN,
            "", "<= 500 ms", "Start call to ListChannels listing 1000, polled every 5 ms"});

    std::map<std::string, sdbus::ObjectPath> byName;
    for (const auto& c : chans) {
        byName[c.get<0>()] = c.get<3>();
    }
    auto open = [&](sdbus::IConnection& c, const std::string& name, sdbus::UnixFd& fd,
                    sdbus::ObjectPath& ep) {
        auto ch = sdbus::createProxy(c, Bus, byName.at(name));
        uint32_t mtu = 0;
        ch->callMethod("Open")
            .onInterface(ChannelIface)
            .withArguments(std::map<std::string, sdbus::Variant>{})
            .storeResultsTo(fd, ep, mtu);
    };
    auto close = [&](sdbus::IConnection& c, const sdbus::ObjectPath& ep) {
        sdbus::createProxy(c, Bus, ep)->callMethod("Close").onInterface(EndpointIface);
    };

    // Open -> fd through rpmsgd vs the same kernel steps done by a root program.
    Stats openBroker, openDirect;
    auto echoChan = sdbus::createProxy(*conn, Bus, byName.at("rpmsg-echo"));
    for (int i = 0; i < iterations; ++i) {
        sdbus::UnixFd fd;
        sdbus::ObjectPath ep;
        uint32_t mtu = 0;
        auto a = steady_clock::now();
        echoChan->callMethod("Open")
            .onInterface(ChannelIface)
            .withArguments(std::map<std::string, sdbus::Variant>{})
            .storeResultsTo(fd, ep, mtu);
        openBroker.v.push_back(usSince(a));
        close(*conn, ep);
    }
    rpmsgd::kernel::Paths kp;
    kp.sysfs = w.sim().mountDir() + "/sys";
    kp.dev = w.sim().mountDir() + "/dev";
    for (int i = 0; i < iterations; ++i) {
        auto a = steady_clock::now();
        auto opened = rpmsgd::kernel::createEndpoint(
            kp, "rpmsg_ctrl0", "bench-" + std::to_string(i), 0xFFFFFFFFu, 1024, false);
        openDirect.v.push_back(usSince(a));
        rpmsgd::kernel::destroyEndpoint(opened.fd);
        ::close(opened.fd);
    }
    const double lone = openBroker.pct(50);
    addRow({"Open -> fd p50", "us", lone, "the same kernel steps, direct", openDirect.pct(50),
            "ours / direct", "<= 1.2", std::to_string(iterations) + " Opens each"});
    addRow({"Open -> fd p99", "us", openBroker.pct(99), "the same kernel steps, direct",
            openDirect.pct(99), "ours / direct", "<= 1.5", ""});

    // 200 endpoints held on 1000 channels.
    std::vector<std::pair<sdbus::UnixFd, sdbus::ObjectPath>> held(200);
    for (int i = 0; i < 200; ++i) {
        open(*conn, "svc-" + std::to_string(i + 1), held[size_t(i)].first, held[size_t(i)].second);
    }
    std::this_thread::sleep_for(500ms);
    addRow({"RSS with 1000 channels and 200 open endpoints", "KiB", double(rssKiB(w.daemon())), "",
            NAN, "", "<= 8192 KiB",
            "RssAnon " + std::to_string(statusField(w.daemon(), "status", "RssAnon")) + " KiB"});
    for (auto& [fd, ep] : held) {
        close(*conn, ep);
    }

    // Echo round trips: a brokered fd, a direct one, a pipe pair and a socket pair.
    auto rtt = [](int wfd, int rfd, int n) {
        Stats s;
        char buf[512] = "0123456789abcdef";
        for (int i = 0; i < n; ++i) {
            auto a = steady_clock::now();
            if (write(wfd, buf, 16) != 16 || read(rfd, buf, sizeof buf) != 16) {
                die("echo failed");
            }
            s.v.push_back(usSince(a));
        }
        return s;
    };
    sdbus::UnixFd bfd;
    sdbus::ObjectPath bep;
    open(*conn, "rpmsg-echo", bfd, bep);
    auto direct =
        rpmsgd::kernel::createEndpoint(kp, "rpmsg_ctrl0", "bench-rtt", 0xFFFFFFFFu, 1024, false);
    Stats rttBroker = rtt(bfd.get(), bfd.get(), 20000);
    Stats rttDirect = rtt(direct.fd, direct.fd, 20000);
    rpmsgd::kernel::destroyEndpoint(direct.fd);
    ::close(direct.fd);
    close(*conn, bep);
    auto echoPeer = [](int in, int out) {
        return std::thread([in, out] {
            char b[512];
            ssize_t n;
            while ((n = read(in, b, sizeof b)) > 0) {
                if (write(out, b, size_t(n)) != n) {
                    break;
                }
            }
        });
    };
    int toPeer[2], fromPeer[2], sp[2];
    if (pipe(toPeer) != 0 || pipe(fromPeer) != 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) != 0) {
        die("pipe/socketpair");
    }
    auto t1 = echoPeer(toPeer[0], fromPeer[1]);
    Stats rttPipe = rtt(toPeer[1], fromPeer[0], 20000);
    ::close(toPeer[1]);
    t1.join();
    auto t2 = echoPeer(sp[1], sp[1]);
    Stats rttSock = rtt(sp[0], sp[0], 20000);
    shutdown(sp[0], SHUT_RDWR);
    t2.join();
    for (int fd : {toPeer[0], fromPeer[0], fromPeer[1], sp[0], sp[1]}) {
        ::close(fd);
    }
    addRow({"echo round trip p50, brokered fd (16 B)", "us", rttBroker.pct(50),
            "directly opened eptdev", rttDirect.pct(50), "ours / direct", "1.0", "20000 trips"});
    addRow({"echo round trip p50, pipe pair (16 B)", "us", rttPipe.pct(50), "", NAN, "", "",
            "a thread echoing; the floor of one process-to-process hop"});
    addRow({"echo round trip p50, Unix socket pair (16 B)", "us", rttSock.pct(50), "", NAN, "", "",
            "SOCK_SEQPACKET, a thread echoing"});

    // LoadFirmware of a 32 MiB image by fd vs cp of the same file into the same directory.
    const std::string big = w.tmp() + "/big.elf";
    {
        std::ifstream in(w.sim().firmwareDir() + "/echo.elf", std::ios::binary);
        std::vector<char> image((std::istreambuf_iterator<char>(in)), {});
        image.resize(32u << 20, 0); // trailing bytes past the sections, as a large image has
        std::ofstream(big, std::ios::binary).write(image.data(), std::streamsize(image.size()));
    }
    Stats load, cp, cpDurable;
    for (int i = 0; i < 5; ++i) {
        int fd = ::open(big.c_str(), O_RDONLY | O_CLOEXEC);
        auto a = steady_clock::now();
        std::string set;
        dsp->callMethod("LoadFirmware")
            .onInterface(ProcessorIface)
            .withArguments(sdbus::UnixFd(fd, sdbus::adopt_fd), "big-" + std::to_string(i) + ".elf")
            .withTimeout(60s)
            .storeResultsTo(set);
        load.v.push_back(usSince(a));
        const std::string dst = w.sim().firmwareDir() + "/cp-" + std::to_string(i) + ".elf";
        a = steady_clock::now();
        if (std::system(("cp " + big + " " + dst).c_str()) != 0) {
            die("cp failed");
        }
        cp.v.push_back(usSince(a));
        // rpmsgd's store makes the file durable before it renames it (fsync): so does this.
        const int copy = ::open(dst.c_str(), O_RDONLY | O_CLOEXEC);
        if (copy < 0 || ::fsync(copy) != 0) {
            die("fsync of " + dst + " failed");
        }
        ::close(copy);
        cpDurable.v.push_back(usSince(a));
    }
    const double mib = 32.0;
    addRow({"LoadFirmware 32 MiB by fd, throughput", "MiB/s", mib / (load.pct(50) / 1e6),
            "cp of the same file, same directory", mib / (cp.pct(50) / 1e6), "ours / cp", ">= 0.5",
            "median of 5; cp includes its own fork and exec"});
    addRow({"LoadFirmware 32 MiB by fd, throughput, vs a durable copy", "MiB/s",
            mib / (load.pct(50) / 1e6), "cp then fsync of the copy",
            mib / (cpDurable.pct(50) / 1e6), "ours / (cp+fsync)", "",
            "median of 5; our store fsyncs the file before its rename (a crash never leaves a "
            "partial image under the real name), cp does not"});

    // 100 clients, each opening 10 endpoints, all at once, vs a lone client's Open. The CPU
    // the daemon, the twin and the bus spend meanwhile is the floor of the crowd's latency: on
    // N cores, 1000 Opens cannot end before 1000 x (CPU per Open) / N.
    const double cpu0[3] = {cpuMs(w.daemon()), cpuMs(w.sim().pid()), cpuMs(w.bus())};
    const auto crowdStart = steady_clock::now();
    Stats crowd;
    std::mutex m;
    std::barrier sync(100);
    std::vector<std::thread> clients;
    std::atomic<int> failures{0};
    for (int c = 0; c < 100; ++c) {
        clients.emplace_back([&, c] {
            try {
                auto cc = sdbus::createSystemBusConnection();
                std::vector<double> mine;
                std::vector<sdbus::ObjectPath> eps;
                sync.arrive_and_wait();
                for (int k = 0; k < 10; ++k) {
                    sdbus::UnixFd fd;
                    sdbus::ObjectPath ep;
                    auto a = steady_clock::now();
                    open(*cc, "svc-" + std::to_string(1 + (c * 10 + k) % 999), fd, ep);
                    mine.push_back(usSince(a));
                    eps.push_back(ep);
                }
                std::lock_guard lock(m);
                crowd.v.insert(crowd.v.end(), mine.begin(), mine.end());
            } catch (const std::exception& e) {
                if (failures++ == 0) {
                    std::cerr << "daemon-bench: a crowd client failed: " << e.what() << "\n";
                }
            }
        });
    }
    for (auto& t : clients) {
        t.join();
    }
    if (failures > 0) {
        die(std::to_string(failures.load()) + " crowd clients failed");
    }
    const double crowdMs = usSince(crowdStart) / 1000;
    const double perOpen[3] = {(cpuMs(w.daemon()) - cpu0[0]) / 1000,
                               (cpuMs(w.sim().pid()) - cpu0[1]) / 1000,
                               (cpuMs(w.bus()) - cpu0[2]) / 1000};
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const double floorUs = (perOpen[0] + perOpen[1] + perOpen[2]) * 1000 * 100 / double(cores);
    char note[400];
    std::snprintf(note, sizeof note,
                  "each client its own bus connection; endpoints held until it ends; all 1000 in "
                  "%.0f ms; CPU per Open: rpmsgd %.2f ms, rpmsg-sim %.2f ms, dbus-daemon %.2f ms "
                  "(user+system), so with 100 Opens in flight on %ld cores the p50 cannot be "
                  "below about %.0f us",
                  crowdMs, perOpen[0], perOpen[1], perOpen[2], cores, floorUs);
    addRow({"100 clients x 10 endpoints opening at once: Open p50", "us", crowd.pct(50),
            "a lone client's Open p50", lone, "crowd / lone", "<= 1.5", note});
}

} // namespace

int main(int argc, char** argv) {
    int iterations = 500;
    std::string jsonOut;
    std::set<std::string> worlds;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--iterations" && i + 1 < argc) {
            iterations = std::max(10, atoi(argv[++i]));
        } else if (a == "--json" && i + 1 < argc) {
            jsonOut = argv[++i];
        } else if (a == "--world" && i + 1 < argc &&
                   std::set<std::string>{"start", "main", "idle"}.count(argv[i + 1])) {
            worlds.insert(argv[++i]);
        } else {
            std::cerr << "usage: daemon-bench [--iterations N] [--json FILE] "
                         "[--world start|main|idle]...\n";
            return 2;
        }
    }
    if (geteuid() != 0) {
        std::cout << "daemon-bench: needs root (FUSE, network namespace); skipped\n";
        return 77;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        perror("daemon-bench: unshare(CLONE_NEWNET)");
        return 77;
    }
    std::printf("rpmsgd benchmark (rpmsg-sim, udev mode)\n");
    auto wanted = [&](const char* world) {
        return worlds.empty() || worlds.count(world);
    };
    if (wanted("start")) {
        startupWorld();
    }
    if (wanted("main")) {
        mainWorld(iterations);
    }
    if (wanted("idle")) {
        idleWorld();
    }
    if (!jsonOut.empty()) {
        json out = json::array();
        for (const auto& r : rows) {
            json j = {{"measure", r.measure},
                      {"unit", r.unit},
                      {"ours", r.ours},
                      {"target", r.target},
                      {"note", r.note}};
            if (!std::isnan(r.reference)) {
                j["reference"] = {{"name", r.referenceName}, {"value", r.reference}};
                j["ratio"] = r.ours / r.reference;
                j["ratio_meaning"] = r.ratioMeaning;
            }
            out.push_back(j);
        }
        std::ofstream(jsonOut) << out.dump(2) << "\n";
    }
    return 0;
}
