// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "policy.h"

#include "config/config.h"
#include "config/identity.h"
#include "dbus/errors.h"

#include <algorithm>
#include <fnmatch.h>
#include <utility>

namespace rpmsgd {

namespace {

bool glob(const std::string& pattern, const std::string& s) {
    return fnmatch(pattern.c_str(), s.c_str(), 0) == 0;
}

std::string uidOf(const Caller& caller) {
    return "uid " + std::to_string(caller.uid);
}

} // namespace

bool Identity::matches(const Caller& caller) const {
    if (uids.count(caller.uid)) {
        return true;
    }
    return std::any_of(caller.gids.begin(), caller.gids.end(),
                       [&](uint32_t g) { return gids.count(g) > 0; });
}

std::string describeProcessor(const std::string& id, const std::string& name) {
    return id == name || name.empty() ? id : id + " (" + name + ")";
}

Action Action::wait() {
    return Action{};
}

Action Action::manage(std::string what, std::string processorId) {
    Action a;
    a.kind = Kind::Manage;
    a.what = std::move(what);
    a.processorId = std::move(processorId);
    return a;
}

Action Action::reload() {
    Action a;
    a.kind = Kind::Reload;
    a.what = "Reload";
    return a;
}

Action Action::openChannel(std::string channel, std::string processorId,
                           std::string processorName) {
    Action a;
    a.kind = Kind::OpenChannel;
    a.name = std::move(channel);
    a.processorId = std::move(processorId);
    a.processorName = std::move(processorName);
    return a;
}

Action Action::openEndpoint(std::string name, std::string processorId, std::string processorName) {
    Action a = openChannel(std::move(name), std::move(processorId), std::move(processorName));
    a.kind = Kind::OpenEndpoint;
    return a;
}

Action Action::closeEndpoint(uint64_t endpoint, std::string owner) {
    Action a;
    a.kind = Kind::CloseEndpoint;
    a.endpoint = endpoint;
    a.owner = std::move(owner);
    return a;
}

bool Policy::isManager(const Caller& caller) const {
    return caller.uid == 0 || managers.matches(caller);
}

bool Policy::channelAllowed(const Caller& caller, const std::string& name,
                            const std::string& processorId,
                            const std::string& processorName) const {
    for (const auto& rule : channelRules) {
        if (glob(rule.match, name) &&
            (glob(rule.processor, processorId) || glob(rule.processor, processorName))) {
            return rule.who.matches(caller); // the first rule that fits decides
        }
    }
    return false;
}

const Policy::ProcessorRule* Policy::ruleFor(const std::string& processorId,
                                             const std::string& processorName) const {
    for (const auto& r : processorRules) {
        if (glob(r.match, processorName) || glob(r.match, processorId)) {
            return &r; // first match wins
        }
    }
    return nullptr;
}

void Policy::authorise(const Caller& caller, const Action& action) const {
    const std::string on = describeProcessor(action.processorId, action.processorName);
    switch (action.kind) {
    case Action::Kind::Wait:
        return;
    case Action::Kind::Manage:
        if (!isManager(caller)) {
            throw Error(ErrorCode::AccessDenied,
                        action.what + " needs root or a manager (" + uidOf(caller) +
                            " is neither; see \"managers\" in the configuration)");
        }
        return;
    case Action::Kind::Reload:
        if (caller.uid != 0) {
            throw Error(ErrorCode::AccessDenied, "Reload needs root");
        }
        return;
    case Action::Kind::OpenChannel:
        if (!isManager(caller) &&
            !channelAllowed(caller, action.name, action.processorId, action.processorName)) {
            throw Error(ErrorCode::AccessDenied, uidOf(caller) + " may not open channel " +
                                                     action.name + " on " + on +
                                                     " (see \"channels\" in the configuration)");
        }
        return;
    case Action::Kind::OpenEndpoint:
        if (!isManager(caller) &&
            !channelAllowed(caller, action.name, action.processorId, action.processorName)) {
            throw Error(ErrorCode::AccessDenied,
                        uidOf(caller) + " may not open raw endpoint " + action.name + " on " + on);
        }
        return;
    case Action::Kind::CloseEndpoint:
        if (action.owner != caller.sender && !isManager(caller)) {
            throw Error(ErrorCode::AccessDenied, "Only the owner of endpoint " +
                                                     std::to_string(action.endpoint) +
                                                     " or a manager may close it");
        }
        return;
    }
    throw Error(ErrorCode::Internal, "authorise: unknown kind of action");
}

const char* polkitAction(Action::Kind kind) {
    switch (kind) {
    case Action::Kind::Manage:
        return "org.rpmsgd.manage";
    case Action::Kind::OpenChannel:
    case Action::Kind::OpenEndpoint:
        return "org.rpmsgd.open-channel";
    case Action::Kind::Reload:
        return "org.rpmsgd.reload";
    case Action::Kind::Wait:
    case Action::Kind::CloseEndpoint:
        return nullptr;
    }
    return nullptr;
}

Policy policyFrom(const config::Config& cfg, std::vector<std::string>& warnings) {
    auto ids = config::resolveIdentities(cfg, warnings);
    Policy p;
    switch (cfg.authorization) {
    case config::Authorization::Groups:
        p.authorization = Authorization::Groups;
        break;
    case config::Authorization::Polkit:
        p.authorization = Authorization::Polkit;
        break;
    case config::Authorization::Auto:
        p.authorization = Authorization::Auto;
        break;
    }
    p.managers.uids.insert(ids.managers.uids.begin(), ids.managers.uids.end());
    p.managers.gids.insert(ids.managers.gids.begin(), ids.managers.gids.end());
    for (size_t i = 0; i < cfg.channels.size(); ++i) {
        Policy::ChannelRule r;
        r.match = cfg.channels[i].match;
        r.processor = cfg.channels[i].processor;
        if (i < ids.channels.size()) {
            r.who.uids.insert(ids.channels[i].uids.begin(), ids.channels[i].uids.end());
            r.who.gids.insert(ids.channels[i].gids.begin(), ids.channels[i].gids.end());
        }
        p.channelRules.push_back(r);
    }
    for (const auto& pp : cfg.processors) {
        Policy::ProcessorRule r;
        r.match = pp.match;
        r.firmware = pp.firmware;
        r.autostart = pp.autostart.value_or(false);
        r.recovery = pp.recovery;
        r.coredump = pp.coredump;
        r.hasRestart = true;
        config::RestartPolicy restart = pp.restart.value_or(config::RestartPolicy{});
        r.maxCrashes = restart.maxCrashes;
        r.windowS = restart.windowS;
        p.processorRules.push_back(r);
    }
    p.endpointsPerClient = cfg.limits.endpointsPerClient;
    p.endpointsTotal = cfg.limits.endpointsTotal;
    p.coredumpsKept = cfg.limits.coredumpsKept;
    p.firmwareMaxBytes = cfg.limits.firmwareMaxBytes;
    p.callsPerClient = cfg.limits.callsPerClient;
    p.kernelWriteTimeoutMs = cfg.limits.kernelWriteTimeoutMs;
    return p;
}

} // namespace rpmsgd
