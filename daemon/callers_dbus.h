// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Who calls: the credentials of each bus client (asked once per unique name), the authorise step
// every acting method takes (identify the caller, then Policy::authorise), and tracking of the
// clients that hold something (endpoints, waits), so it ends when they leave the bus.
//
// authorise() answers through callbacks. Today the caller's credentials come from the message
// being handled (sd-bus asks the bus synchronously) and the policy is the config's, so both
// complete before authorise() returns; the callbacks are where an asynchronous
// GetConnectionCredentials or a polkit CheckAuthorization would complete later.

#include "common/scheduler.h"
#include "policy.h"

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

namespace rpmsgd {

class Callers {
public:
    using Allowed = std::function<void(const Caller&)>;
    using Denied = std::function<void(std::exception_ptr)>;

    Callers(sdbus::IConnection& connection, Scheduler& scheduler);
    ~Callers();
    Callers(const Callers&) = delete;
    Callers& operator=(const Callers&) = delete;

    /// @brief @p gone runs (from the loop) for each tracked client that left the bus; @p busy
    ///        tells whether a client still holds something, so that it stays tracked.
    void setHandlers(std::function<void(const std::string&)> gone,
                     std::function<bool(const std::string&)> busy);

    /// @brief The authorise step of a handler: identifies the caller of the method @p object is
    ///        handling and checks @p action against @p policy; then @p allowed runs with the
    ///        caller, or @p denied with the error (AccessDenied, or why the caller is unknown).
    void authorise(sdbus::IObject& object, const Action& action, const Policy& policy,
                   Allowed allowed, Denied denied);

    /// @brief Watches @p sender so that what it holds ends when it leaves the bus.
    void track(const std::string& sender);
    /// @brief Soon (from the loop): stops watching @p sender unless it is still busy.
    void untrackLater(const std::string& sender);
    /// @brief Forgets every client (shutdown).
    void clear();

private:
    Caller identify(sdbus::IObject& object);
    void untrackIfIdle(const std::string& sender);
    void senderGone(const std::string& sender);

    sdbus::IConnection& connection_;
    Scheduler& scheduler_;
    std::unique_ptr<sdbus::IProxy> busProxy_;
    std::function<void(const std::string&)> gone_;
    std::function<bool(const std::string&)> busy_;
    std::map<std::string, sdbus::Slot> tracked_;
    std::map<std::string, Caller> credentials_; ///< per unique name, see identify()
};

} // namespace rpmsgd
