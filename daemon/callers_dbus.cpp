// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "callers_dbus.h"

#include "dbus/errors.h"
#include "log.h"

#include <utility>

namespace rpmsgd {

namespace {
constexpr size_t MaxUntrackedCredentials = 128;
} // namespace

Callers::Callers(sdbus::IConnection& connection, Scheduler& scheduler)
    : connection_(connection), scheduler_(scheduler),
      busProxy_(sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")) {}

Callers::~Callers() = default;

void Callers::setHandlers(std::function<void(const std::string&)> gone,
                          std::function<bool(const std::string&)> busy) {
    gone_ = std::move(gone);
    busy_ = std::move(busy);
}

void Callers::authorise(sdbus::IObject& object, const Action& action, const Policy& policy,
                        Allowed allowed, Denied denied) {
    Caller caller;
    try {
        caller = identify(object);
        policy.authorise(caller, action);
    } catch (...) {
        return denied(std::current_exception());
    }
    allowed(caller);
}

Caller Callers::identify(sdbus::IObject& object) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    if (!msg) {
        throw Error(ErrorCode::Internal, "no message is being processed");
    }
    std::string sender = msg->getSender();
    // A connection's credentials are fixed when it connects, and a unique name is never reused
    // on a bus: ask the bus once per sender (each getCreds* is a synchronous round trip).
    auto it = credentials_.find(sender);
    if (it != credentials_.end()) {
        return it->second;
    }
    Caller c;
    c.sender = sender;
    c.uid = msg->getCredsUid();
    c.gids.push_back(msg->getCredsGid());
    for (gid_t g : msg->getCredsSupplementaryGids()) {
        c.gids.push_back(g);
    }
    if (credentials_.size() >= MaxUntrackedCredentials) {
        // Callers we track (they hold endpoints or waits) are dropped when they leave; the
        // others may have left unnoticed, so they go now (the soak saw a 4096-entry cache of
        // departed clients as RSS growth). An active one just asks the bus again.
        for (auto i = credentials_.begin(); i != credentials_.end();) {
            i = tracked_.count(i->first) ? std::next(i) : credentials_.erase(i);
        }
    }
    credentials_[sender] = c;
    return c;
}

void Callers::track(const std::string& sender) {
    if (sender.empty() || tracked_.count(sender)) {
        return;
    }
    std::string rule = "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                       "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" +
                       sender + "'";
    tracked_[sender] = connection_.addMatch(rule, [this, sender](sdbus::Message& msg) {
        std::string name, oldOwner, newOwner;
        msg >> name >> oldOwner >> newOwner;
        if (name == sender && newOwner.empty()) {
            // Not from inside the match callback: it would destroy its own slot.
            scheduler_.post([this, sender] { senderGone(sender); });
        }
    });
    // The client may have left before the match existed.
    bool has = false;
    busProxy_->callMethod("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withArguments(sender)
        .storeResultsTo(has);
    if (!has) {
        scheduler_.post([this, sender] { senderGone(sender); });
    }
}

void Callers::untrackLater(const std::string& sender) {
    scheduler_.post([this, sender] { untrackIfIdle(sender); });
}

void Callers::untrackIfIdle(const std::string& sender) {
    if (!tracked_.count(sender) || (busy_ && busy_(sender))) {
        return;
    }
    tracked_.erase(sender);
}

void Callers::senderGone(const std::string& sender) {
    if (!tracked_.count(sender)) {
        return;
    }
    log::info("Client " + sender + " left the bus", {{"OWNER", sender}});
    tracked_.erase(sender);
    credentials_.erase(sender);
    if (gone_) {
        gone_(sender);
    }
}

void Callers::clear() {
    tracked_.clear();
}

} // namespace rpmsgd
