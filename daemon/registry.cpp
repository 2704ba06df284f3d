// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "registry.h"

#include "common/firmware_image.h"
#include "dbus/errors.h"
#include "fd_store.h"
#include "log.h"
#include "validation.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

namespace rpmsgd {

namespace {

constexpr uint32_t AddrAny = 0xFFFFFFFFu;

bool glob(const std::string& pattern, const std::string& s) {
    return fnmatch(pattern.c_str(), s.c_str(), 0) == 0;
}

std::string describe(const Processor& p) {
    return p.id == p.name || p.name.empty() ? p.id : p.id + " (" + p.name + ")";
}

} // namespace

bool Identity::matches(const Caller& caller) const {
    if (uids.count(caller.uid)) {
        return true;
    }
    return std::any_of(caller.gids.begin(), caller.gids.end(),
                       [&](uint32_t g) { return gids.count(g) > 0; });
}

Registry::Registry(KernelPort& kernel, RegistryObserver& observer, Policy policy, Store& store,
                   Worker& worker)
    : kernel_(kernel), observer_(observer), policy_(std::move(policy)), store_(store),
      worker_(worker) {}

namespace {
uint64_t monotonicSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec);
}
} // namespace

Registry::~Registry() = default;

// --- truth from the kernel -----------------------------------------------------------------

void Registry::rescan() {
    // Dumps first: a pending devcoredump is both a crash to report (with its core) and, with
    // `inline`, a kernel recovery waiting for us.
    harvestCoredumps();
    auto snaps = kernel_.processors();
    auto ctrls = kernel_.ctrls();
    auto chans = kernel_.channels();

    std::map<std::string, std::string> ctrlOf;
    std::map<std::string, uint64_t> ctrlInstanceOf;
    for (const auto& c : ctrls) {
        if (!ctrlOf.count(c.processorId)) {
            ctrlOf[c.processorId] = c.name;
            ctrlInstanceOf[c.processorId] = c.instance;
        }
    }
    std::set<std::string> seenProcs;
    for (const auto& s : snaps) {
        seenProcs.insert(s.id);
        auto it = processors_.find(s.id);
        if (it == processors_.end()) {
            Processor p;
            p.id = s.id;
            p.name = s.name;
            p.state = s.state;
            p.firmware = s.firmware;
            p.recovery = s.recovery;
            p.coredump = s.coredump;
            p.remoteproc = s.remoteproc;
            p.ctrl = ctrlOf.count(s.id) ? ctrlOf[s.id] : "";
            p.ctrlInstance = ctrlInstanceOf.count(s.id) ? ctrlInstanceOf[s.id] : 0;
            auto& ref = processors_[p.id] = p;
            log::info("Found processor " + describe(ref) + ", state " + ref.state,
                      {{"PROCESSOR", ref.id}});
            observer_.processorAdded(ref);
            if (policiesEnabled_) {
                applyPolicy(ref);
            }
            continue;
        }
        Processor& p = it->second;
        updateProcessor(p, s);
        std::string newCtrl = ctrlOf.count(s.id) ? ctrlOf[s.id] : "";
        uint64_t newInstance = ctrlInstanceOf.count(s.id) ? ctrlInstanceOf[s.id] : 0;
        if (newCtrl != p.ctrl || newInstance != p.ctrlInstance) {
            bool rebuiltWhileRunning = !p.ctrl.empty() && !newCtrl.empty();
            std::string old = p.ctrl;
            p.ctrl = newCtrl;
            p.ctrlInstance = newInstance;
            // The endpoints were made on the old control device: the kernel destroyed them.
            std::vector<uint64_t> dead;
            for (const auto& [n, e] : endpoints_) {
                if (e.processorId == p.id) {
                    dead.push_back(n);
                }
            }
            for (auto n : dead) {
                endEndpoint(n, "its processor's rpmsg devices were torn down");
            }
            if (rebuiltWhileRunning && p.state == "running" && !p.inCrash) {
                // The kernel takes the dump between stopping and restarting
                // (rproc_boot_recovery), so a dump of this crash exists by now even if the
                // listing at the top of this rescan was too early to see it. Take it first:
                // it reports the crash with its core, and the crash is counted once.
                harvestCoredumps();
            }
            if (rebuiltWhileRunning && p.state == "running" && !p.inCrash) {
                // Stop and recovery both tear the tree down; seeing it rebuilt while the state
                // stayed `running` means a crash the state poll was too slow to see.
                crashSeen(p, "the remote crashed and the kernel recovered it");
            }
            log::debug("Control device of " + p.id + " changed from '" + old + "' to '" + newCtrl +
                       "'");
        }
    }

    for (auto& [id, p] : processors_) {
        // Back up: running again, with its (new) control device if it had one.
        if (p.inCrash && p.state == "running" && (!p.ctrl.empty() || p.ctrlAtCrash.empty())) {
            p.inCrash = false;
        }
    }

    // Channels that went away, then new ones.
    std::set<std::string> seenChans;
    for (const auto& c : chans) {
        seenChans.insert(c.device);
    }
    std::vector<std::string> gone;
    for (const auto& [key, ch] : channels_) {
        if (!seenChans.count(key) || !seenProcs.count(ch.processorId)) {
            gone.push_back(key);
        }
    }
    for (const auto& key : gone) {
        Channel ch = channels_[key];
        std::vector<uint64_t> dead;
        for (const auto& [n, e] : endpoints_) {
            if (e.channelKey == key) {
                dead.push_back(n);
            }
        }
        for (auto n : dead) {
            endEndpoint(n, "its channel went away");
        }
        channels_.erase(key);
        observer_.channelRemoved(ch);
        auto pit = processors_.find(ch.processorId);
        if (pit != processors_.end()) {
            auto& list = pit->second.channels;
            list.erase(std::remove(list.begin(), list.end(), key), list.end());
            observer_.processorChanged(pit->second, {"Channels"});
        }
        log::info("Channel " + ch.name + " on " + ch.processorId + " is gone",
                  {{"PROCESSOR", ch.processorId}, {"CHANNEL", ch.name}});
    }
    for (const auto& c : chans) {
        if (channels_.count(c.device)) {
            continue;
        }
        auto pit = processors_.find(c.processorId);
        if (pit == processors_.end()) {
            continue; // its processor is not known (yet); the next scan picks it up
        }
        Channel ch;
        ch.key = c.device;
        ch.name = c.name;
        ch.processorId = c.processorId;
        ch.remoteAddress = c.remoteAddress;
        auto& ref = channels_[ch.key] = ch;
        pit->second.channels.push_back(ch.key);
        observer_.channelAdded(ref);
        observer_.processorChanged(pit->second, {"Channels"});
        log::info("Channel " + ref.name + " announced by " + describe(pit->second) + " at " +
                      std::to_string(ref.remoteAddress),
                  {{"PROCESSOR", ref.processorId}, {"CHANNEL", ref.name}});
    }

    // Processors that went away (hot-unplug, transport gone).
    std::vector<std::string> goneProcs;
    for (const auto& [id, p] : processors_) {
        if (!seenProcs.count(id)) {
            goneProcs.push_back(id);
        }
    }
    for (const auto& id : goneProcs) {
        std::vector<uint64_t> dead;
        for (const auto& [n, e] : endpoints_) {
            if (e.processorId == id) {
                dead.push_back(n);
            }
        }
        for (auto n : dead) {
            endEndpoint(n, "its processor went away");
        }
        Processor p = processors_[id];
        processors_.erase(id);
        observer_.processorRemoved(p);
        log::info("Processor " + describe(p) + " is gone", {{"PROCESSOR", id}});
    }
}

bool Registry::pollStates() {
    bool changed = false;
    for (auto& [id, p] : processors_) {
        if (!p.remoteproc) {
            continue;
        }
        std::string s = kernel_.state(id);
        if (!s.empty() && s != p.state) {
            refreshState(p, s);
            changed = true;
        }
    }
    return changed;
}

void Registry::updateProcessor(Processor& p, const ProcessorSnapshot& s) {
    std::vector<std::string> changed;
    auto set = [&](std::string& field, const std::string& value, const char* prop) {
        if (field != value) {
            field = value;
            changed.push_back(prop);
        }
    };
    set(p.name, s.name, "Name");
    set(p.firmware, s.firmware, "Firmware");
    set(p.recovery, s.recovery, "Recovery");
    set(p.coredump, s.coredump, "Coredump");
    if (!changed.empty()) {
        observer_.processorChanged(p, changed);
    }
    if (s.state != p.state) {
        refreshState(p, s.state);
    }
}

void Registry::refreshState(Processor& p, const std::string& state) {
    std::string old = p.state;
    p.state = state;
    observer_.processorChanged(p, {"State"});
    log::info("Processor " + describe(p) + " is " + state + " (was " + old + ")",
              {{"PROCESSOR", p.id}, {"STATE", state}});
    if (state == "crashed" && old != "crashed" && !p.inCrash) {
        crashSeen(p, "the remote crashed");
    }
}

void Registry::crashSeen(Processor& p, const std::string& why) {
    p.inCrash = true;
    p.ctrlAtCrash = p.ctrl;
    ++p.crashCount;
    noteError(p, why);
    observer_.processorChanged(p, {"CrashCount"});
    observer_.crashed(p, p.crashCount, p.lastCoredumpFresh ? p.lastCoredump : "");
    p.lastCoredumpFresh = false;

    // The daemon's own restart policy, for processors whose kernel recovery is off.
    const Policy::ProcessorRule* rule = ruleFor(p);
    if (p.recovery != "disabled" || !rule || !rule->hasRestart) {
        return;
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
    std::string id = p.id;
    log::notice("Restarting " + describe(p) + " after a crash (" +
                    std::to_string(p.crashTimes.size()) + " within " +
                    std::to_string(rule->windowS) + " s)",
                {{"PROCESSOR", id}});
    worker_.run(
        id, [this, id] { kernel_.recover(id); },
        [this, id](std::exception_ptr error) {
            if (error) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    auto it = processors_.find(id);
                    if (it != processors_.end()) {
                        noteError(it->second,
                                  std::string("restart after crash failed: ") + e.what());
                    }
                }
            }
            rescan();
        });
}

void Registry::harvestCoredumps() {
    std::vector<CoredumpSnapshot> dumps;
    try {
        dumps = kernel_.coredumps();
    } catch (const std::exception& e) {
        log::warning(std::string("Failed to list devcoredumps, ignoring: ") + e.what());
        return;
    }
    for (const auto& d : dumps) {
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
        } catch (const std::exception& e) {
            log::warning("Failed to dismiss " + d.device + ", ignoring: " + e.what());
        }
        if (!path.empty()) {
            p.lastCoredump = path;
            p.lastCoredumpFresh = true;
            observer_.processorChanged(p, {"LastCoredump"});
        }
        if (!p.inCrash) {
            crashSeen(p, "the remote crashed (coredump taken)");
        } else if (!path.empty()) {
            p.lastCoredumpFresh = false; // the Crashed signal already went out
        }
    }
}

const Policy::ProcessorRule* Registry::ruleFor(const Processor& p) const {
    for (const auto& r : policy_.processorRules) {
        if (glob(r.match, p.name) || glob(r.match, p.id)) {
            return &r; // first match wins
        }
    }
    return nullptr;
}

void Registry::enableProcessorPolicies() {
    policiesEnabled_ = true;
    for (auto& [id, p] : processors_) {
        applyPolicy(p);
    }
}

void Registry::applyPolicy(Processor& p) {
    if (p.configured || !p.remoteproc) {
        return;
    }
    p.configured = true;
    const Policy::ProcessorRule* rule = ruleFor(p);
    if (!rule || p.state != "offline") {
        return; // only a processor first seen offline is configured (not one already in use)
    }
    try {
        if (rule->firmware && *rule->firmware != p.firmware) {
            kernel_.setFirmware(p.id, *rule->firmware);
        }
        if (rule->recovery && (*rule->recovery ? "enabled" : "disabled") != p.recovery) {
            kernel_.setRecovery(p.id, *rule->recovery);
        }
        if (rule->coredump && *rule->coredump != p.coredump) {
            kernel_.setCoredump(p.id, *rule->coredump);
        }
    } catch (const std::exception& e) {
        noteError(p, std::string("applying the configuration failed: ") + e.what());
        return;
    }
    if (rule->autostart) {
        log::info("Autostarting " + describe(p), {{"PROCESSOR", p.id}});
        startNow(p.id, [](std::exception_ptr) {});
    }
}

void Registry::noteError(Processor& p, const std::string& message) {
    p.lastError = message;
    observer_.processorChanged(p, {"LastError"});
    log::warning(describe(p) + ": " + message, {{"PROCESSOR", p.id}});
}

void Registry::setPolicy(Policy policy) {
    policy_ = std::move(policy);
    // A reload that no longer allows an owner ends its endpoints.
    std::vector<uint64_t> revoke;
    for (const auto& [n, e] : endpoints_) {
        Caller c{e.owner, e.ownerUid, e.ownerGids};
        auto pit = processors_.find(e.processorId);
        if (pit == processors_.end()) {
            continue;
        }
        std::string name = e.channelKey.empty()            ? e.name
                           : channels_.count(e.channelKey) ? channels_[e.channelKey].name
                                                           : e.name;
        if (!isManager(c) && !channelAllowed(c, name, pit->second)) {
            revoke.push_back(n);
        }
    }
    for (auto n : revoke) {
        endEndpoint(n, "the new configuration no longer allows its owner");
    }
}

// --- lookups and policy -------------------------------------------------------------------

const Processor* Registry::findProcessor(const std::string& key) const {
    auto it = processors_.find(key);
    if (it != processors_.end()) {
        return &it->second;
    }
    for (const auto& [id, p] : processors_) {
        if (p.name == key) {
            return &p;
        }
    }
    return nullptr;
}

const Channel* Registry::findChannel(const std::string& name,
                                     const std::string& processorKey) const {
    const Processor* want = processorKey.empty() ? nullptr : findProcessor(processorKey);
    if (!processorKey.empty() && !want) {
        return nullptr;
    }
    for (const auto& [key, ch] : channels_) {
        if (ch.name == name && (!want || ch.processorId == want->id)) {
            return &ch;
        }
    }
    return nullptr;
}

const Processor& Registry::processor(const std::string& id) const {
    auto it = processors_.find(id);
    if (it == processors_.end()) {
        throw Error(ErrorCode::NotFound, "There is no processor " + id);
    }
    return it->second;
}

Processor& Registry::processorMutable(const std::string& id) {
    return const_cast<Processor&>(processor(id));
}

bool Registry::isManager(const Caller& caller) const {
    return caller.uid == 0 || policy_.managers.matches(caller);
}

void Registry::requireManager(const Caller& caller, const std::string& what) const {
    if (!isManager(caller)) {
        throw Error(ErrorCode::AccessDenied,
                    what + " needs root or a manager (uid " + std::to_string(caller.uid) +
                        " is neither; see \"managers\" in the configuration)");
    }
}

void Registry::requireRemoteproc(const Processor& p, const std::string& what) const {
    if (!p.remoteproc) {
        throw Error(ErrorCode::InvalidState, "Cannot " + what + " " + p.id +
                                                 ": the transport has no remoteproc, its "
                                                 "lifecycle is not Linux's to manage");
    }
}

bool Registry::channelAllowed(const Caller& caller, const std::string& channelName,
                              const Processor& p) const {
    for (const auto& rule : policy_.channelRules) {
        if (glob(rule.match, channelName) &&
            (glob(rule.processor, p.id) || glob(rule.processor, p.name))) {
            return rule.who.matches(caller); // the first rule that fits decides
        }
    }
    return false;
}

// --- lifecycle ----------------------------------------------------------------------------

void Registry::runLifecycle(const std::string& id, const char* verb,
                            std::function<void(const std::string&)> work, Done done) {
    std::string what = verb;
    worker_.run(
        id, [this, id, work = std::move(work)] { work(id); },
        [this, id, what, done = std::move(done)](std::exception_ptr error) {
            auto it = processors_.find(id);
            if (error && it != processors_.end()) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    noteError(it->second, what + " failed: " + e.what());
                }
            } else if (it != processors_.end()) {
                log::info(what + " " + describe(it->second) + ": done", {{"PROCESSOR", id}});
            }
            rescan();
            done(error);
        });
}

void Registry::startNow(const std::string& id, Done done) {
    runLifecycle(
        id, "start", [this](const std::string& i) { kernel_.start(i); }, std::move(done));
}

void Registry::stopNow(const std::string& id, Done done) {
    runLifecycle(
        id, "stop", [this](const std::string& i) { kernel_.stop(i); }, std::move(done));
}

void Registry::start(const Caller& caller, const std::string& id, Done done) {
    requireManager(caller, "Starting a processor");
    requireRemoteproc(processor(id), "start");
    startNow(id, std::move(done));
}

void Registry::stop(const Caller& caller, const std::string& id, Done done) {
    requireManager(caller, "Stopping a processor");
    requireRemoteproc(processor(id), "stop");
    stopNow(id, std::move(done));
}

void Registry::restart(const Caller& caller, const std::string& id, Done done) {
    requireManager(caller, "Restarting a processor");
    requireRemoteproc(processor(id), "restart");
    stopNow(id, [this, id, done = std::move(done)](std::exception_ptr error) {
        if (error) {
            return done(error);
        }
        startNow(id, done);
    });
}

void Registry::recover(const Caller& caller, const std::string& id, Done done) {
    requireManager(caller, "Recovering a processor");
    Processor& p = processorMutable(id);
    requireRemoteproc(p, "recover");
    if (p.state != "crashed") {
        throw Error(ErrorCode::InvalidState,
                    "Cannot recover " + describe(p) + ": it is " + p.state + ", not crashed");
    }
    // Runs off the loop: with an inline coredump the kernel holds the write until we have read
    // and dismissed the dump, which the loop does meanwhile.
    worker_.run(
        id, [this, id] { kernel_.recover(id); },
        [this, id, done = std::move(done)](std::exception_ptr error) {
            auto it = processors_.find(id);
            if (error && it != processors_.end()) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    noteError(it->second, std::string("recover failed: ") + e.what());
                }
            }
            rescan();
            done(error);
        });
}

void Registry::checkLoadFirmware(const Caller& caller, const std::string& id) {
    requireManager(caller, "Loading firmware");
    const Processor& p = processor(id);
    requireRemoteproc(p, "load firmware for");
    if (p.state != "offline") {
        throw Error(ErrorCode::InvalidState, "Cannot load firmware for " + describe(p) +
                                                 " while it is " + p.state + "; stop it first");
    }
}

std::string Registry::loadFirmware(const Caller& caller, const std::string& id,
                                   const std::string& name, std::span<const uint8_t> image) {
    checkLoadFirmware(caller, id);
    checkUploadName(name);
    if (image.size() > policy_.firmwareMaxBytes) {
        throw Error(ErrorCode::LimitExceeded, "Firmware " + name + " is larger than " +
                                                  std::to_string(policy_.firmwareMaxBytes) +
                                                  " bytes (limits.firmware_max_bytes)");
    }
    auto parsed = fw::parse(image);
    if (!parsed) {
        throw Error(ErrorCode::InvalidFirmware,
                    "Firmware " + name + " was refused: " + parsed.problem.message);
    }
    std::string stored = store_.storeFirmware(name, image);
    Processor& p = processorMutable(id);
    try {
        kernel_.setFirmware(id, stored);
    } catch (const Error& e) {
        noteError(p, std::string("setting firmware failed: ") + e.what());
        throw;
    }
    log::info("Loaded firmware " + stored + " (" + std::to_string(image.size()) + " bytes) for " +
                  describe(p),
              {{"PROCESSOR", id}, {"FIRMWARE", stored}});
    rescan();
    return stored;
}

void Registry::setFirmware(const Caller& caller, const std::string& id, const std::string& name) {
    requireManager(caller, "Setting firmware");
    Processor& p = processorMutable(id);
    requireRemoteproc(p, "set the firmware of");
    checkFirmwarePath(name);
    if (p.state != "offline") {
        throw Error(ErrorCode::InvalidState, "Cannot change the firmware of " + describe(p) +
                                                 " while it is " + p.state + "; stop it first");
    }
    kernel_.checkFirmware(name);
    try {
        kernel_.setFirmware(id, name);
    } catch (const Error& e) {
        noteError(p, std::string("setting firmware failed: ") + e.what());
        throw;
    }
    rescan();
}

void Registry::setRecovery(const Caller& caller, const std::string& id, bool enabled) {
    requireManager(caller, "Changing recovery");
    const Processor& p = processor(id);
    requireRemoteproc(p, "change recovery of");
    if (enabled && p.state == "crashed") {
        // `enabled` also recovers a crashed processor, which may wait for an inline dump.
        worker_.run(
            id, [this, id] { kernel_.setRecovery(id, true); },
            [this](std::exception_ptr) { rescan(); });
        return;
    }
    kernel_.setRecovery(id, enabled);
    rescan();
}

void Registry::setCoredump(const Caller& caller, const std::string& id, const std::string& mode) {
    requireManager(caller, "Changing the coredump mode");
    const Processor& p = processor(id);
    requireRemoteproc(p, "change the coredump mode of");
    checkCoredumpMode(mode);
    if (p.state == "crashed") {
        throw Error(ErrorCode::InvalidState, "Cannot change the coredump mode of " + describe(p) +
                                                 " while it is crashed; recover it first");
    }
    kernel_.setCoredump(id, mode);
    rescan();
}

std::string Registry::readTrace(const Caller& caller, const std::string& id, unsigned index) {
    requireManager(caller, "Reading a trace buffer");
    requireRemoteproc(processor(id), "read the trace of");
    return kernel_.readTrace(id, index);
}

// --- endpoints ----------------------------------------------------------------------------

OpenResult Registry::open(const Caller& caller, const std::string& channelKey,
                          const OpenOptions& options) {
    auto it = channels_.find(channelKey);
    if (it == channels_.end()) {
        throw Error(ErrorCode::Unavailable, "The channel is gone");
    }
    const Channel& ch = it->second;
    const Processor& p = processor(ch.processorId);
    if (!isManager(caller) && !channelAllowed(caller, ch.name, p)) {
        throw Error(ErrorCode::AccessDenied,
                    "uid " + std::to_string(caller.uid) + " may not open channel " + ch.name +
                        " on " + describe(p) + " (see \"channels\" in the configuration)");
    }
    return createEndpoint(caller, p, ch.key, ch.name, ch.remoteAddress, options);
}

OpenResult Registry::openRaw(const Caller& caller, const std::string& processorId,
                             const std::string& name, uint32_t remoteAddress,
                             const OpenOptions& options) {
    const Processor& p = processor(processorId);
    checkEndpointName(name);
    checkRemoteAddress(remoteAddress);
    if (!isManager(caller) && !channelAllowed(caller, name, p)) {
        throw Error(ErrorCode::AccessDenied, "uid " + std::to_string(caller.uid) +
                                                 " may not open raw endpoint " + name + " on " +
                                                 describe(p));
    }
    return createEndpoint(caller, p, "", name, remoteAddress, options);
}

OpenResult Registry::createEndpoint(const Caller& caller, const Processor& p,
                                    const std::string& channelKey, const std::string& label,
                                    uint32_t remoteAddress, const OpenOptions& options) {
    size_t mine = 0;
    for (const auto& [n, e] : endpoints_) {
        mine += e.owner == caller.sender;
    }
    if (mine >= policy_.endpointsPerClient) {
        throw Error(ErrorCode::LimitExceeded,
                    "Client " + caller.sender + " already holds " + std::to_string(mine) +
                        " endpoints, the most one client may hold (limits.endpoints_per_client)");
    }
    if (endpoints_.size() >= policy_.endpointsTotal) {
        throw Error(ErrorCode::LimitExceeded, "The daemon already holds " +
                                                  std::to_string(endpoints_.size()) +
                                                  " endpoints (limits.endpoints_total)");
    }
    if (p.ctrl.empty()) {
        throw Error(ErrorCode::Unavailable, describe(p) + " has no rpmsg control device (state " +
                                                p.state + "); start it first");
    }
    checkLocalAddress(options.localAddress);
    uint64_t n = nextEndpoint_++;
    // A name unique to this daemon, so the new /dev/rpmsgN can be told apart in sysfs.
    std::string kernelName = ownKernelPrefix() + std::to_string(n);
    OpenedEndpoint opened = kernel_.createEndpoint(
        p.ctrl, kernelName, options.localAddress ? *options.localAddress : AddrAny, remoteAddress,
        options.nonblock);
    int clientFd = fcntl(opened.fd, F_DUPFD_CLOEXEC, 3);
    if (clientFd < 0) {
        int err = errno;
        kernel_.destroyEndpoint(opened.fd);
        ::close(opened.fd);
        throw Error(ErrorCode::Internal,
                    std::string("Cannot duplicate the endpoint fd: ") + strerror(err));
    }
    Endpoint e;
    e.number = n;
    e.channelKey = channelKey;
    e.processorId = p.id;
    e.name = label;
    e.remoteAddress = remoteAddress;
    e.device = opened.device;
    e.owner = caller.sender;
    e.ownerUid = caller.uid;
    e.ownerGids = caller.gids;
    e.fd = opened.fd;
    endpoints_[n] = e;
    if (fdStore_) {
        fdStore_->add(FdStore::endpointName(n), opened.fd);
    }
    if (!channelKey.empty()) {
        auto& ch = channels_[channelKey];
        ++ch.endpoints;
        observer_.channelChanged(ch, {"Endpoints"});
    }
    observer_.endpointAdded(endpoints_[n]);
    log::info("Endpoint " + std::to_string(n) + " (" + opened.device + ") opened on " + label +
                  " of " + p.id + " for " + caller.sender + " uid " + std::to_string(caller.uid),
              {{"PROCESSOR", p.id}, {"ENDPOINT", std::to_string(n)}, {"OWNER", caller.sender}});
    return OpenResult{clientFd, n, 496};
}

std::string Registry::ownKernelPrefix() {
    // pid % 100000 keeps the name short (RPMSG_NAME_SIZE is 32 with the NUL).
    return KernelPrefix + std::to_string(getpid() % 100000) + "-";
}

void Registry::close(const Caller& caller, uint64_t number) {
    auto it = endpoints_.find(number);
    if (it == endpoints_.end()) {
        throw Error(ErrorCode::NotFound, "There is no endpoint " + std::to_string(number));
    }
    if (it->second.owner != caller.sender && !isManager(caller)) {
        throw Error(ErrorCode::AccessDenied, "Only the owner of endpoint " +
                                                 std::to_string(number) +
                                                 " or a manager may close it");
    }
    endEndpoint(number, "closed by " + caller.sender);
}

void Registry::clientGone(const std::string& sender) {
    std::vector<uint64_t> dead;
    for (const auto& [n, e] : endpoints_) {
        if (e.owner == sender) {
            dead.push_back(n);
        }
    }
    for (auto n : dead) {
        endEndpoint(n, "its owner " + sender + " left the bus");
    }
}

std::set<std::string> Registry::owners() const {
    std::set<std::string> out;
    for (const auto& [n, e] : endpoints_) {
        out.insert(e.owner);
    }
    return out;
}

void Registry::endAll() {
    std::vector<uint64_t> all;
    for (const auto& [n, e] : endpoints_) {
        all.push_back(n);
    }
    for (auto n : all) {
        endEndpoint(n, "the daemon is stopping");
    }
}

void Registry::endEndpoint(uint64_t number, const std::string& why) {
    auto it = endpoints_.find(number);
    if (it == endpoints_.end()) {
        return;
    }
    Endpoint e = it->second;
    try {
        kernel_.destroyEndpoint(e.fd); // the client's fd now fails with EPIPE
    } catch (const std::exception& ex) {
        log::warning("Failed to destroy endpoint " + e.device + ", ignoring: " + ex.what());
    }
    ::close(e.fd);
    if (fdStore_) {
        fdStore_->remove(FdStore::endpointName(number));
    }
    endpoints_.erase(it);
    if (!e.channelKey.empty()) {
        auto cit = channels_.find(e.channelKey);
        if (cit != channels_.end() && cit->second.endpoints > 0) {
            --cit->second.endpoints;
            observer_.channelChanged(cit->second, {"Endpoints"});
        }
    }
    observer_.endpointRemoved(e);
    log::info("Endpoint " + std::to_string(number) + " (" + e.device + ") ended: " + why,
              {{"PROCESSOR", e.processorId}, {"ENDPOINT", std::to_string(number)}});
}

} // namespace rpmsgd
