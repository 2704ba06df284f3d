// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Leases of tty channels (API 1.1, Kind "tty"): the kernel's rpmsg_tty made the channel a tty,
// /dev/ttyRPMSGn. Open hands out the tty itself, O_RDWR|O_NOCTTY, to one holder at a time; the
// lease ends like any endpoint's (endEndpoints), by hanging the tty up, so the holder reads end
// of file and its writes fail with EIO.

#include "dbus/errors.h"
#include "log.h"
#include "registry.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace rpmsgd {

OpenResult Registry::openTty(const Caller& owner, const Channel& ch, const OpenOptions& options) {
    if (options.localAddress) {
        throw Error(ErrorCode::InvalidArgument,
                    "Option 'local_address' does not apply to channel " + ch.name + " on " +
                        ch.processorId + ": it is a tty (" + ch.tty +
                        "), with no endpoint of the caller's own");
    }
    for (const auto& [n, e] : endpoints_) {
        if (e.channelKey == ch.key) {
            throw Error(ErrorCode::InvalidState, "Channel " + ch.name + " on " + ch.processorId +
                                                     " is a tty (" + ch.tty + ") held by " +
                                                     e.owner + "; one holder at a time");
        }
    }
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
    OpenedEndpoint opened = kernel_.openTty(ch.tty, options.nonblock);
    int clientFd = fcntl(opened.fd, F_DUPFD_CLOEXEC, 3);
    if (clientFd < 0) {
        int err = errno;
        ::close(opened.fd);
        throw Error(ErrorCode::Internal,
                    std::string("Cannot duplicate the tty fd: ") + strerror(err));
    }
    uint64_t n = nextEndpoint_++;
    Endpoint e;
    e.number = n;
    e.channelKey = ch.key;
    e.processorId = ch.processorId;
    e.name = ch.name;
    e.remoteAddress = ch.remoteAddress;
    e.device = opened.device;
    e.owner = owner.sender;
    e.ownerUid = owner.uid;
    e.ownerGids = owner.gids;
    e.fd = opened.fd;
    e.tty = true;
    const Endpoint& added = endpoints_.insert_or_assign(n, std::move(e)).first->second;
    auto& counted = channels_[ch.key];
    ++counted.endpoints;
    ++counted.openCount;
    observer_.channelChanged(counted, {"Endpoints", "OpenCount"});
    observer_.endpointAdded(added);
    log::info("Endpoint " + std::to_string(n) + " (" + opened.device + ") opened on tty channel " +
                  added.name + " of " + added.processorId + " for " + owner.sender + " uid " +
                  std::to_string(owner.uid),
              {{"PROCESSOR", added.processorId},
               {"ENDPOINT", std::to_string(n)},
               {"OWNER", owner.sender}});
    return OpenResult{clientFd, n, rpmsg::Mtu};
}

} // namespace rpmsgd
