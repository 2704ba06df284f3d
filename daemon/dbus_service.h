// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The D-Bus face of the registry, and the glue its objects share. DbusService observes the
// registry and keeps one object per processor, channel and endpoint (processor_dbus.h,
// channel_dbus.h, endpoint_dbus.h) besides the Manager at /org/rpmsgd/Broker1
// (manager_dbus.h); it owns who-calls tracking (callers_dbus.h) and the upload reader, and
// builds the object paths. Handlers are written as method_call.h describes.

#include "callers_dbus.h"
#include "common/scheduler.h"
#include "memory_trim.h"
#include "method_call.h"
#include "polkit_dbus.h"
#include "registry.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

typedef struct sd_event sd_event;

namespace rpmsgd {

inline constexpr const char* BusName = "org.rpmsgd.Broker1";
inline constexpr const char* RootPath = "/org/rpmsgd/Broker1";

/// @brief Escapes a string into one object path element (sd_bus_path_encode style).
std::string escapePathElement(const std::string& s);

/// @brief Decodes the a{sv} options of Open/OpenEndpoint (nonblock: b, local_address: u);
/// throws Error(InvalidArgument) naming an unknown key or a value of the wrong type.
OpenOptions parseOpenOptions(const std::map<std::string, sdbus::Variant>& options);

/// @brief How Channel.Open and Processor.OpenEndpoint answer.
using OpenCall = MethodCall<sdbus::UnixFd, sdbus::ObjectPath, uint32_t>;

class ManagerObject;
class ProcessorObject;
class ChannelObject;
class EndpointObject;

class DbusService : public RegistryObserver {
public:
    /// @brief @p reload re-reads the config; it returns an empty string or the error sentence.
    DbusService(sdbus::IConnection& connection, Scheduler& scheduler,
                std::function<std::string()> reload, uint32_t waitsPerClient);
    ~DbusService() override;

    /// @brief Connects the registry (set once, before the first rescan).
    void attach(Registry& registry);
    void setWaitsPerClient(uint32_t n);
    /// @brief Answers what is pending and removes every object (InterfacesRemoved first), for
    ///        shutdown.
    void clear();

    // RegistryObserver
    void processorAdded(const Processor&) override;
    void processorChanged(const Processor&, const std::vector<std::string>&) override;
    void processorRemoved(const Processor&) override;
    void channelAdded(const Channel&) override;
    void channelChanged(const Channel&, const std::vector<std::string>&) override;
    void channelRemoved(const Channel&) override;
    void endpointAdded(const Endpoint&) override;
    void endpointRemoved(const Endpoint&) override;
    void crashed(const Processor&, uint32_t count, const std::string& coredump) override;
    void traceLines(const Processor&, unsigned index,
                    const std::vector<std::string>& lines) override;

    // For the objects.
    Registry& registry() { return *registry_; }
    sdbus::IConnection& connection() { return connection_; }
    Scheduler& scheduler() { return scheduler_; }
    Callers& callers() { return callers_; }
    std::string processorPath(const std::string& id) const;
    std::string channelPath(const Channel& c) const;
    std::string endpointPath(uint64_t n) const;
    std::string reload() { return reload_(); }

    /// @brief Step 3 of a handler (method_call.h): counts the call among its client's calls in
    ///        flight (limits.calls_per_client), identifies the caller of the method @p object
    ///        is handling (asynchronously the first time) and authorises @p action with the
    ///        policy in force then; then runs @p then(caller) as the next step of @p call, or
    ///        fails @p call.
    template <typename Call, typename Then>
    void authorise(sdbus::IObject& object, const std::shared_ptr<Call>& call, const Action& action,
                   Then then) {
        const std::string sender = Callers::senderOf(object);
        call->hold(callers_.admit(sender, registry_->policy().callsPerClient));
        trim_.noteActivity();
        Question question{action, memberOf(object), allowsInteraction(object)};
        callers_.identify(
            sender,
            [this, call, question, then = std::move(then)](const Caller& caller) mutable {
                decide(caller, question,
                       [call, caller, then = std::move(then)](std::exception_ptr denied) mutable {
                           if (denied) {
                               return call->fail(denied);
                           }
                           call->step([&] { then(caller); });
                       });
            },
            [call](std::exception_ptr error) { call->fail(error); });
    }

private:
    /// What is asked of the authorise step: the action, the method's member name and whether
    /// the call allows interactive authorization (both for polkit).
    struct Question {
        Action action;
        std::string method;
        bool interactive = false;
    };
    static std::string memberOf(sdbus::IObject& object);
    /// Root and the config's rules first; then, per `authorization`, polkit for what they do
    /// not allow. @p done gets null (allowed) or the AccessDenied, once, maybe later.
    void decide(const Caller& caller, const Question& question,
                std::function<void(std::exception_ptr)> done);

    /// Objects are never destroyed inside a handler: sdbus-c++ 1.2 touches the object after the
    /// callback returns. They wait here (InterfacesRemoved is sent when they go) until the loop
    /// runs again.
    void bury(const std::string& path, std::shared_ptr<void> object);
    void exhume(const std::string& path);
    void senderGone(const std::string& sender);
    bool holdsSomething(const std::string& sender) const;

    sdbus::IConnection& connection_;
    Scheduler& scheduler_;
    MemoryTrim trim_{scheduler_};
    std::function<std::string()> reload_;
    Callers callers_;
    Polkit polkit_;
    Registry* registry_ = nullptr;
    std::unique_ptr<ManagerObject> manager_;
    std::map<std::string, std::unique_ptr<ProcessorObject>> processors_;
    std::map<std::string, std::unique_ptr<ChannelObject>> channels_;
    std::map<uint64_t, std::unique_ptr<EndpointObject>> endpoints_;
    std::vector<std::pair<std::string, std::shared_ptr<void>>> graveyard_;
};

/// @brief The completion of Open or OpenEndpoint (Registry::OpenDone): replies with the
///        endpoint the registry made (its fd is the caller's copy: it goes to the client, and
///        is closed here) and its path and MTU, or fails @p call with the error.
Registry::OpenDone replyOpened(DbusService& svc, OpenCall::Ptr call);

} // namespace rpmsgd
