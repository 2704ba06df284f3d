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
      busProxy_(sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")),
      inFlight_(std::make_shared<std::map<std::string, uint32_t>>()) {
    // sdbus-c++ 1.2 makes a thread's "pseudo connection" (two eventfds, kept for good) when it
    // first builds a Variant, which the credentials reply holds: make it now, so that the
    // daemon's fd count stays where it is once it runs.
    (void)sdbus::Variant();
}

Callers::~Callers() = default;

void Callers::setHandlers(std::function<void(const std::string&)> gone,
                          std::function<bool(const std::string&)> busy) {
    gone_ = std::move(gone);
    busy_ = std::move(busy);
}

std::string Callers::senderOf(sdbus::IObject& object) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    if (!msg) {
        throw Error(ErrorCode::Internal, "no message is being processed");
    }
    std::string sender = msg->getSender();
    if (sender.empty()) {
        throw Error(ErrorCode::AccessDenied, "The call has no sender, so it cannot be authorised");
    }
    return sender;
}

std::shared_ptr<void> Callers::admit(const std::string& sender, uint32_t limit) {
    uint32_t& n = (*inFlight_)[sender];
    if (n >= limit) {
        const uint32_t now = n;
        if (now == 0) {
            inFlight_->erase(sender);
        }
        throw Error(ErrorCode::LimitExceeded, "Client " + sender + " already has " +
                                                  std::to_string(now) +
                                                  " calls in flight (limits.calls_per_client)");
    }
    ++n;
    std::weak_ptr<std::map<std::string, uint32_t>> counts = inFlight_;
    return std::shared_ptr<void>(nullptr, [counts, sender](void*) {
        if (auto map = counts.lock()) {
            auto it = map->find(sender);
            if (it != map->end() && --it->second == 0) {
                map->erase(it);
            }
        }
    });
}

void Callers::identify(const std::string& sender, Identified identified, Failed failed) {
    // A connection's credentials are fixed when it connects, and a unique name is never reused
    // on a bus: ask the bus once per sender.
    auto known = credentials_.find(sender);
    if (known != credentials_.end()) {
        const Caller caller = known->second;
        return identified(caller);
    }
    Lookup& lookup = lookups_[sender];
    lookup.waiting.emplace_back(std::move(identified), std::move(failed));
    if (lookup.waiting.size() > 1) {
        return; // the lookup under way answers this call too
    }
    try {
        lookup.call =
            busProxy_->callMethodAsync("GetConnectionCredentials")
                .onInterface("org.freedesktop.DBus")
                .withTimeout(CredentialsTimeoutUs)
                .withArguments(sender)
                .uponReplyInvoke([this, sender](const sdbus::Error* error,
                                                std::map<std::string, sdbus::Variant> creds) {
                    credentialsArrived(sender, error, creds);
                });
    } catch (const sdbus::Error& e) {
        credentialsArrived(sender, &e, {});
    }
}

void Callers::credentialsArrived(const std::string& sender, const sdbus::Error* error,
                                 const std::map<std::string, sdbus::Variant>& creds) {
    auto it = lookups_.find(sender);
    if (it == lookups_.end()) {
        return;
    }
    auto waiting = std::move(it->second.waiting);
    lookups_.erase(it);

    std::exception_ptr why;
    Caller caller;
    caller.sender = sender;
    try {
        if (error) {
            throw Error(ErrorCode::AccessDenied,
                        "The bus could not tell who " + sender + " is, so it is not authorised (" +
                            error->getName() + ": " + error->getMessage() + ")");
        }
        auto uid = creds.find("UnixUserID");
        auto gids = creds.find("UnixGroupIDs");
        if (uid == creds.end() || !uid->second.containsValueOfType<uint32_t>() ||
            gids == creds.end() || !gids->second.containsValueOfType<std::vector<uint32_t>>()) {
            throw Error(ErrorCode::AccessDenied,
                        "The bus did not give the user and groups of " + sender +
                            " (GetConnectionCredentials has no UnixUserID u and UnixGroupIDs "
                            "au), so it is not authorised");
        }
        caller.uid = uid->second.get<uint32_t>();
        caller.gids = gids->second.get<std::vector<uint32_t>>();
        remember(caller);
    } catch (...) {
        why = std::current_exception();
        log::debug("Could not identify " + sender + " for " + std::to_string(waiting.size()) +
                       " call(s): " + (error ? error->getName() : std::string("no credentials")),
                   {{"SENDER", sender}});
    }
    for (auto& [identified, failed] : waiting) {
        if (why) {
            failed(why);
        } else {
            identified(caller);
        }
    }
}

void Callers::remember(const Caller& caller) {
    if (credentials_.size() >= MaxUntrackedCredentials) {
        // Callers we track (they hold endpoints or waits) are dropped when they leave; the
        // others may have left unnoticed, so they go now (the soak saw a 4096-entry cache of
        // departed clients as RSS growth). An active one just asks the bus again.
        for (auto i = credentials_.begin(); i != credentials_.end();) {
            i = tracked_.count(i->first) ? std::next(i) : credentials_.erase(i);
        }
    }
    credentials_[caller.sender] = caller;
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
    // The client may have left before the match existed. Asked without waiting: the answer
    // comes after any NameOwnerChanged the bus sent before it.
    (void)busProxy_->callMethodAsync("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withTimeout(CredentialsTimeoutUs)
        .withArguments(sender)
        .uponReplyInvoke([this, sender](const sdbus::Error* error, bool has) {
            if (!error && !has) {
                scheduler_.post([this, sender] { senderGone(sender); });
            }
        });
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
    auto lookups = std::move(lookups_);
    lookups_.clear();
    for (auto& [sender, lookup] : lookups) {
        lookup.call.cancel();
        for (auto& waiting : lookup.waiting) {
            waiting.second(
                std::make_exception_ptr(Error(ErrorCode::Unavailable, "rpmsgd is stopping")));
        }
    }
}

} // namespace rpmsgd
