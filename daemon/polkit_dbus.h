// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Asking polkit (org.freedesktop.PolicyKit1) about what the config's rules do not allow
// (docs/dbus-api.md, "Authorization with polkit"). Each check is one asynchronous
// CheckAuthorization with the caller's system-bus-name subject: the loop keeps serving while
// polkit, or the agent it asks, decides. Nothing is cached here (auth_admin_keep is polkit's
// own). A polkit that is absent, fails, answers something else than (bba{ss}) or takes too long
// is a refusal that says so; a caller that leaves the bus meanwhile has its check cancelled.

#include "common/scheduler.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

namespace rpmsgd {

/// @brief What polkit said, as rpmsgd reads it.
struct PolkitVerdict {
    enum class Kind {
        Allowed,   ///< is_authorized
        Denied,    ///< not authorized (and no authentication would help), or dismissed
        Challenge, ///< authentication would help, but the call did not allow interaction
        Absent,    ///< nobody owns org.freedesktop.PolicyKit1
        Failed,    ///< an error, a timeout or a reply that is not (bba{ss})
    };
    Kind kind = Kind::Failed;
    std::string why; ///< for every kind but Allowed: a sentence for the AccessDenied message
};

/// @brief Reads a CheckAuthorization result ((bba{ss}): is_authorized, is_challenge, details).
///        @p interactive: whether the call allowed polkit to ask the person.
PolkitVerdict readPolkitResult(bool authorized, bool challenge,
                               const std::map<std::string, std::string>& details, bool interactive);
/// @brief Reads the error a CheckAuthorization call ended with.
PolkitVerdict readPolkitError(const std::string& name, const std::string& message);

class Polkit {
public:
    static constexpr const char* Service = "org.freedesktop.PolicyKit1";
    /// @brief How long polkit may take: without interaction, and with (a person types).
    static constexpr uint64_t TimeoutUs = 25'000'000;
    static constexpr uint64_t InteractiveTimeoutUs = 300'000'000;

    using Answer = std::function<void(const PolkitVerdict&)>;

    Polkit(sdbus::IConnection& connection, Scheduler& scheduler);
    ~Polkit();
    Polkit(const Polkit&) = delete;
    Polkit& operator=(const Polkit&) = delete;

    /// @brief Asks whether bus client @p sender may do @p actionId with @p details, allowing
    ///        polkit to ask the person when @p interactive. @p answer runs exactly once, from
    ///        the loop (never inside check()), unless this object goes first.
    void check(const std::string& sender, const std::string& actionId,
               const std::map<std::string, std::string>& details, bool interactive, Answer answer);

    /// @brief Checks under way.
    size_t pending() const { return checks_.size(); }

private:
    struct Check {
        std::string sender;
        std::string cancellationId;
        sdbus::PendingAsyncCall call;
        Answer answer;
    };
    void finish(uint64_t id, const PolkitVerdict& verdict);
    void senderLeft(const std::string& sender);

    Scheduler& scheduler_;
    std::unique_ptr<sdbus::IProxy> authority_;
    sdbus::Slot nameOwnerChanged_;
    std::map<uint64_t, Check> checks_;
    uint64_t next_ = 1;
};

/// @brief Whether the method call being handled by @p object allows interactive authorization
///        (the header flag ALLOW_INTERACTIVE_AUTHORIZATION, which sdbus-c++ 1.2 does not show).
bool allowsInteraction(sdbus::IObject& object);

} // namespace rpmsgd
