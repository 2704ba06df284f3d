// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The D-Bus face of the registry: Manager + ObjectManager at /org/rpmsgd/Broker1, one object per
// processor, channel and endpoint. Every handler reads its arguments, validates them (quoting
// the bad value), identifies the caller, calls the registry and replies; every exception becomes
// a D-Bus error (sdbus-c++ 1.2 terminates on anything else).

#include "common/scheduler.h"
#include "registry.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace rpmsgd {

inline constexpr const char* BusName = "org.rpmsgd.Broker1";
inline constexpr const char* RootPath = "/org/rpmsgd/Broker1";

/// @brief Escapes a string into one object path element (sd_bus_path_encode style).
std::string escapePathElement(const std::string& s);

/// @brief Decodes the a{sv} options of Open/OpenEndpoint (nonblock: b, local_address: u);
/// throws Error(InvalidArgument) naming an unknown key or a value of the wrong type.
OpenOptions parseOpenOptions(const std::map<std::string, sdbus::Variant>& options);

class ManagerObject;
class ProcessorObject;
class ChannelObject;
class EndpointObject;

class DbusService : public RegistryObserver {
public:
    /// @brief @p reload re-reads the config; it returns an empty string or the error sentence.
    DbusService(sdbus::IConnection& connection, sd_event* event, Scheduler& scheduler,
                std::function<std::string()> reload, uint32_t waitsPerClient,
                uint64_t firmwareMaxBytes);
    ~DbusService() override;

    /// @brief Connects the registry (set once, before the first rescan).
    void attach(Registry& registry);
    void setWaitsPerClient(uint32_t n) { waitsPerClient_ = n; }
    void setFirmwareMaxBytes(uint64_t n) { firmwareMaxBytes_ = n; }
    /// @brief Removes every object (InterfacesRemoved first), for shutdown.
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

    // Used by the object classes.
    Registry& registry() { return *registry_; }
    sdbus::IConnection& connection() { return connection_; }
    std::string processorPath(const std::string& id) const;
    std::string channelPath(const Channel& c) const;
    std::string endpointPath(uint64_t n) const;
    /// @brief The caller of the method being handled on @p object.
    Caller caller(sdbus::IObject& object);
    /// @brief Watch @p sender so its endpoints and waits end when it leaves the bus.
    void track(const std::string& sender);
    void waitForChannel(sdbus::Result<sdbus::ObjectPath>&& result, const Caller& caller,
                        const std::string& name, const std::string& processor, uint32_t timeoutMs);
    std::string reload() { return reload_(); }
    /// @brief Reads a firmware upload from @p fd (owned) without blocking the loop, then loads
    /// it and answers @p result.
    void readUpload(int fd, sdbus::Result<std::string>&& result, const Caller& caller,
                    const std::string& processorId, const std::string& name);

private:
    struct Waiter {
        uint64_t id;
        std::string sender, name, processor;
        sdbus::Result<sdbus::ObjectPath> result;
        Timer timer;
    };
    /// Objects are never destroyed inside a handler: sdbus-c++ 1.2 touches the object after the
    /// callback returns. They wait here (InterfacesRemoved is sent when they go) until the loop
    /// runs again.
    void bury(const std::string& path, std::shared_ptr<void> object);
    void exhume(const std::string& path);
    void senderGone(const std::string& sender);
    struct Upload;
    void finishUpload(uint64_t id, int error);
    void untrackIfIdle(const std::string& sender);
    void satisfyWaiters();

    sdbus::IConnection& connection_;
    Scheduler& scheduler_;
    std::function<std::string()> reload_;
    uint32_t waitsPerClient_;
    sd_event* event_;
    uint64_t firmwareMaxBytes_;
    std::map<uint64_t, std::unique_ptr<Upload>> uploads_;
    uint64_t nextUpload_ = 1;
    Registry* registry_ = nullptr;
    std::unique_ptr<ManagerObject> manager_;
    std::map<std::string, std::unique_ptr<ProcessorObject>> processors_;
    std::map<std::string, std::unique_ptr<ChannelObject>> channels_;
    std::map<uint64_t, std::unique_ptr<EndpointObject>> endpoints_;
    std::map<std::string, sdbus::Slot> tracked_;
    std::map<std::string, Caller> credentials_; ///< per unique name, see caller()
    std::unique_ptr<sdbus::IProxy> busProxy_;
    std::map<uint64_t, std::unique_ptr<Waiter>> waiters_;
    std::vector<std::pair<std::string, std::shared_ptr<void>>> graveyard_;
    uint64_t nextWaiter_ = 1;
};

} // namespace rpmsgd
