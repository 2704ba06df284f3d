// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Echo round trips through rpmsg-sim: mounts a private sim, boots an echo firmware, opens
// endpoints with CREATE_EPT to the echo service and measures round trips per second and
// p50/p99 latency for 16- and 496-byte payloads on 1 and 8 endpoints (one thread each).
//
//   sim-echo-bench [--duration SECONDS] [--sim PATH] [--kernel] [--json FILE]
//
// --kernel measures the running kernel instead (the real-kernel lane's guest, where
// `rpmsg-sim remote --vhost-user` runs tests/uml/lane-fw.json, whose echo service is at 1024
// too): no sim, the first /dev/rpmsg_ctrl*. `uml-lane --run` starts it there.
// Exit 77 (skip) when not root or, without --kernel, without /dev/fuse.

#include "sim_harness.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

using namespace simtest;
using Clock = std::chrono::steady_clock;

namespace {

struct CaseResult {
    size_t payload = 0;
    int endpoints = 0;
    uint64_t roundTrips = 0;
    double seconds = 0;
    double p50us = 0;
    double p99us = 0;
    uint64_t errors = 0;
    std::string firstError;
};

int usage(const char* argv0, int rc) {
    (rc == 0 ? std::cout : std::cerr)
        << "usage: " << argv0 << " [--duration SECONDS] [--sim PATH] [--kernel] [--json FILE]\n"
        << "Measures echo round trips through rpmsg-sim (root and /dev/fuse required), or with\n"
        << "--kernel through the running kernel's first /dev/rpmsg_ctrl* (echo service at 1024).\n";
    return rc;
}

double percentile(std::vector<uint64_t>& ns, double p) {
    if (ns.empty()) {
        return 0;
    }
    const size_t idx = std::min(ns.size() - 1, static_cast<size_t>(p * (ns.size() - 1) + 0.5));
    std::nth_element(ns.begin(), ns.begin() + static_cast<long>(idx), ns.end());
    return static_cast<double>(ns[idx]) / 1000.0;
}

CaseResult runCase(const std::vector<int>& fds, size_t payload, std::chrono::milliseconds dur) {
    CaseResult res;
    res.payload = payload;
    res.endpoints = static_cast<int>(fds.size());
    std::vector<std::vector<uint64_t>> lat(fds.size());
    std::vector<std::string> errs(fds.size());
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    const auto t0 = Clock::now();
    for (size_t i = 0; i < fds.size(); ++i) {
        threads.emplace_back([&, i] {
            std::string out(payload, static_cast<char>('a' + i));
            std::string in(512, '\0');
            lat[i].reserve(1 << 16);
            while (!stop.load(std::memory_order_relaxed)) {
                const auto s = Clock::now();
                if (::write(fds[i], out.data(), out.size()) != static_cast<ssize_t>(payload)) {
                    errs[i] = std::string("write: ") + std::strerror(errno);
                    return;
                }
                const ssize_t n = ::read(fds[i], in.data(), in.size());
                if (n != static_cast<ssize_t>(payload)) {
                    errs[i] = n < 0 ? std::string("read: ") + std::strerror(errno)
                                    : "read returned " + std::to_string(n) + " bytes";
                    return;
                }
                lat[i].push_back(static_cast<uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - s)
                        .count()));
            }
        });
    }
    std::this_thread::sleep_for(dur);
    stop = true;
    for (auto& t : threads) {
        t.join();
    }
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<uint64_t> all;
    for (size_t i = 0; i < fds.size(); ++i) {
        all.insert(all.end(), lat[i].begin(), lat[i].end());
        if (!errs[i].empty()) {
            ++res.errors;
            if (res.firstError.empty()) {
                res.firstError = errs[i];
            }
        }
    }
    res.roundTrips = all.size();
    res.p50us = percentile(all, 0.50);
    res.p99us = percentile(all, 0.99);
    return res;
}

} // namespace

int main(int argc, char** argv) {
    double durationS = 3.0;
    bool onKernel = false;
    std::string jsonOut;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            return usage(argv[0], 0);
        }
        if (a == "--duration" && i + 1 < argc) {
            char* end = nullptr;
            durationS = std::strtod(argv[++i], &end);
            if (end == argv[i] || *end != '\0' || durationS <= 0 || durationS > 3600) {
                std::cerr << "--duration: expected seconds in (0, 3600], got '" << argv[i] << "'\n";
                return 2;
            }
        } else if (a == "--json" && i + 1 < argc) {
            jsonOut = argv[++i];
        } else if (a == "--kernel") {
            onKernel = true;
        } else if (a == "--sim" && i + 1 < argc) {
            ::setenv("RPMSG_SIM", argv[++i], 1);
        } else {
            std::cerr << "unknown argument '" << a << "'\n";
            return usage(argv[0], 2);
        }
    }
    if (const auto why = onKernel ? std::string(::geteuid() ? "not root" : "") : skipReason();
        !why.empty()) {
        std::cout << "SKIP: " << why << "\n";
        return 77;
    }
    const auto duration = std::chrono::milliseconds(static_cast<int64_t>(durationS * 1000.0 + 0.5));

    TempDir tmp("rpmsg-sim-bench");
    Sim sim(tmp.path());
    std::string ctrlName = "rpmsg_ctrl0";
    if (onKernel) {
        ctrlName.clear();
        for (const auto& e : std::filesystem::directory_iterator("/dev")) {
            const std::string n = e.path().filename();
            if (n.rfind("rpmsg_ctrl", 0) == 0 && (ctrlName.empty() || n < ctrlName)) {
                ctrlName = n;
            }
        }
        if (ctrlName.empty()) {
            std::cerr << "no /dev/rpmsg_ctrl* on this kernel\n";
            return 1;
        }
    } else {
        const auto fw = sim.mkfw("echo.elf", echoSpec(0));
        if (fw.exitCode != 0) {
            std::cerr << "rpmsg-sim mkfw failed: " << fw.err << "\n";
            return 1;
        }
        SimOptions options;
        options.config = defaultConfig();
        std::string error;
        if (!sim.start(options, error)) {
            std::cerr << error << "\n";
            return 1;
        }
        const std::string rproc = sim.path("sys/class/remoteproc/remoteproc0/state");
        if (const int rc = writeFile(rproc, "start"); rc != 0) {
            std::cerr << "start failed: " << std::strerror(rc > 0 ? rc : EIO) << "\n" << sim.log();
            return 1;
        }
    }
    // On the kernel, paths are the real /dev and /sys.
    auto path = [&](const std::string& rel) {
        return onKernel ? "/" + rel : sim.path(rel);
    };
    auto eptdevs = [&] {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(path("sys/class/rpmsg"))) {
            const std::string n = e.path().filename();
            if (n.rfind("rpmsg_ctrl", 0) != 0) {
                names.push_back(n);
            }
        }
        return names;
    };
    Fd ctrl(::open(path("dev/" + ctrlName).c_str(), O_RDWR | O_CLOEXEC));
    if (!ctrl.valid()) {
        std::cerr << "open " << ctrlName << ": " << std::strerror(errno) << "\n"
                  << (onKernel ? "" : sim.log());
        return 1;
    }
    constexpr int kMaxEndpoints = 8;
    std::vector<Fd> endpoints;
    for (int i = 0; i < kMaxEndpoints; ++i) {
        const auto before = eptdevs();
        if (const int rc = createEpt(ctrl.get(), "bench" + std::to_string(i), 0xFFFFFFFFu, 1024);
            rc != 0) {
            std::cerr << "CREATE_EPT: " << std::strerror(rc) << "\n";
            return 1;
        }
        std::string dev;
        for (const auto& n : eptdevs()) {
            if (std::find(before.begin(), before.end(), n) == before.end()) {
                dev = n;
            }
        }
        Fd fd(::open(path("dev/" + dev).c_str(), O_RDWR | O_CLOEXEC));
        if (dev.empty() || !fd.valid()) {
            std::cerr << "cannot open the new eptdev '" << dev << "': " << std::strerror(errno)
                      << "\n";
            return 1;
        }
        endpoints.push_back(std::move(fd));
    }

    std::printf("%s echo benchmark, %.1f s per case\n\n",
                onKernel ? "real-kernel (UML guest, vhost-user remote)" : "rpmsg-sim", durationS);
    std::printf("%9s %9s %12s %12s %10s %10s\n", "payload", "endpoints", "round trips", "trips/s",
                "p50 us", "p99 us");
    bool failed = false;
    nlohmann::json cases = nlohmann::json::array();
    for (const size_t payload : {size_t{16}, size_t{496}}) {
        for (const int n : {1, kMaxEndpoints}) {
            std::vector<int> fds;
            for (int i = 0; i < n; ++i) {
                fds.push_back(endpoints[static_cast<size_t>(i)].get());
            }
            const auto r = runCase(fds, payload, duration);
            std::printf("%9zu %9d %12llu %12.0f %10.1f %10.1f\n", r.payload, r.endpoints,
                        static_cast<unsigned long long>(r.roundTrips),
                        static_cast<double>(r.roundTrips) / r.seconds, r.p50us, r.p99us);
            std::fflush(stdout);
            cases.push_back({{"payload", r.payload},
                             {"endpoints", r.endpoints},
                             {"round_trips_per_s", static_cast<double>(r.roundTrips) / r.seconds},
                             {"p50_us", r.p50us},
                             {"p99_us", r.p99us}});
            if (r.errors != 0) {
                std::fprintf(stderr, "  %llu endpoint(s) failed: %s\n",
                             static_cast<unsigned long long>(r.errors), r.firstError.c_str());
                failed = true;
            }
        }
    }
    if (!jsonOut.empty()) {
        std::ofstream(jsonOut) << nlohmann::json{{"target", onKernel ? "kernel" : "rpmsg-sim"},
                                                 {"duration_s", durationS},
                                                 {"cases", cases}}
                                      .dump(2)
                               << "\n";
    }
    endpoints.clear();
    ctrl.reset();
    const int status = onKernel ? 0 : sim.shutdown();
    if (failed && !onKernel) {
        std::cerr << sim.log();
    }
    (void)status;
    return failed ? 1 : 0;
}
