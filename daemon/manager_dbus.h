// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// org.rpmsgd.Broker1.Manager and the ObjectManager at /org/rpmsgd/Broker1: the lists, lookups,
// WaitForChannel (with the waits it keeps until a channel appears) and Reload.

#include "common/scheduler.h"
#include "method_call.h"
#include "org.rpmsgd.Broker1.Manager.adaptor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

namespace rpmsgd {

class DbusService;

class ManagerObject final
    : public sdbus::AdaptorInterfaces<org::rpmsgd::Broker1::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor> {
public:
    ManagerObject(DbusService& svc, uint32_t waitsPerClient);
    ~ManagerObject();

    void setWaitsPerClient(uint32_t n) { waitsPerClient_ = n; }
    /// @brief A channel was published: answers the waits it satisfies.
    void channelAppeared();
    /// @brief True while @p sender waits for a channel.
    bool waits(const std::string& sender) const;
    /// @brief @p sender left the bus: its waits go unanswered.
    void dropWaits(const std::string& sender);
    /// @brief Answers every wait with Unavailable (shutdown).
    void endWaits();

private:
    using WaitCall = MethodCall<sdbus::ObjectPath>;
    struct Waiter {
        std::string sender, name, processor;
        WaitCall::Ptr call;
        Timer timer;
    };

    std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>>
    ListProcessors() override;
    std::vector<sdbus::Struct<std::string, std::string, uint32_t, sdbus::ObjectPath>>
    ListChannels() override;
    sdbus::ObjectPath GetProcessor(const std::string& key) override;
    void WaitForChannel(sdbus::Result<sdbus::ObjectPath>&& result, std::string name,
                        std::string processor, uint32_t timeout_ms) override;
    void Reload(sdbus::Result<>&& result) override;
    std::string Version() override;
    std::string ApiVersion() override;

    void wait(const WaitCall::Ptr& call, const std::string& sender, const std::string& name,
              const std::string& processor, uint32_t timeoutMs);
    void timedOut(uint64_t id);

    DbusService& svc_;
    uint32_t waitsPerClient_;
    std::map<uint64_t, std::unique_ptr<Waiter>> waiters_;
    uint64_t nextWaiter_ = 1;
};

} // namespace rpmsgd
