// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgd benchmark (issue 3): Open->fd latency through the daemon against the same kernel steps
// done directly, echo round trips on a brokered fd against a direct one, time until 500 channels
// announced at once are all published, daemon RSS and idle wakeups.
//
// Everything runs in a private network namespace, so rpmsg-sim can send uevents and rpmsgd
// watches them (udev mode), as on a board. Run on demand:
//   meson test -C BUILD --benchmark daemon -v      or      BUILD/tests/bench/daemon-bench

#include "daemon/kernel/endpoint.h"
#include "private_bus.h"
#include "sim_harness.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sched.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

using namespace std::chrono;
using namespace simtest;

namespace {

double ms(steady_clock::duration d) {
    return duration<double, std::milli>(d).count();
}
double us(steady_clock::duration d) {
    return duration<double, std::micro>(d).count();
}

struct Stats {
    std::vector<double> v;
    double pct(double p) {
        std::sort(v.begin(), v.end());
        return v.empty() ? 0 : v[std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())))];
    }
};

long statusField(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0) {
            return std::stol(line.substr(key.size() + 1));
        }
    }
    return -1;
}

long switches(pid_t pid) {
    return statusField(pid, "voluntary_ctxt_switches") +
           statusField(pid, "nonvoluntary_ctxt_switches");
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    return pid;
}

/// Event-loop iterations per second of @p pid (epoll_wait returns, via strace -c), or -1.
double loopWakeups(pid_t pid, int seconds) {
    if (access("/usr/bin/strace", X_OK) != 0) {
        return -1;
    }
    std::string cmd = "timeout " + std::to_string(seconds) + " strace -c -e trace=epoll_wait -p " +
                      std::to_string(pid) + " 2>&1";
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) {
        return -1;
    }
    char line[512];
    double calls = -1;
    while (fgets(line, sizeof line, f)) {
        double pct, secs;
        long usecs, n;
        char name[64];
        if (sscanf(line, "%lf %lf %ld %ld %63s", &pct, &secs, &usecs, &n, name) == 5 &&
            std::string(name) == "epoll_wait") {
            calls = double(n);
        }
    }
    pclose(f);
    return calls < 0 ? -1 : calls / seconds;
}

std::string env(const char* name, const std::string& fallback) {
    const char* v = getenv(name);
    return v ? v : fallback;
}

} // namespace

int main(int argc, char** argv) {
    int iterations = argc > 1 ? atoi(argv[1]) : 500;
    if (geteuid() != 0) {
        std::cout << "daemon-bench: needs root (FUSE, network namespace); skipped\n";
        return 77;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        perror("daemon-bench: unshare(CLONE_NEWNET)");
        return 77;
    }
    std::string rpmsgd = env("RPMSGD", "daemon/rpmsgd");
    std::string policy = env("RPMSGD_POLICY", "../dbus/org.rpmsgd.Broker1.conf");
    TempDir tmp("rpmsgd-bench");
    chmod(tmp.path().c_str(), 0755);

    // A firmware announcing 500 echo channels at once.
    nlohmann::json spec = {{"boot_ms", 0}, {"services", nlohmann::json::array()}};
    for (int i = 0; i < 500; ++i) {
        spec["services"].push_back(
            {{"name", i == 0 ? std::string("rpmsg-echo") : "svc-" + std::to_string(i)},
             {"addr", 1024 + i},
             {"kind", "echo"}});
    }
    Sim sim(tmp.path() + "/sim");
    SimOptions so;
    so.config = defaultConfig("many.elf");
    so.uevents = true;
    std::string err;
    if (auto r = sim.mkfw("many.elf", spec); r.exitCode != 0) {
        std::cerr << "daemon-bench: mkfw failed\n";
        return 1;
    }
    if (!sim.start(so, err)) {
        std::cerr << "daemon-bench: sim: " << err << "\n" << sim.log();
        return 1;
    }
    std::string mnt = sim.mountDir();
    std::cerr << "daemon-bench: sim mounted on " << mnt << "\n";

    harness::PrivateBus bus;
    if (const std::string e = bus.start(tmp.path() + "/bus", policy); !e.empty()) {
        std::cerr << "daemon-bench: " << e << "\n";
        return 1;
    }
    std::string cfg = tmp.path() + "/rpmsgd.json";
    {
        std::ofstream f(cfg);
        f << "{\"paths\": {\"sysfs\": \"" << mnt << "/sys\", \"dev\": \"" << mnt
          << "/dev\", \"debugfs\": \"" << mnt << "/sys/kernel/debug\", \"firmware\": \""
          << sim.firmwareDir() << "\", \"state\": \"" << tmp.path()
          << "/state\"}, \"watch\": {\"mode\": \"udev\"}, "
             "\"limits\": {\"endpoints_per_client\": 4096, \"endpoints_total\": 4096}}\n";
    }
    setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address().c_str(), 1);
    pid_t daemon = spawn({rpmsgd, "--config", cfg}, tmp.path() + "/rpmsgd.log");

    std::cerr << "daemon-bench: bus and rpmsgd started\n";
    auto conn = sdbus::createSystemBusConnection();
    auto dbus = sdbus::createProxy(*conn, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    bool owned = false;
    for (int i = 0; i < 200 && !owned; ++i) {
        dbus->callMethod("NameHasOwner")
            .onInterface("org.freedesktop.DBus")
            .withArguments(std::string("org.rpmsgd.Broker1"))
            .storeResultsTo(owned);
        if (!owned) {
            usleep(20000);
        }
    }
    if (!owned) {
        std::cerr << "daemon-bench: rpmsgd did not take its name\n";
        return 1;
    }
    auto mgr = sdbus::createProxy(*conn, "org.rpmsgd.Broker1", "/org/rpmsgd/Broker1");
    auto proc = sdbus::createProxy(*conn, "org.rpmsgd.Broker1",
                                   "/org/rpmsgd/Broker1/processor/remoteproc0");
    const char* M = "org.rpmsgd.Broker1.Manager";

    std::cerr << "daemon-bench: rpmsgd owns its name; measuring idle\n";
    std::this_thread::sleep_for(1s);
    long rssIdle = statusField(daemon, "VmRSS");
    long s0 = switches(daemon);
    std::this_thread::sleep_for(5s);
    double wakeIdle = double(switches(daemon) - s0) / 5.0;
    double loopIdle = loopWakeups(daemon, 5);

    std::cerr << "daemon-bench: starting the 500-channel firmware\n";
    // 500 channels announced at once: from the Start reply until ListChannels has them all.
    auto t0 = steady_clock::now();
    proc->callMethod("Start").onInterface("org.rpmsgd.Broker1.Processor");
    auto tStarted = steady_clock::now();
    std::vector<sdbus::Struct<std::string, std::string, uint32_t, sdbus::ObjectPath>> chans;
    steady_clock::time_point tAll;
    for (;;) {
        mgr->callMethod("ListChannels").onInterface(M).storeResultsTo(chans);
        if (chans.size() >= 500) {
            tAll = steady_clock::now();
            break;
        }
        if (steady_clock::now() - t0 > 30s) {
            std::cerr << "daemon-bench: only " << chans.size() << " channels after 30 s\n";
            return 1;
        }
        std::this_thread::sleep_for(2ms);
    }
    std::this_thread::sleep_for(1s);
    long rss500 = statusField(daemon, "VmRSS");
    s0 = switches(daemon);
    std::this_thread::sleep_for(5s);
    double wake500 = double(switches(daemon) - s0) / 5.0;
    double loop500 = loopWakeups(daemon, 5);

    sdbus::ObjectPath echoPath;
    mgr->callMethod("WaitForChannel")
        .onInterface(M)
        .withArguments(std::string("rpmsg-echo"), std::string(""), uint32_t(1000))
        .storeResultsTo(echoPath);
    auto chan = sdbus::createProxy(*conn, "org.rpmsgd.Broker1", echoPath);

    std::cerr << "daemon-bench: Open latency\n";
    // Open -> fd through the daemon.
    Stats openBroker, openDirect;
    for (int i = 0; i < iterations; ++i) {
        sdbus::UnixFd fd;
        sdbus::ObjectPath ep;
        uint32_t mtu = 0;
        auto a = steady_clock::now();
        chan->callMethod("Open")
            .onInterface("org.rpmsgd.Broker1.Channel")
            .withArguments(std::map<std::string, sdbus::Variant>{})
            .storeResultsTo(fd, ep, mtu);
        openBroker.v.push_back(us(steady_clock::now() - a));
        auto e = sdbus::createProxy(*conn, "org.rpmsgd.Broker1", ep);
        e->callMethod("Close").onInterface("org.rpmsgd.Broker1.Endpoint");
    }
    // The same kernel steps by a root program: CREATE_EPT, find the eptdev, open it.
    rpmsgd::kernel::Paths kp;
    kp.sysfs = mnt + "/sys";
    kp.dev = mnt + "/dev";
    for (int i = 0; i < iterations; ++i) {
        auto a = steady_clock::now();
        auto opened = rpmsgd::kernel::createEndpoint(
            kp, "rpmsg_ctrl0", "bench-" + std::to_string(i), 0xFFFFFFFFu, 1024, false);
        openDirect.v.push_back(us(steady_clock::now() - a));
        rpmsgd::kernel::destroyEndpoint(opened.fd);
        close(opened.fd);
    }

    // Echo round trips: brokered fd vs a directly opened one.
    auto rtt = [](int fd, int n) {
        Stats s;
        char buf[512] = "0123456789abcdef";
        for (int i = 0; i < n; ++i) {
            auto a = steady_clock::now();
            if (write(fd, buf, 16) != 16 || read(fd, buf, sizeof buf) != 16) {
                std::cerr << "daemon-bench: echo failed\n";
                exit(1);
            }
            s.v.push_back(us(steady_clock::now() - a));
        }
        return s;
    };
    sdbus::UnixFd bfd;
    sdbus::ObjectPath bep;
    uint32_t mtu = 0;
    chan->callMethod("Open")
        .onInterface("org.rpmsgd.Broker1.Channel")
        .withArguments(std::map<std::string, sdbus::Variant>{})
        .storeResultsTo(bfd, bep, mtu);
    auto direct =
        rpmsgd::kernel::createEndpoint(kp, "rpmsg_ctrl0", "bench-rtt", 0xFFFFFFFFu, 1024, false);
    Stats rttBroker = rtt(bfd.get(), 20000), rttDirect = rtt(direct.fd, 20000);

    printf("\nrpmsgd benchmark (rpmsg-sim, udev mode, %d iterations)\n", iterations);
    printf("  Open->fd latency     daemon p50 %7.0f us  p99 %7.0f us\n", openBroker.pct(50),
           openBroker.pct(99));
    printf("                       direct p50 %7.0f us  p99 %7.0f us   ratio p50 %.2f  p99 %.2f\n",
           openDirect.pct(50), openDirect.pct(99), openBroker.pct(50) / openDirect.pct(50),
           openBroker.pct(99) / openDirect.pct(99));
    printf("  echo RTT (16 B)      brokered p50 %5.1f us p99 %5.1f us | direct p50 %5.1f us p99 "
           "%5.1f us\n",
           rttBroker.pct(50), rttBroker.pct(99), rttDirect.pct(50), rttDirect.pct(99));
    printf(
        "  500 channels         Start took %.1f ms; all published %.1f ms after Start returned\n",
        ms(tStarted - t0), ms(tAll - tStarted));
    printf("  daemon RSS           idle %ld KiB, with 500 channels %ld KiB\n", rssIdle, rss500);
    printf("  idle loop wakeups/s  no channels %.1f, 500 channels %.1f (epoll_wait returns; -1: no "
           "strace)\n",
           loopIdle, loop500);
    printf(
        "  idle ctx switches/s  no channels %.1f, 500 channels %.1f (each sysfs read of the sim\n"
        "                       blocks on FUSE, so this overstates what a board sees)\n",
        wakeIdle, wake500);

    rpmsgd::kernel::destroyEndpoint(direct.fd);
    close(direct.fd);
    kill(daemon, SIGTERM);
    waitpid(daemon, nullptr, 0);
    bus.stop();
    sim.shutdown();
    return 0;
}
