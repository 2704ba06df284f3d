// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The registry's lookups, the policy in force, and errors noted on processors.

#include "registry.h"

#include "dbus/errors.h"
#include "log.h"

#include <ctime>
#include <utility>

namespace rpmsgd {

std::string describe(const Processor& p) {
    return describeProcessor(p.id, p.name);
}

uint64_t realtimeMicros() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}

Registry::Registry(KernelPort& kernel, RegistryObserver& observer, Policy policy, Store& store,
                   Worker& worker)
    : kernel_(kernel), observer_(observer), policy_(std::move(policy)), store_(store),
      worker_(worker) {}

Registry::~Registry() = default;

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

void Registry::setPolicy(Policy policy) {
    policy_ = std::move(policy);
    // A reload that no longer allows an owner ends its endpoints.
    endEndpoints(
        [this](const Endpoint& e) {
            auto pit = processors_.find(e.processorId);
            if (pit == processors_.end()) {
                return false;
            }
            auto cit = channels_.find(e.channelKey);
            const std::string& name =
                e.channelKey.empty() || cit == channels_.end() ? e.name : cit->second.name;
            Caller owner{e.owner, e.ownerUid, e.ownerGids};
            return !policy_.isManager(owner) &&
                   !policy_.channelAllowed(owner, name, pit->second.id, pit->second.name);
        },
        "the new configuration no longer allows its owner");
}

const Policy::ProcessorRule* Registry::ruleFor(const Processor& p) const {
    return policy_.ruleFor(p.id, p.name);
}

void Registry::requireRemoteproc(const Processor& p, const std::string& what) const {
    if (!p.remoteproc) {
        throw Error(ErrorCode::InvalidState, "Cannot " + what + " " + p.id +
                                                 ": the transport has no remoteproc, its "
                                                 "lifecycle is not Linux's to manage");
    }
}

void Registry::noteError(Processor& p, const std::string& message) {
    p.lastError = message;
    observer_.processorChanged(p, {"LastError"});
    log::warning(describe(p) + ": " + message, {{"PROCESSOR", p.id}});
}

} // namespace rpmsgd
