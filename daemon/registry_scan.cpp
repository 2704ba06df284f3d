// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The truth from the kernel: a rescan compares what KernelPort reads with what the registry
// holds and reports every difference, in the order processors, channels, processors gone.

#include "log.h"
#include "registry.h"

#include <algorithm>

namespace rpmsgd {

void Registry::rescan() {
    // Dumps first: a pending devcoredump is both a crash to report (with its core) and, with
    // `inline`, a kernel recovery waiting for us.
    harvestCoredumps();
    auto snaps = kernel_.processors();
    auto ctrls = kernel_.ctrls();
    auto chans = kernel_.channels();

    std::map<std::string, const CtrlSnapshot*> ctrlOf; // the first control device of each
    for (const auto& c : ctrls) {
        ctrlOf.emplace(c.processorId, &c);
    }
    std::set<std::string> seenProcs;
    for (const auto& s : snaps) {
        seenProcs.insert(s.id);
        auto c = ctrlOf.find(s.id);
        const std::string ctrl = c == ctrlOf.end() ? "" : c->second->name;
        const uint64_t instance = c == ctrlOf.end() ? 0 : c->second->instance;
        auto it = processors_.find(s.id);
        if (it == processors_.end()) {
            addProcessor(s, ctrl, instance);
            continue;
        }
        updateProcessor(it->second, s);
        updateCtrl(it->second, ctrl, instance);
    }

    for (auto& [id, p] : processors_) {
        // Back up: running again, with its (new) control device if it had one.
        if (p.inCrash && p.state == ProcessorState::Running &&
            (!p.ctrl.empty() || p.ctrlAtCrash.empty())) {
            p.inCrash = false;
        }
    }
    updateChannels(chans, seenProcs);
    removeProcessors(seenProcs);
}

bool Registry::pollStates() {
    bool changed = false;
    for (auto& [id, p] : processors_) {
        if (!p.remoteproc) {
            continue;
        }
        std::optional<ProcessorState> s = kernel_.state(id);
        if (s && *s != p.state) {
            refreshState(p, *s);
            changed = true;
        }
    }
    return changed;
}

void Registry::addProcessor(const ProcessorSnapshot& s, const std::string& ctrl,
                            uint64_t instance) {
    Processor p;
    p.id = s.id;
    p.name = s.name;
    p.state = s.state;
    p.firmware = s.firmware;
    p.recovery = s.recovery;
    p.coredump = s.coredump;
    p.remoteproc = s.remoteproc;
    p.ctrl = ctrl;
    p.ctrlInstance = instance;
    // Up before rpmsgd saw it: the boot was not seen (StartCount stays 0); running since, as far
    // as rpmsgd can tell, now.
    p.runningSince = isUp(p.state) ? realtimeMicros() : 0;
    Processor& ref = processors_.insert_or_assign(s.id, std::move(p)).first->second;
    log::info("Found processor " + describe(ref) + ", state " + std::string(toString(ref.state)),
              {{"PROCESSOR", ref.id}});
    observer_.processorAdded(ref);
    if (policiesEnabled_) {
        applyPolicy(ref);
    }
}

void Registry::updateProcessor(Processor& p, const ProcessorSnapshot& s) {
    std::vector<std::string> changed;
    auto set = [&](auto& field, const auto& value, const char* prop) {
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

void Registry::updateCtrl(Processor& p, const std::string& ctrl, uint64_t instance) {
    if (ctrl == p.ctrl && instance == p.ctrlInstance) {
        return;
    }
    const bool rebuiltWhileRunning = !p.ctrl.empty() && !ctrl.empty();
    const std::string old = p.ctrl;
    p.ctrl = ctrl;
    p.ctrlInstance = instance;
    // The endpoints were made on the old control device: the kernel destroyed them.
    const std::string id = p.id;
    endEndpoints([&](const Endpoint& e) { return e.processorId == id; },
                 "its processor's rpmsg devices were torn down");
    if (rebuiltWhileRunning && p.state == ProcessorState::Running && !p.inCrash) {
        // The kernel takes the dump between stopping and restarting (rproc_boot_recovery), so
        // a dump of this crash exists by now even if the listing at the top of this rescan was
        // too early to see it. Take it first: it reports the crash with its core, and the
        // crash is counted once.
        harvestCoredumps();
    }
    if (rebuiltWhileRunning && p.state == ProcessorState::Running && !p.inCrash) {
        // Stop and recovery both tear the tree down; seeing it rebuilt while the state stayed
        // `running` means a crash the state poll was too slow to see, and a boot after it.
        crashSeen(p, "the remote crashed and the kernel recovered it");
        bootSeen(p, {});
    }
    log::debug("Control device of " + p.id + " changed from '" + old + "' to '" + ctrl + "'");
}

void Registry::refreshState(Processor& p, ProcessorState state) {
    const ProcessorState old = p.state;
    p.state = state;
    if (isUp(state) && !isUp(old)) {
        bootSeen(p, {"State"});
    } else if (!isUp(state) && isUp(old)) {
        p.runningSince = 0;
        observer_.processorChanged(p, {"State", "RunningSince"});
    } else {
        observer_.processorChanged(p, {"State"});
    }
    const std::string word(toString(state));
    log::info("Processor " + describe(p) + " is " + word + " (was " + std::string(toString(old)) +
                  ")",
              {{"PROCESSOR", p.id}, {"STATE", word}});
    if (state == ProcessorState::Crashed && old != ProcessorState::Crashed && !p.inCrash) {
        crashSeen(p, "the remote crashed");
    }
}

void Registry::bootSeen(Processor& p, std::vector<std::string> also) {
    ++p.startCount;
    p.runningSince = realtimeMicros();
    traces_.erase(p.id); // a new boot: its trace buffers start afresh
    also.push_back("StartCount");
    also.push_back("RunningSince");
    observer_.processorChanged(p, also);
}

void Registry::updateChannels(const std::vector<ChannelSnapshot>& chans,
                              const std::set<std::string>& seenProcs) {
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
        endEndpoints([&](const Endpoint& e) { return e.channelKey == key; },
                     "its channel went away");
        auto node = channels_.extract(key);
        const Channel& ch = node.mapped();
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
        if (auto known = channels_.find(c.device); known != channels_.end()) {
            // rpmsg_tty probes after the channel's add event (its bind event brings this scan).
            known->second.tty = c.tty;
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
        ch.tty = c.tty;
        pit->second.channels.push_back(ch.key);
        const Channel& ref = channels_.insert_or_assign(c.device, std::move(ch)).first->second;
        observer_.channelAdded(ref);
        observer_.processorChanged(pit->second, {"Channels"});
        log::info("Channel " + ref.name + " announced by " + describe(pit->second) + " at " +
                      std::to_string(ref.remoteAddress),
                  {{"PROCESSOR", ref.processorId}, {"CHANNEL", ref.name}});
    }
}

void Registry::removeProcessors(const std::set<std::string>& seenProcs) {
    // Processors that went away (hot-unplug, transport gone).
    std::vector<std::string> gone;
    for (const auto& [id, p] : processors_) {
        if (!seenProcs.count(id)) {
            gone.push_back(id);
        }
    }
    for (const auto& id : gone) {
        endEndpoints([&](const Endpoint& e) { return e.processorId == id; },
                     "its processor went away");
        auto node = processors_.extract(id);
        const Processor& p = node.mapped();
        observer_.processorRemoved(p);
        log::info("Processor " + describe(p) + " is gone", {{"PROCESSOR", id}});
    }
}

} // namespace rpmsgd
