// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Endpoint leases: a kernel endpoint per Open, its fd handed to the client (the daemon keeps a
// copy to destroy it with), counted against the limits; and endEndpoints(), the one way a lease
// ends, whatever the reason.

#include "dbus/errors.h"
#include "fd_store.h"
#include "log.h"
#include "registry.h"
#include "validation.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace rpmsgd {

OpenResult Registry::open(const Caller& owner, const std::string& channelKey,
                          const OpenOptions& options) {
    auto it = channels_.find(channelKey);
    if (it == channels_.end()) {
        throw Error(ErrorCode::Unavailable, "The channel is gone");
    }
    const Channel& ch = it->second;
    if (!ch.tty.empty()) {
        return openTty(owner, ch, options);
    }
    return createEndpoint(owner, processor(ch.processorId), ch.key, ch.name, ch.remoteAddress,
                          options);
}

OpenResult Registry::openRaw(const Caller& owner, const std::string& processorId,
                             const std::string& name, uint32_t remoteAddress,
                             const OpenOptions& options) {
    const Processor& p = processor(processorId);
    checkEndpointName(name);
    checkRemoteAddress(remoteAddress);
    return createEndpoint(owner, p, "", name, remoteAddress, options);
}

OpenResult Registry::createEndpoint(const Caller& owner, const Processor& p,
                                    const std::string& channelKey, const std::string& label,
                                    uint32_t remoteAddress, const OpenOptions& options) {
    size_t mine = 0;
    for (const auto& [n, e] : endpoints_) {
        mine += e.owner == owner.sender;
    }
    if (mine >= policy_.endpointsPerClient) {
        throw Error(ErrorCode::LimitExceeded,
                    "Client " + owner.sender + " already holds " + std::to_string(mine) +
                        " endpoints, the most one client may hold (limits.endpoints_per_client)");
    }
    if (endpoints_.size() >= policy_.endpointsTotal) {
        throw Error(ErrorCode::LimitExceeded, "The daemon already holds " +
                                                  std::to_string(endpoints_.size()) +
                                                  " endpoints (limits.endpoints_total)");
    }
    if (p.ctrl.empty()) {
        throw Error(ErrorCode::Unavailable, describe(p) + " has no rpmsg control device (state " +
                                                std::string(toString(p.state)) +
                                                "); start it first");
    }
    checkLocalAddress(options.localAddress);
    uint64_t n = nextEndpoint_++;
    // A name unique to this daemon, so the new /dev/rpmsgN can be told apart in sysfs.
    std::string kernelName = ownKernelPrefix() + std::to_string(n);
    OpenedEndpoint opened =
        kernel_.createEndpoint(p.ctrl, kernelName, options.localAddress.value_or(rpmsg::AddrAny),
                               remoteAddress, options.nonblock);
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
    e.owner = owner.sender;
    e.ownerUid = owner.uid;
    e.ownerGids = owner.gids;
    e.fd = opened.fd;
    const Endpoint& added = endpoints_.insert_or_assign(n, std::move(e)).first->second;
    if (fdStore_) {
        fdStore_->add(FdStore::endpointName(n), opened.fd);
    }
    if (!channelKey.empty()) {
        auto& ch = channels_[channelKey];
        ++ch.endpoints;
        ++ch.openCount;
        observer_.channelChanged(ch, {"Endpoints", "OpenCount"});
    }
    observer_.endpointAdded(added);
    log::info("Endpoint " + std::to_string(n) + " (" + opened.device + ") opened on " + label +
                  " of " + p.id + " for " + owner.sender + " uid " + std::to_string(owner.uid),
              {{"PROCESSOR", p.id}, {"ENDPOINT", std::to_string(n)}, {"OWNER", owner.sender}});
    return OpenResult{clientFd, n, rpmsg::Mtu};
}

std::string Registry::ownKernelPrefix() {
    // pid % 100000 keeps the name short (RPMSG_NAME_SIZE is 32 with the NUL).
    return KernelPrefix + std::to_string(getpid() % 100000) + "-";
}

void Registry::close(uint64_t number, const std::string& why) {
    if (!endpoints_.count(number)) {
        throw Error(ErrorCode::NotFound, "There is no endpoint " + std::to_string(number));
    }
    endEndpoints([number](const Endpoint& e) { return e.number == number; }, why);
}

void Registry::clientGone(const std::string& sender) {
    endEndpoints([&](const Endpoint& e) { return e.owner == sender; },
                 "its owner " + sender + " left the bus");
}

std::set<std::string> Registry::owners() const {
    std::set<std::string> out;
    for (const auto& [n, e] : endpoints_) {
        out.insert(e.owner);
    }
    return out;
}

void Registry::endAll() {
    endEndpoints([](const Endpoint&) { return true; }, "the daemon is stopping");
}

void Registry::endEndpoints(const std::function<bool(const Endpoint&)>& which,
                            const std::string& why) {
    std::vector<uint64_t> ending;
    for (const auto& [n, e] : endpoints_) {
        if (which(e)) {
            ending.push_back(n);
        }
    }
    for (uint64_t n : ending) {
        auto node = endpoints_.extract(n);
        if (node.empty()) {
            continue; // ended meanwhile
        }
        const Endpoint& e = node.mapped();
        try {
            if (e.tty) {
                kernel_.hangupTty(e.fd, e.device); // the client's fd now reads 0, writes EIO
            } else {
                kernel_.destroyEndpoint(e.fd); // the client's fd now fails with EPIPE
            }
        } catch (const std::exception& ex) {
            log::warning("Failed to destroy endpoint " + e.device + ", ignoring: " + ex.what());
        }
        ::close(e.fd);
        if (fdStore_) {
            fdStore_->remove(FdStore::endpointName(e.number));
        }
        if (!e.channelKey.empty()) {
            auto cit = channels_.find(e.channelKey);
            if (cit != channels_.end() && cit->second.endpoints > 0) {
                --cit->second.endpoints;
                observer_.channelChanged(cit->second, {"Endpoints"});
            }
        }
        observer_.endpointRemoved(e);
        log::info("Endpoint " + std::to_string(e.number) + " (" + e.device + ") ended: " + why,
                  {{"PROCESSOR", e.processorId}, {"ENDPOINT", std::to_string(e.number)}});
    }
}

} // namespace rpmsgd
