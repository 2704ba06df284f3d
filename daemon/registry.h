// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The daemon's domain: processors, channels, endpoints (leases) and who may do what. It holds
// no D-Bus types and touches no files: the kernel comes in through KernelPort, changes go out
// through RegistryObserver (the D-Bus glue turns them into objects and signals).

#include "kernel_port.h"
#include "store.h"
#include "worker.h"

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace rpmsgd {

class FdStore;

/// @brief Who is calling: the bus connection and its credentials.
struct Caller {
    std::string sender; ///< unique bus name
    uint32_t uid = 0;
    std::vector<uint32_t> gids; ///< primary and supplementary groups
};

/// @brief A set of users and groups.
struct Identity {
    std::set<uint32_t> uids, gids;
    bool matches(const Caller& caller) const;
};

/// @brief What the config allows, with names resolved to ids.
struct Policy {
    Identity managers;
    struct ChannelRule {
        std::string match = "*";     ///< glob on the channel name
        std::string processor = "*"; ///< glob on the processor id or kernel name
        Identity who;
    };
    std::vector<ChannelRule> channelRules;
    /// @brief What the config asks for a processor (first matching processors[] entry).
    struct ProcessorRule {
        std::string match = "*"; ///< glob on the kernel name or the id
        std::optional<std::string> firmware;
        bool autostart = false;
        std::optional<bool> recovery;
        std::optional<std::string> coredump;
        bool hasRestart = false; ///< a processors[] entry matched: the restart policy applies
        uint32_t maxCrashes = 5;
        uint32_t windowS = 300;
    };
    std::vector<ProcessorRule> processorRules;
    uint32_t endpointsPerClient = 32;
    uint32_t endpointsTotal = 1024;
    uint32_t coredumpsKept = 5;
    uint64_t coredumpMaxBytes = 256ull << 20;
    uint64_t firmwareMaxBytes = 64ull << 20;
};

struct Processor {
    std::string id, name, state, firmware, recovery, coredump;
    bool remoteproc = true;
    uint32_t crashCount = 0;
    std::string lastError, lastCoredump;
    std::string ctrl;                  ///< rpmsg_ctrlN while it has one
    uint64_t ctrlInstance = 0;         ///< which instance of it (see CtrlSnapshot)
    std::vector<std::string> channels; ///< channel keys (bus device names)
    bool configured = false;           ///< the config's processors[] entry was looked at
    bool inCrash = false;              ///< a crash was counted and the remote is not back yet
    bool lastCoredumpFresh = false;    ///< lastCoredump was saved for a crash not yet signalled
    std::string ctrlAtCrash;           ///< the control device it had when the crash was seen
    std::deque<uint64_t> crashTimes;   ///< monotonic seconds of recent crashes (restart policy)
};

struct Channel {
    std::string key; ///< bus device name, unique
    std::string name;
    std::string processorId;
    uint32_t remoteAddress = 0;
    uint32_t mtu = 496;
    uint32_t endpoints = 0;
};

struct Endpoint {
    uint64_t number = 0;
    std::string channelKey; ///< empty for raw endpoints
    std::string processorId;
    std::string name;
    uint32_t remoteAddress = 0;
    std::string device; ///< rpmsgN
    std::string owner;  ///< unique bus name
    uint32_t ownerUid = 0;
    std::vector<uint32_t> ownerGids; ///< for re-checking the owner after a reload
    int fd = -1;                     ///< the daemon's own copy, used to destroy it
};

/// @brief Changes the registry reports, in the order they happen.
class RegistryObserver {
public:
    virtual ~RegistryObserver() = default;
    virtual void processorAdded(const Processor&) = 0;
    virtual void processorChanged(const Processor&, const std::vector<std::string>& properties) = 0;
    virtual void processorRemoved(const Processor&) = 0;
    virtual void channelAdded(const Channel&) = 0;
    virtual void channelChanged(const Channel&, const std::vector<std::string>& properties) = 0;
    virtual void channelRemoved(const Channel&) = 0;
    virtual void endpointAdded(const Endpoint&) = 0;
    virtual void endpointRemoved(const Endpoint&) = 0;
    virtual void crashed(const Processor&, uint32_t count, const std::string& coredump) = 0;
};

struct OpenOptions {
    bool nonblock = false;
    std::optional<uint32_t> localAddress;
};

struct OpenResult {
    int fd = -1; ///< the caller's copy (the registry keeps its own); the caller closes it
    uint64_t endpoint = 0;
    uint32_t mtu = 496;
};

class Registry {
public:
    using Done = std::function<void(std::exception_ptr)>;
    Registry(KernelPort& kernel, RegistryObserver& observer, Policy policy, Store& store,
             Worker& worker);
    ~Registry();

    /// @brief Keep a copy of every endpoint fd in @p store (the service manager's), so a
    /// later instance can destroy the endpoints if this one is killed. Null: none.
    void setFdStore(const FdStore* store) { fdStore_ = store; }

    /// @brief Every kernel endpoint rpmsgd makes is named "rpmsgd-<pid>-<n>"; this is the
    /// prefix common to all instances, and ownKernelPrefix() this instance's.
    static constexpr const char* KernelPrefix = "rpmsgd-";
    static std::string ownKernelPrefix();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    /// @brief Re-reads the truth from the kernel and reports every difference.
    void rescan();
    /// @brief Reads only each processor's state (the kernel sends no notification for it);
    /// true if any changed.
    bool pollStates();
    /// @brief Replaces the policy; endpoints whose owner is no longer allowed are ended.
    void setPolicy(Policy policy);

    const std::map<std::string, Processor>& processors() const { return processors_; }
    const std::map<std::string, Channel>& channels() const { return channels_; }
    const std::map<uint64_t, Endpoint>& endpoints() const { return endpoints_; }
    /// @brief By id (remoteproc0) or kernel name; null if none.
    const Processor* findProcessor(const std::string& key) const;
    /// @brief First channel named @p name on @p processorKey (id or name; empty = any).
    const Channel* findChannel(const std::string& name, const std::string& processorKey) const;

    bool isManager(const Caller& caller) const;
    /// @brief Throws AccessDenied unless the caller is root or a manager.
    void requireManager(const Caller& caller, const std::string& what) const;

    /// @brief From now on, apply the config's processors[] entries (firmware, recovery,
    /// coredump, autostart) to each processor the first time it is seen offline. Called once the
    /// bus name is owned and the objects are published, so no early announcement is missed.
    void enableProcessorPolicies();

    // Processor management; each throws rpmsgd::Error for what it can tell at once. The
    // asynchronous ones report the kernel's answer through @p done, on the loop.
    void start(const Caller&, const std::string& id, Done done);
    void stop(const Caller&, const std::string& id, Done done);
    void restart(const Caller&, const std::string& id, Done done);
    void recover(const Caller&, const std::string& id, Done done);
    /// @brief Validates and stores uploaded firmware, then sets it; returns the name set.
    std::string loadFirmware(const Caller&, const std::string& id, const std::string& name,
                             std::span<const uint8_t> image);
    /// @brief Throws unless @p caller may upload firmware to @p id now (checked before reading).
    void checkLoadFirmware(const Caller&, const std::string& id);
    void setFirmware(const Caller&, const std::string& id, const std::string& name);
    void setRecovery(const Caller&, const std::string& id, bool enabled);
    void setCoredump(const Caller&, const std::string& id, const std::string& mode);
    std::string readTrace(const Caller&, const std::string& id, unsigned index);

    // Endpoints.
    OpenResult open(const Caller&, const std::string& channelKey, const OpenOptions&);
    OpenResult openRaw(const Caller&, const std::string& processorId, const std::string& name,
                       uint32_t remoteAddress, const OpenOptions&);
    void close(const Caller&, uint64_t endpoint);
    /// @brief The client left the bus: end all its endpoints.
    void clientGone(const std::string& sender);
    /// @brief Senders that currently hold endpoints.
    std::set<std::string> owners() const;
    /// @brief Ends every endpoint (shutdown).
    void endAll();

private:
    const FdStore* fdStore_ = nullptr;
    const Processor& processor(const std::string& id) const;
    Processor& processorMutable(const std::string& id);
    void requireRemoteproc(const Processor& p, const std::string& what) const;
    bool channelAllowed(const Caller&, const std::string& channelName, const Processor&) const;
    OpenResult createEndpoint(const Caller&, const Processor&, const std::string& channelKey,
                              const std::string& label, uint32_t remoteAddress, const OpenOptions&);
    void endEndpoint(uint64_t number, const std::string& why);
    void updateProcessor(Processor& p, const ProcessorSnapshot& s);
    void refreshState(Processor& p, const std::string& state);
    void noteError(Processor& p, const std::string& message);
    void crashSeen(Processor& p, const std::string& why);
    void harvestCoredumps();
    void applyPolicy(Processor& p);
    const Policy::ProcessorRule* ruleFor(const Processor& p) const;
    void runLifecycle(const std::string& id, const char* verb,
                      std::function<void(const std::string&)> work, Done done);
    void startNow(const std::string& id, Done done);
    void stopNow(const std::string& id, Done done);

    KernelPort& kernel_;
    RegistryObserver& observer_;
    Policy policy_;
    Store& store_;
    Worker& worker_;
    bool policiesEnabled_ = false;
    std::map<std::string, Processor> processors_;
    std::map<std::string, Channel> channels_;
    std::map<uint64_t, Endpoint> endpoints_;
    uint64_t nextEndpoint_ = 1;
};

} // namespace rpmsgd
