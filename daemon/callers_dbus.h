// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Who calls: the credentials of each bus client, the calls each has in flight, and tracking of
// the clients that hold something (endpoints, waits), so it ends when they leave the bus.
//
// Credentials are asked of the bus with an asynchronous GetConnectionCredentials, once per
// unique name: the loop keeps serving while the bus answers, and the calls a client makes while
// its lookup runs wait for that one lookup. A client that leaves the bus meanwhile has its
// waiting calls failed (nobody reads the answers) and nothing of it is kept.

#include "common/scheduler.h"
#include "policy.h"

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

namespace rpmsgd {

class Callers {
public:
    using Identified = std::function<void(const Caller&)>;
    using Failed = std::function<void(std::exception_ptr)>;

    /// @brief How long the bus may take to say who a caller is.
    static constexpr uint64_t CredentialsTimeoutUs = 10'000'000;

    Callers(sdbus::IConnection& connection, Scheduler& scheduler);
    ~Callers();
    Callers(const Callers&) = delete;
    Callers& operator=(const Callers&) = delete;

    /// @brief @p gone runs (from the loop) for each tracked client that left the bus; @p busy
    ///        tells whether a client still holds something, so that it stays tracked.
    void setHandlers(std::function<void(const std::string&)> gone,
                     std::function<bool(const std::string&)> busy);

    /// @brief The unique name that sent the method @p object is handling (read from the
    ///        message: no bus round trip).
    static std::string senderOf(sdbus::IObject& object);

    /// @brief Counts one more call of @p sender in flight until the returned token is released;
    ///        throws Error(LimitExceeded) when @p sender already has @p limit calls in flight
    ///        (limits.calls_per_client).
    std::shared_ptr<void> admit(const std::string& sender, uint32_t limit);

    /// @brief Who @p sender is: @p identified runs now when its credentials are known, else
    ///        once the bus has answered the one lookup every call of @p sender waits for; or
    ///        @p failed runs with why it could not be told (AccessDenied).
    void identify(const std::string& sender, Identified identified, Failed failed);

    /// @brief Credential lookups running now (one per sender).
    size_t lookups() const { return lookups_.size(); }

    /// @brief Watches @p sender so that what it holds ends when it leaves the bus.
    void track(const std::string& sender);
    /// @brief Soon (from the loop): stops watching @p sender unless it is still busy.
    void untrackLater(const std::string& sender);
    /// @brief Forgets every client, and fails the calls waiting to be identified (shutdown).
    void clear();

private:
    struct Lookup {
        sdbus::PendingAsyncCall call;
        std::vector<std::pair<Identified, Failed>> waiting;
    };
    void credentialsArrived(const std::string& sender, const sdbus::Error* error,
                            const std::map<std::string, sdbus::Variant>& creds);
    void remember(const Caller& caller);
    void untrackIfIdle(const std::string& sender);
    void senderGone(const std::string& sender);

    sdbus::IConnection& connection_;
    Scheduler& scheduler_;
    std::unique_ptr<sdbus::IProxy> busProxy_;
    std::function<void(const std::string&)> gone_;
    std::function<bool(const std::string&)> busy_;
    std::map<std::string, sdbus::Slot> tracked_;
    std::map<std::string, Caller> credentials_; ///< per unique name, see remember()
    std::map<std::string, Lookup> lookups_;
    /// Calls in flight per sender; shared with the tokens, which may outlive this object.
    std::shared_ptr<std::map<std::string, uint32_t>> inFlight_;
};

} // namespace rpmsgd
