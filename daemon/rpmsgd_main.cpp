// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgd: the remote-processor messaging broker. Single thread on sd-event.

#include "bus_bridge.h"
#include "common/scheduler.h"
#include "config/config.h"
#include "dbus/errors.h"
#include "dbus_service.h"
#include "fd_store.h"
#include "kernel_port_real.h"
#include "log.h"
#include "policy.h"
#include "project_version.h"
#include "registry.h"
#include "watcher.h"

#include <cstring>
#include <iostream>
#include <malloc.h>
#include <memory>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

namespace rpmsgd {
namespace {

const char* const Usage =
    "Usage: rpmsgd [--config FILE] | --check-config FILE | --help | --version\n"
    "\n"
    "Brokers remote-processor messaging: publishes the remote processors and the rpmsg\n"
    "channels they announce on the system bus as org.rpmsgd.Broker1, and hands clients a file\n"
    "descriptor for their own endpoint.\n"
    "\n"
    "  --config FILE        configuration (default /etc/rpmsgd/rpmsgd.json, plus FILE.d/*.json)\n"
    "  --check-config FILE  validate FILE and its drop-ins, print the errors, and exit\n"
    "                       (0 valid, 1 invalid)\n"
    "\n"
    "The bus is the system bus (DBUS_SYSTEM_BUS_ADDRESS overrides it, as for any sd-bus program).\n"
    "Environment: RPMSGD_DEBUG=1 logs debug messages.\n";

kernel::Paths kernelPaths(const config::Config& cfg) {
    kernel::Paths k;
    k.sysfs = cfg.paths.sysfs;
    k.dev = cfg.paths.dev;
    k.debugfs = cfg.paths.debugfs;
    k.firmware = cfg.paths.firmware;
    return k;
}

class Daemon {
public:
    Daemon(std::string configFile, bool configGiven, config::Config cfg)
        : configFile_(std::move(configFile)), configGiven_(configGiven), cfg_(std::move(cfg)) {}

    int run() {
        if (int r = sd_event_default(&event_); r < 0) {
            log::error(std::string("Failed to create the event loop: ") + strerror(-r));
            return 1;
        }
        sd_event_add_signal(event_, nullptr, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, &Daemon::onExit,
                            this);
        sd_event_add_signal(event_, nullptr, SIGINT | SD_EVENT_SIGNAL_PROCMASK, &Daemon::onExit,
                            this);
        sd_event_add_signal(event_, nullptr, SIGHUP | SD_EVENT_SIGNAL_PROCMASK, &Daemon::onHup,
                            this);
        signal(SIGPIPE, SIG_IGN);
        // Pings the service manager's watchdog from the loop when WatchdogSec= is set.
        sd_event_set_watchdog(event_, true);

        scheduler_.emplace(event_);
        std::unique_ptr<sdbus::IConnection> connection;
        try {
            connection = sdbus::createSystemBusConnection();
        } catch (const sdbus::Error& e) {
            log::error("Failed to connect to the system bus: " + e.getMessage());
            return 1;
        }
        kernel_ = std::make_unique<RealKernelPort>(kernelPaths(cfg_), cfg_.limits.firmwareMaxBytes);
        std::vector<std::string> warnings;
        Policy policy = policyFrom(cfg_, warnings);
        for (const auto& w : warnings) {
            log::warning(w);
        }
        int rc = 0;
        try {
            BusBridge bridge(*connection, event_);
            service_ = std::make_unique<DbusService>(
                *connection, *scheduler_, [this] { return reload(); }, cfg_.limits.waitsPerClient);
            store_ = std::make_unique<Store>(cfg_.paths.state, cfg_.paths.firmware);
            worker_ = std::make_unique<Worker>(event_);
            registry_ = std::make_unique<Registry>(*kernel_, *service_, std::move(policy), *store_,
                                                   *worker_);
            service_->attach(*registry_);

            // Endpoints a previous instance left behind (it was killed) are destroyed first:
            // those whose copies the service manager kept for us, then any other of ours.
            registry_->setFdStore(&fdStore_);
            destroyInheritedEndpoints();
            size_t stale =
                kernel_->destroyStaleEndpoints(Registry::KernelPrefix, Registry::ownKernelPrefix());
            if (stale) {
                log::notice("Destroyed " + std::to_string(stale) +
                            " endpoint(s) left by a previous rpmsgd");
            }
            for (const auto& w : kernel_->staleWarnings()) {
                log::warning("Cannot destroy an endpoint left by a previous rpmsgd yet (retried "
                             "while the daemon runs): " +
                             w);
            }

            watcher_ = std::make_unique<Watcher>(
                event_, *scheduler_, [this] { rescan(); }, [this] { pollStates(); });
            rescan(); // publish what exists before taking the name
            connection->requestName(BusName);
            // Only now: an autostarted remote's first announcements reach published objects.
            registry_->enableProcessorPolicies();
            startWatching();
            followTraces();
            sd_notify(0, "READY=1\nSTATUS=Brokering remote processors");
            log::info(std::string("rpmsgd ") + RPMSGD_VERSION + " ready on the bus as " + BusName);

            int r = sd_event_loop(event_);
            if (r < 0) {
                log::error(std::string("Event loop failed: ") + strerror(-r));
                rc = 1;
            } else {
                rc = r == 0 ? 0 : 1;
            }
            sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
            traceTimer_.cancel();
            watcher_.reset();
            registry_->endAll();
            service_->clear();
            try {
                connection->releaseName(BusName);
            } catch (const sdbus::Error&) {
            }
            registry_.reset();
            worker_.reset();
            service_.reset();
        } catch (const sdbus::Error& e) {
            log::error("D-Bus failure: " + e.getName() + ": " + e.getMessage());
            rc = 1;
        } catch (const std::exception& e) {
            log::error(std::string("Fatal: ") + e.what());
            rc = 1;
        }
        scheduler_.reset();
        sd_event_unref(event_);
        return rc;
    }

private:
    void rescan() {
        try {
            registry_->rescan();
        } catch (const std::exception& e) {
            log::warning(std::string("Failed to rescan, ignoring: ") + e.what());
        }
    }

    /// @brief Destroys the endpoints whose fds the service manager passed back (kept by a
    /// killed instance through FDSTORE), and drops them from its store.
    void destroyInheritedEndpoints() {
        size_t destroyed = 0;
        for (const auto& [name, fd] : FdStore::inherited()) {
            if (FdStore::endpointNumber(name) != 0) {
                // Already torn down (the processor went away meanwhile): POLLERR only.
                pollfd p{fd, POLLIN, 0};
                const bool gone = ::poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
                try {
                    if (!gone) {
                        kernel_->destroyEndpoint(fd); // its client's fd now fails with EPIPE
                        ++destroyed;
                    }
                } catch (const std::exception& e) {
                    log::warning("Failed to destroy an endpoint left by a previous rpmsgd (" +
                                 name + "), ignoring: " + e.what());
                }
            } else {
                log::warning("Dropping the unknown fd \"" + name + "\" the service manager passed");
            }
            ::close(fd);
            fdStore_.remove(name);
        }
        if (destroyed) {
            log::notice("Destroyed " + std::to_string(destroyed) +
                        " endpoint(s) a killed rpmsgd kept in the service manager's fd store");
        }
    }

    void pollStates() {
        if (kernel_->staleEndpointsLeft()) {
            // Held open by their clients at startup: destroyed once they are closed.
            try {
                if (size_t n = kernel_->destroyStaleEndpoints(Registry::KernelPrefix,
                                                              Registry::ownKernelPrefix())) {
                    log::notice("Destroyed " + std::to_string(n) +
                                " endpoint(s) left by a previous rpmsgd, now that their "
                                "clients closed them");
                }
            } catch (const std::exception& e) {
                log::warning(std::string("Failed to sweep stale endpoints, ignoring: ") + e.what());
            }
        }
        try {
            if (registry_->pollStates()) {
                rescan(); // a state change comes with devices coming or going
            }
        } catch (const std::exception& e) {
            log::warning(std::string("Failed to read processor states, ignoring: ") + e.what());
        }
        if (tracesWithStates_) {
            readTraces();
        }
    }

    void readTraces() {
        try {
            registry_->followTraces();
        } catch (const std::exception& e) {
            log::warning(std::string("Failed to follow trace buffers, ignoring: ") + e.what());
        }
    }

    void startWatching() {
        std::string error;
        auto mode =
            cfg_.watch.mode == config::WatchMode::Udev ? Watcher::Mode::Udev : Watcher::Mode::Poll;
        if (!watcher_->start(mode, cfg_.watch.pollIntervalMs, cfg_.watch.stateIntervalMs, error)) {
            log::warning(error + "; falling back to polling every " +
                         std::to_string(cfg_.watch.pollIntervalMs) + " ms");
            watcher_->start(Watcher::Mode::Poll, cfg_.watch.pollIntervalMs,
                            cfg_.watch.stateIntervalMs, error);
        }
    }

    /// One timer for every processor's trace buffers: reads them all every
    /// watch.trace_interval_ms (none when 0).
    void followTraces() {
        traceTimer_.cancel();
        tracesWithStates_ = false;
        const uint32_t everyMs = cfg_.watch.traceIntervalMs;
        if (everyMs == 0) {
            return;
        }
        if (everyMs == cfg_.watch.stateIntervalMs) {
            // One timer for all (the default): the watcher's state timer reads the traces too,
            // so an idle daemon wakes once per interval.
            tracesWithStates_ = true;
            return;
        }
        // Otherwise a timer of its own, coalesced with the others where their slack allows.
        traceTimer_ =
            scheduler_->afterWithSlack(everyMs, Scheduler::housekeepingSlackMs(everyMs), [this] {
                readTraces();
                followTraces();
            });
    }

    /// Re-reads the config; returns "" or the reason it was refused (the old one stays).
    std::string reload() {
        sd_notify(0, "RELOADING=1\nSTATUS=Reloading the configuration");
        auto result = config::loadConfig(configFile_, configGiven_);
        std::string err;
        if (!result.ok) {
            for (const auto& e : result.errors) {
                err += (err.empty() ? "" : "; ") + e;
            }
            log::error("Failed to reload the configuration, keeping the old one: " + err);
        } else if (!(result.config.paths == cfg_.paths)) {
            err = "\"paths\" cannot change while rpmsgd runs; restart it instead";
            log::error("Failed to reload the configuration, keeping the old one: " + err);
        } else {
            cfg_ = result.config;
            std::vector<std::string> warnings = result.warnings;
            registry_->setPolicy(policyFrom(cfg_, warnings));
            service_->setWaitsPerClient(cfg_.limits.waitsPerClient);
            for (const auto& w : warnings) {
                log::warning(w);
            }
            startWatching();
            followTraces();
            log::info("Configuration reloaded from " + configFile_);
        }
        sd_notify(0, "READY=1\nSTATUS=Brokering remote processors");
        return err;
    }

    static int onExit(sd_event_source* s, const signalfd_siginfo*, void*) {
        sd_event_exit(sd_event_source_get_event(s), 0);
        return 0;
    }

    static int onHup(sd_event_source*, const signalfd_siginfo*, void* userdata) {
        static_cast<Daemon*>(userdata)->reload();
        return 0;
    }

    std::string configFile_;
    bool configGiven_;
    config::Config cfg_;
    sd_event* event_ = nullptr;
    std::optional<Scheduler> scheduler_;
    std::unique_ptr<RealKernelPort> kernel_;
    FdStore fdStore_;
    std::unique_ptr<DbusService> service_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Worker> worker_;
    std::unique_ptr<Registry> registry_;
    std::unique_ptr<Watcher> watcher_;
    Timer traceTimer_;
    bool tracesWithStates_ = false; ///< the traces are read on the state timer (same interval)
};

} // namespace
} // namespace rpmsgd

int main(int argc, char** argv) {
    using namespace rpmsgd;
    // Worker threads (lifecycle writes, every Open's kernel steps) allocate little: one malloc
    // arena for all, rather than one more per concurrent thread, each with pages of its own.
    mallopt(M_ARENA_MAX, 1);
    std::string configFile = config::DefaultConfigFile;
    bool configGiven = false;
    std::optional<std::string> check;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::cout << Usage;
            return 0;
        }
        if (a == "--version") {
            std::cout << "rpmsgd " << RPMSGD_VERSION << "\n";
            return 0;
        }
        if ((a == "--config" || a == "--check-config") && i + 1 < argc) {
            (a == "--config" ? configFile : check.emplace()) = argv[++i];
            configGiven = true;
            continue;
        }
        std::cerr << "rpmsgd: " << (a.rfind("--", 0) == 0 ? "bad option " : "unexpected argument ")
                  << a << " (see --help)\n";
        return 2;
    }
    if (check) {
        auto result = config::loadConfig(*check, true);
        for (const auto& w : result.warnings) {
            std::cerr << "warning: " << w << "\n";
        }
        for (const auto& e : result.errors) {
            std::cerr << e << "\n";
        }
        if (result.ok) {
            std::cout << *check << ": valid\n";
        }
        return result.ok ? 0 : 1;
    }
    auto result = config::loadConfig(configFile, configGiven);
    for (const auto& w : result.warnings) {
        log::warning(w);
    }
    if (!result.ok) {
        for (const auto& e : result.errors) {
            log::error(e);
        }
        log::error("Failed to load the configuration from " + configFile + "; not starting");
        return 1;
    }
    Daemon daemon(configFile, configGiven, result.config);
    return daemon.run();
}
