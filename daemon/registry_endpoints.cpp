// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Endpoint leases: a kernel endpoint per Open, made off the loop (the Worker), its fd handed to
// the client (the daemon keeps a copy to destroy it with), counted against the limits; and
// endEndpoints(), the one way a lease (or an Open in flight) ends, whatever the reason.

#include "dbus/errors.h"
#include "fd_store.h"
#include "log.h"
#include "registry.h"
#include "validation.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <unistd.h>

namespace rpmsgd {

// An Open whose kernel steps run on the Worker. The loop owns everything but what the mutex
// guards: the job stores the endpoint it made unless the Open was cancelled meanwhile, and the
// loop cancels it by setting `cancelled` (destroying the endpoint if it was stored already), so
// exactly one side destroys an endpoint nobody will lease, whichever finishes first.
struct Registry::Opening {
    Endpoint record; ///< what the lease will be (fd still -1), for endEndpoints' selectors
    std::mutex m;
    std::optional<std::string> cancelled; ///< why, once cancelled
    int fd = -1;                          ///< the daemon's copy, once made and not cancelled
    int clientFd = -1;
    std::string device;
};

namespace {

// Destroys an endpoint nobody will lease and closes both copies of its fd.
void discard(KernelPort& kernel, int fd, int clientFd, const std::string& device) {
    try {
        kernel.destroyEndpoint(fd);
    } catch (const std::exception& ex) {
        log::warning("Failed to destroy endpoint " + device + ", ignoring: " + ex.what());
    }
    ::close(fd);
    if (clientFd >= 0) {
        ::close(clientFd);
    }
}

} // namespace

void Registry::open(const Caller& owner, const std::string& channelKey, const OpenOptions& options,
                    OpenDone done) {
    auto it = channels_.find(channelKey);
    if (it == channels_.end()) {
        throw Error(ErrorCode::Unavailable, "The channel is gone");
    }
    const Channel& ch = it->second;
    if (!ch.tty.empty()) {
        // A tty is opened, not created: no kernel step to take off the loop.
        done(nullptr, openTty(owner, ch, options));
        return;
    }
    createEndpoint(owner, processor(ch.processorId), ch.key, ch.name, ch.remoteAddress, options,
                   std::move(done));
}

void Registry::openRaw(const Caller& owner, const std::string& processorId, const std::string& name,
                       uint32_t remoteAddress, const OpenOptions& options, OpenDone done) {
    const Processor& p = processor(processorId);
    checkEndpointName(name);
    checkRemoteAddress(remoteAddress);
    createEndpoint(owner, p, "", name, remoteAddress, options, std::move(done));
}

void Registry::createEndpoint(const Caller& owner, const Processor& p,
                              const std::string& channelKey, const std::string& label,
                              uint32_t remoteAddress, const OpenOptions& options, OpenDone done) {
    // Opens in flight count: concurrent Opens cannot overrun the limits (and endpoints_total
    // bounds how many kernel steps run at once).
    size_t mine = 0;
    for (const auto& [n, e] : endpoints_) {
        mine += e.owner == owner.sender;
    }
    for (const auto& [n, o] : opening_) {
        mine += o->record.owner == owner.sender;
    }
    if (mine >= policy_.endpointsPerClient) {
        throw Error(ErrorCode::LimitExceeded,
                    "Client " + owner.sender + " already holds " + std::to_string(mine) +
                        " endpoints, the most one client may hold (limits.endpoints_per_client)");
    }
    if (endpoints_.size() + opening_.size() >= policy_.endpointsTotal) {
        throw Error(ErrorCode::LimitExceeded,
                    "The daemon already holds " +
                        std::to_string(endpoints_.size() + opening_.size()) +
                        " endpoints (limits.endpoints_total)");
    }
    if (p.ctrl.empty()) {
        throw Error(ErrorCode::Unavailable, describe(p) + " has no rpmsg control device (state " +
                                                std::string(toString(p.state)) +
                                                "); start it first");
    }
    checkLocalAddress(options.localAddress);
    const uint64_t n = nextEndpoint_++;
    auto o = std::make_shared<Opening>();
    Endpoint& e = o->record;
    e.number = n;
    e.channelKey = channelKey;
    e.processorId = p.id;
    e.name = label;
    e.remoteAddress = remoteAddress;
    e.owner = owner.sender;
    e.ownerUid = owner.uid;
    e.ownerGids = owner.gids;
    opening_.emplace(n, o);
    // A name unique to this daemon, so the new /dev/rpmsgN can be told apart in sysfs.
    const std::string kernelName = ownKernelPrefix() + std::to_string(n);
    const uint32_t src = options.localAddress.value_or(rpmsg::AddrAny);
    // One Worker key per control device: Opens on different processors run at once, and never
    // wait for a lifecycle write; a stop or crash meanwhile is the kernel's to order, and
    // cancels this Open. Opens on one control device run one after another: each finds its
    // eptdev by listing the device's entries before and after its ioctl and reading the new
    // ones, so concurrent Opens on one device would each read all the others' (measured: five
    // times the CPU per Open with 100 in flight).
    worker_.run(
        "endpoints on " + p.ctrl,
        [&kernel = kernel_, o, ctrl = p.ctrl, kernelName, src, remoteAddress,
         nonblock = options.nonblock] {
            {
                std::lock_guard lock(o->m);
                if (o->cancelled) {
                    return; // ended while queued: nothing to make
                }
            }
            OpenedEndpoint made =
                kernel.createEndpoint(ctrl, kernelName, src, remoteAddress, nonblock);
            const int clientFd = fcntl(made.fd, F_DUPFD_CLOEXEC, 3);
            if (clientFd < 0) {
                const int err = errno;
                discard(kernel, made.fd, -1, made.device);
                throw Error(ErrorCode::Internal,
                            std::string("Cannot duplicate the endpoint fd: ") + strerror(err));
            }
            std::lock_guard lock(o->m);
            if (o->cancelled) {
                discard(kernel, made.fd, clientFd, made.device);
                return;
            }
            o->fd = made.fd;
            o->clientFd = clientFd;
            o->device = made.device;
        },
        [this, o, done = std::move(done)](std::exception_ptr error) { opened(o, error, done); });
}

void Registry::opened(const std::shared_ptr<Opening>& o, std::exception_ptr error,
                      const OpenDone& done) {
    opening_.erase(o->record.number);
    Endpoint e = std::move(o->record);
    {
        std::lock_guard lock(o->m);
        if (o->cancelled) {
            // Its endpoint, if it was made, was destroyed by whichever side saw the other.
            log::info("Endpoint " + std::to_string(e.number) + " on " + e.name + " of " +
                          e.processorId + " for " + e.owner +
                          " ended while it was being opened: " + *o->cancelled,
                      {{"PROCESSOR", e.processorId},
                       {"ENDPOINT", std::to_string(e.number)},
                       {"OWNER", e.owner}});
            return done(std::make_exception_ptr(Error(
                            ErrorCode::Unavailable,
                            "The endpoint was ended while it was being opened: " + *o->cancelled)),
                        {});
        }
    }
    if (error) {
        return done(error, {});
    }
    e.fd = o->fd;
    e.device = o->device;
    const uint64_t n = e.number;
    const Endpoint& added = endpoints_.insert_or_assign(n, std::move(e)).first->second;
    if (fdStore_) {
        fdStore_->add(FdStore::endpointName(n), added.fd);
    }
    if (auto cit = channels_.find(added.channelKey); cit != channels_.end()) {
        auto& ch = cit->second;
        ++ch.endpoints;
        ++ch.openCount;
        observer_.channelChanged(ch, {"Endpoints", "OpenCount"});
    }
    observer_.endpointAdded(added);
    log::info("Endpoint " + std::to_string(n) + " (" + added.device + ") opened on " + added.name +
                  " of " + added.processorId + " for " + added.owner + " uid " +
                  std::to_string(added.ownerUid),
              {{"PROCESSOR", added.processorId},
               {"ENDPOINT", std::to_string(n)},
               {"OWNER", added.owner}});
    done(nullptr, OpenResult{o->clientFd, n, rpmsg::Mtu});
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
    for (const auto& [n, o] : opening_) {
        out.insert(o->record.owner);
    }
    return out;
}

void Registry::endAll() {
    endEndpoints([](const Endpoint&) { return true; }, "the daemon is stopping");
}

void Registry::endEndpoints(const std::function<bool(const Endpoint&)>& which,
                            const std::string& why) {
    for (const auto& [n, o] : opening_) {
        if (which(o->record)) {
            std::lock_guard lock(o->m);
            if (!o->cancelled) {
                o->cancelled = why;
                if (o->fd >= 0) { // made already: the job finished, its completion is queued
                    discard(kernel_, o->fd, o->clientFd, o->device);
                    o->fd = -1;
                    o->clientFd = -1;
                }
            }
        }
    }
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
