// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "polkit_dbus.h"

#include "log.h"

#include <utility>

#include <systemd/sd-bus.h>

namespace rpmsgd {

namespace {

constexpr const char* AuthorityPath = "/org/freedesktop/PolicyKit1/Authority";
constexpr const char* AuthorityIface = "org.freedesktop.PolicyKit1.Authority";
constexpr uint32_t AllowUserInteraction = 1;

using Subject = sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>;
using Result = sdbus::Struct<bool, bool, std::map<std::string, std::string>>;

// sdbus-c++ 1.2 keeps the sd_bus_message of a Message protected; a pointer to that member,
// formed in a derived class, reads it.
struct MessageAccess : sdbus::Message {
    static void* raw(const sdbus::Message& m) { return m.*(&MessageAccess::msg_); }
};

} // namespace

PolkitVerdict readPolkitResult(bool authorized, bool challenge,
                               const std::map<std::string, std::string>& details,
                               bool interactive) {
    if (authorized) {
        return {PolkitVerdict::Kind::Allowed, ""};
    }
    auto dismissed = details.find("polkit.dismissed");
    if (dismissed != details.end() && !dismissed->second.empty()) {
        return {PolkitVerdict::Kind::Denied, "the authentication dialog was dismissed"};
    }
    if (challenge && interactive) {
        return {PolkitVerdict::Kind::Challenge,
                "polkit requires authentication, and no authentication agent could ask for it"};
    }
    if (challenge) {
        return {PolkitVerdict::Kind::Challenge,
                "polkit requires authentication, and the call did not allow interactive "
                "authorization"};
    }
    return {PolkitVerdict::Kind::Denied, "polkit does not allow it"};
}

PolkitVerdict readPolkitError(const std::string& name, const std::string& message) {
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
        name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
        return {PolkitVerdict::Kind::Absent,
                "polkit is not running (nobody owns org.freedesktop.PolicyKit1 on the bus)"};
    }
    if (name == "org.freedesktop.DBus.Error.NoReply" ||
        name == "org.freedesktop.DBus.Error.Timeout") {
        return {PolkitVerdict::Kind::Failed, "polkit did not answer in time (" + name + ")"};
    }
    return {PolkitVerdict::Kind::Failed, "polkit failed: " + name + ": " + message};
}

bool allowsInteraction(sdbus::IObject& object) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    if (!msg) {
        return false;
    }
    auto* raw = static_cast<sd_bus_message*>(MessageAccess::raw(*msg));
    return raw && sd_bus_message_get_allow_interactive_authorization(raw) > 0;
}

Polkit::Polkit(sdbus::IConnection& connection, Scheduler& scheduler)
    : scheduler_(scheduler), authority_(sdbus::createProxy(connection, Service, AuthorityPath)) {
    // One match for every departure (not one per check: adding a match is a synchronous round
    // trip to the bus).
    nameOwnerChanged_ = connection.addMatch(
        "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
        "interface='org.freedesktop.DBus',member='NameOwnerChanged'",
        [this](sdbus::Message& msg) {
            if (checks_.empty()) {
                return;
            }
            std::string name, oldOwner, newOwner;
            msg >> name >> oldOwner >> newOwner;
            if (!name.empty() && name[0] == ':' && newOwner.empty()) {
                scheduler_.post([this, name] { senderLeft(name); });
            }
        });
}

Polkit::~Polkit() {
    for (auto& [id, c] : checks_) {
        c.call.cancel();
    }
}

void Polkit::check(const std::string& sender, const std::string& actionId,
                   const std::map<std::string, std::string>& details, bool interactive,
                   Answer answer) {
    const uint64_t id = next_++;
    Check& c = checks_[id];
    c.sender = sender;
    c.cancellationId = "rpmsgd-" + std::to_string(id);
    c.answer = std::move(answer);
    const Subject subject{std::string("system-bus-name"),
                          std::map<std::string, sdbus::Variant>{{"name", sdbus::Variant(sender)}}};
    try {
        c.call =
            authority_->callMethodAsync("CheckAuthorization")
                .onInterface(AuthorityIface)
                .withTimeout(interactive ? InteractiveTimeoutUs : TimeoutUs)
                .withArguments(subject, actionId, details,
                               interactive ? AllowUserInteraction : uint32_t{0}, c.cancellationId)
                .uponReplyInvoke([this, id, interactive](const sdbus::Error* error, Result result) {
                    if (error) {
                        return finish(id, readPolkitError(error->getName(), error->getMessage()));
                    }
                    finish(id, readPolkitResult(result.get<0>(), result.get<1>(), result.get<2>(),
                                                interactive));
                });
    } catch (const sdbus::Error& e) {
        const PolkitVerdict verdict = readPolkitError(e.getName(), e.getMessage());
        scheduler_.post([this, id, verdict] { finish(id, verdict); });
    }
}

void Polkit::finish(uint64_t id, const PolkitVerdict& verdict) {
    auto it = checks_.find(id);
    if (it == checks_.end()) {
        return;
    }
    Answer answer = std::move(it->second.answer);
    checks_.erase(it);
    answer(verdict);
}

void Polkit::senderLeft(const std::string& sender) {
    std::vector<uint64_t> gone;
    for (auto& [id, c] : checks_) {
        if (c.sender == sender) {
            gone.push_back(id);
        }
    }
    for (uint64_t id : gone) {
        auto it = checks_.find(id);
        if (it == checks_.end()) {
            continue;
        }
        it->second.call.cancel();
        // polkit lets the one that asked cancel; its answer is not needed.
        (void)authority_->callMethodAsync("CancelCheckAuthorization")
            .onInterface(AuthorityIface)
            .withTimeout(TimeoutUs)
            .withArguments(it->second.cancellationId)
            .uponReplyInvoke([](const sdbus::Error*) {});
        log::debug("Cancelled the polkit check of " + sender + ": it left the bus",
                   {{"SENDER", sender}});
        finish(id, {PolkitVerdict::Kind::Denied, sender + " left the bus"});
    }
}

} // namespace rpmsgd
