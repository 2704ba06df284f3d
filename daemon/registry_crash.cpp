// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Crashes: counting each once, taking the kernel's devcoredumps (at once: with `inline` the
// kernel's recovery waits for them), and the daemon's own restart policy for processors whose
// kernel recovery is off (config/README.md, processors[].restart).

#include "log.h"
#include "registry.h"

#include <algorithm>
#include <ctime>

namespace rpmsgd {

namespace {

uint64_t monotonicSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec);
}

/// How long after a counted crash a devcoredump is still taken as that crash's.
constexpr uint64_t CoredumpAfterCrashS = 60;

} // namespace

void Registry::crashSeen(Processor& p, const std::string& why) {
    p.inCrash = true;
    p.ctrlAtCrash = p.ctrl;
    ++p.crashCount;
    p.crashAwaitingCore = monotonicSeconds();
    noteError(p, why);
    observer_.processorChanged(p, {"CrashCount"});
    observer_.crashed(p, p.crashCount, p.lastCoredumpFresh ? p.lastCoredump : "");
    p.lastCoredumpFresh = false;
    restartAfterCrash(p);
}

void Registry::restartAfterCrash(Processor& p) {
    const Policy::ProcessorRule* rule = ruleFor(p);
    if (p.recovery != RecoveryMode::Disabled || !rule || !rule->hasRestart) {
        return; // the kernel recovers it, or no processors[] entry asks for restarts
    }
    uint64_t now = monotonicSeconds();
    while (!p.crashTimes.empty() && now - p.crashTimes.front() >= rule->windowS) {
        p.crashTimes.pop_front();
    }
    p.crashTimes.push_back(now);
    // "Restart unless max_crashes happened within window_s" (config/README.md).
    if (p.crashTimes.size() >= rule->maxCrashes) {
        noteError(p, "crash loop: " + std::to_string(p.crashTimes.size()) + " crashes within " +
                         std::to_string(rule->windowS) + " s (restart.max_crashes is " +
                         std::to_string(rule->maxCrashes) + "); left stopped");
        return;
    }
    log::notice("Restarting " + describe(p) + " after a crash (" +
                    std::to_string(p.crashTimes.size()) + " within " +
                    std::to_string(rule->windowS) + " s)",
                {{"PROCESSOR", p.id}});
    runKernelWrite(
        p.id, "restart after crash",
        "restart after crash failed: ", [this](const std::string& i) { kernel_.recover(i); },
        [](std::exception_ptr) {});
}

void Registry::harvestCoredumps() {
    std::vector<CoredumpSnapshot> dumps;
    try {
        dumps = kernel_.coredumps();
    } catch (const std::exception& e) {
        log::warning(std::string("Failed to list devcoredumps, ignoring: ") + e.what());
        return;
    }
    // Forget the dismissed dumps the kernel has removed since.
    std::erase_if(dismissedCoredumps_, [&](const std::string& device) {
        return std::none_of(dumps.begin(), dumps.end(),
                            [&](const CoredumpSnapshot& d) { return d.device == device; });
    });
    for (const auto& d : dumps) {
        if (dismissedCoredumps_.count(d.device)) {
            continue; // read and dismissed already; the kernel is removing it
        }
        auto it = processors_.find(d.processorId);
        if (it == processors_.end()) {
            continue; // not a remote processor's dump: not ours to take
        }
        Processor& p = it->second;
        // Read it at once: with `inline`, the kernel's recovery waits until it is dismissed.
        std::string path;
        try {
            auto bytes = kernel_.readCoredump(d.device, policy_.coredumpMaxBytes);
            path = store_.saveCoredump(p.id, bytes, policy_.coredumpsKept);
            log::notice("Saved the coredump of " + describe(p) + " (" +
                            std::to_string(bytes.size()) + " bytes) to " +
                            (path.empty() ? "nowhere (limits.coredumps_kept is 0)" : path),
                        {{"PROCESSOR", p.id}, {"COREDUMP", path}});
        } catch (const std::exception& e) {
            log::error("Failed to save the coredump " + d.device + " of " + describe(p) + ": " +
                           e.what(),
                       {{"PROCESSOR", p.id}});
        }
        try {
            kernel_.dismissCoredump(d.device);
            dismissedCoredumps_.insert(d.device);
        } catch (const std::exception& e) {
            log::warning("Failed to dismiss " + d.device + ", ignoring: " + e.what());
        }
        if (!path.empty()) {
            p.lastCoredump = path;
            p.lastCoredumpFresh = true;
            observer_.processorChanged(p, {"LastCoredump"});
        }
        // A dump that comes after its crash was counted (the kernel recovered the remote
        // first) belongs to that crash, if it was recent.
        const bool counted =
            p.inCrash || (p.crashAwaitingCore != 0 &&
                          monotonicSeconds() - p.crashAwaitingCore <= CoredumpAfterCrashS);
        p.crashAwaitingCore = 0;
        if (!counted) {
            crashSeen(p, "the remote crashed (coredump taken)");
            p.crashAwaitingCore = 0; // this crash has its dump
        } else if (!path.empty()) {
            p.lastCoredumpFresh = false; // the Crashed signal already went out
        }
    }
}

} // namespace rpmsgd
