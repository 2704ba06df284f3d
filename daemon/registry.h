// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The daemon's domain: processors, channels and endpoints (leases). It holds no D-Bus types and
// touches no files: the kernel comes in through KernelPort, changes go out through
// RegistryObserver (the D-Bus glue turns them into objects and signals). Who may do what is
// decided before a request gets here (Policy::authorise, policy.h); the registry applies the
// rest of the policy: the config's processors[] entries, the limits, and endpoints a new
// config no longer allows.
//
// One class, one file per concern:
//   registry.cpp            lookups, the policy in force, errors on processors
//   registry_scan.cpp       the truth from the kernel: rescan and state polling
//   registry_crash.cpp      crashes, coredumps and the daemon's restart policy
//   registry_lifecycle.cpp  start, stop, recover, firmware, recovery and coredump settings
//   registry_endpoints.cpp  endpoint leases: open, close, and the one way they end
//   registry_trace.cpp      following the running processors' trace buffers

#include "common/rpmsg_abi.h"
#include "common/states.h"
#include "kernel_port.h"
#include "policy.h"
#include "store.h"
#include "trace_diff.h"
#include "worker.h"

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace rpmsgd {

class FdStore;

struct Processor {
    std::string id, name;
    ProcessorState state = ProcessorState::Offline;
    std::string firmware;
    std::optional<RecoveryMode> recovery; ///< nullopt: this kernel has no `recovery` attribute
    std::optional<CoredumpMode> coredump; ///< nullopt: this kernel has no `coredump` attribute
    bool remoteproc = true;
    uint32_t crashCount = 0;
    uint32_t startCount = 0;   ///< boots seen since the daemon started (API 1.1 StartCount)
    uint64_t runningSince = 0; ///< CLOCK_REALTIME µs when it last became up; 0 while not up
    std::string lastError, lastCoredump;
    std::string ctrl;                  ///< rpmsg_ctrlN while it has one
    uint64_t ctrlInstance = 0;         ///< which instance of it (see CtrlSnapshot)
    std::vector<std::string> channels; ///< channel keys (bus device names)
    bool configured = false;           ///< the config's processors[] entry was looked at
    bool inCrash = false;              ///< a crash was counted and the remote is not back yet
    bool lastCoredumpFresh = false;    ///< lastCoredump was saved for a crash not yet signalled
    /// Monotonic seconds when a crash was counted that no coredump has been harvested for yet
    /// (0: none). The kernel may recover the remote before its devcoredump shows up: that dump
    /// belongs to the crash already counted, not to a new one.
    uint64_t crashAwaitingCore = 0;
    std::string ctrlAtCrash;         ///< the control device it had when the crash was seen
    std::deque<uint64_t> crashTimes; ///< monotonic seconds of recent crashes (restart policy)
};

/// @brief How messages and logs name a processor: "remoteproc0 (m4)".
std::string describe(const Processor& p);

/// @brief CLOCK_REALTIME in microseconds (Processor.runningSince).
uint64_t realtimeMicros();

struct Channel {
    std::string key; ///< bus device name, unique
    std::string name;
    std::string processorId;
    uint32_t remoteAddress = 0;
    uint32_t mtu = rpmsg::Mtu;
    uint32_t endpoints = 0;
    uint32_t openCount = 0; ///< successful Opens since the daemon started (API 1.1 OpenCount)
    std::string tty;        ///< ttyRPMSGn for a channel bound to rpmsg_tty (Kind tty), else ""
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
    bool tty = false;                ///< a tty channel's lease: ends by hanging the tty up
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
    /// @brief New lines in trace buffer @p index of a running processor (API 1.1).
    virtual void traceLines(const Processor&, unsigned /*index*/,
                            const std::vector<std::string>& /*lines*/) {}
};

struct OpenOptions {
    bool nonblock = false;
    std::optional<uint32_t> localAddress;
};

struct OpenResult {
    int fd = -1; ///< the caller's copy (the registry keeps its own); the caller closes it
    uint64_t endpoint = 0;
    uint32_t mtu = rpmsg::Mtu;
};

class Registry {
public:
    using Done = std::function<void(std::exception_ptr)>;
    /// @brief An Open's outcome, on the loop: an error, or the endpoint.
    using OpenDone = std::function<void(std::exception_ptr, const OpenResult&)>;
    Registry(KernelPort& kernel, RegistryObserver& observer, Policy policy, Store& store,
             Worker& worker);
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    /// @brief Keep a copy of every endpoint fd in @p store (the service manager's), so a
    /// later instance can destroy the endpoints if this one is killed. Null: none.
    void setFdStore(const FdStore* store) { fdStore_ = store; }

    /// @brief Every kernel endpoint rpmsgd makes is named "rpmsgd-<pid>-<n>"; this is the
    /// prefix common to all instances, and ownKernelPrefix() this instance's.
    static constexpr const char* KernelPrefix = "rpmsgd-";
    static std::string ownKernelPrefix();

    // --- the truth from the kernel (registry_scan.cpp) ---
    /// @brief Re-reads the truth from the kernel and reports every difference.
    void rescan();
    /// @brief Reads only each processor's state (the kernel sends no notification for it);
    /// true if any changed.
    bool pollStates();

    // --- lookups and policy (registry.cpp) ---
    const std::map<std::string, Processor>& processors() const { return processors_; }
    const std::map<std::string, Channel>& channels() const { return channels_; }
    const std::map<uint64_t, Endpoint>& endpoints() const { return endpoints_; }
    /// @brief By id (remoteproc0) or kernel name; null if none.
    const Processor* findProcessor(const std::string& key) const;
    /// @brief By id; throws NotFound ("There is no processor ...") if none.
    const Processor& processor(const std::string& id) const;
    /// @brief First channel named @p name on @p processorKey (id or name; empty = any).
    const Channel* findChannel(const std::string& name, const std::string& processorKey) const;
    /// @brief The policy in force (for the D-Bus glue's authorise step).
    const Policy& policy() const { return policy_; }
    /// @brief Replaces the policy; endpoints whose owner is no longer allowed are ended.
    void setPolicy(Policy policy);

    // --- lifecycle (registry_lifecycle.cpp) ---
    // The caller was authorised (Action::manage). Each throws rpmsgd::Error for what it can
    // tell at once; the asynchronous ones report the kernel's answer through @p done, on the
    // loop.

    /// @brief From now on, apply the config's processors[] entries (firmware, recovery,
    /// coredump, autostart) to each processor the first time it is seen offline. Called once the
    /// bus name is owned and the objects are published, so no early announcement is missed.
    void enableProcessorPolicies();
    void start(const std::string& id, Done done);
    void stop(const std::string& id, Done done);
    void restart(const std::string& id, Done done);
    void recover(const std::string& id, Done done);
    /// @brief Throws unless firmware may be uploaded to @p id now (checked before reading).
    void checkLoadFirmware(const std::string& id) const;
    /// @brief What LoadFirmware reports: the error, or the name set (relative to the firmware
    /// directory).
    using Loaded = std::function<void(std::exception_ptr, const std::string& stored)>;
    /// @brief Copies the upload @p fd (owned: closed when copied) into the firmware directory
    /// off the loop, checks it (size limit, ELF), stores it atomically, then sets it (a kernel
    /// write with a deadline, as start's) and reports the name set through @p done.
    void loadFirmware(const std::string& id, const std::string& name, int fd, Loaded done);
    /// @brief How long a pipe or socket passed to LoadFirmware may take to reach its end.
    static constexpr uint64_t UploadTimeoutMs = 30000;
    /// @brief The firmware, recovery and coredump writes run on the Worker with a deadline,
    /// as start's; @p done gets the kernel's answer (or Timeout at the deadline).
    void setFirmware(const std::string& id, const std::string& name, Done done);
    void setRecovery(const std::string& id, bool enabled, Done done);
    void setCoredump(const std::string& id, CoredumpMode mode, Done done);
    std::string readTrace(const std::string& id, unsigned index);

    // --- trace buffers (registry_trace.cpp) ---
    /// @brief Reads the trace buffers of every running processor once and reports the lines
    /// written since the last call (observer and journal). Buffers of a processor first seen up
    /// (its boot not seen) start after what they held then; after a boot, from the start.
    void followTraces();

    // --- endpoints (registry_endpoints.cpp) ---
    // The caller was authorised (Action::openChannel, openEndpoint, closeEndpoint); @p owner
    // holds the lease and is counted against limits.endpoints_per_client. An Open throws what
    // it can tell at once (NotFound, Unavailable, LimitExceeded, InvalidArgument); its kernel
    // steps run on the Worker (one queue per control device, so Opens on different processors
    // run at once), and @p done gets their outcome on the loop.
    // An Open in flight counts against the limits, and whatever would end its endpoint (its
    // processor stopping or crashing, its channel going, its owner leaving, a reload, shutdown)
    // ends it too: the endpoint is destroyed as soon as it exists, @p done gets Unavailable.

    void open(const Caller& owner, const std::string& channelKey, const OpenOptions&,
              OpenDone done);
    void openRaw(const Caller& owner, const std::string& processorId, const std::string& name,
                 uint32_t remoteAddress, const OpenOptions&, OpenDone done);
    /// @brief Ends endpoint @p number (NotFound if there is none); @p why goes to the log.
    void close(uint64_t number, const std::string& why);
    /// @brief The client left the bus: end all its endpoints.
    void clientGone(const std::string& sender);
    /// @brief Senders that currently hold endpoints or are opening one.
    std::set<std::string> owners() const;
    /// @brief Ends every endpoint (shutdown).
    void endAll();

private:
    Processor& processorMutable(const std::string& id);
    void requireRemoteproc(const Processor& p, const std::string& what) const;
    void noteError(Processor& p, const std::string& message);
    const Policy::ProcessorRule* ruleFor(const Processor& p) const;

    // registry_scan.cpp
    void addProcessor(const ProcessorSnapshot& s, const std::string& ctrl, uint64_t instance);
    void updateProcessor(Processor& p, const ProcessorSnapshot& s);
    void updateCtrl(Processor& p, const std::string& ctrl, uint64_t instance);
    void refreshState(Processor& p, ProcessorState state);
    /// @brief A boot the daemon saw (start, recovery, restart, attach): counts it and restarts
    /// the RunningSince clock; @p also are properties to announce with them.
    void bootSeen(Processor& p, std::vector<std::string> also);
    void updateChannels(const std::vector<ChannelSnapshot>& chans,
                        const std::set<std::string>& seenProcs);
    void removeProcessors(const std::set<std::string>& seenProcs);

    // registry_crash.cpp
    void crashSeen(Processor& p, const std::string& why);
    void restartAfterCrash(Processor& p);
    void harvestCoredumps();

    // registry_lifecycle.cpp
    void applyPolicy(Processor& p);
    /// @brief Runs the kernel write @p work for processor @p id on the Worker with
    /// limits.kernel_write_timeout_ms as its deadline. @p verb names the write in messages
    /// ('start', 'firmware'...), @p failed starts LastError when it fails.
    void runKernelWrite(const std::string& id, const std::string& verb, const std::string& failed,
                        std::function<void(const std::string&)> work, Done done);
    void startNow(const std::string& id, Done done);
    void stopNow(const std::string& id, Done done);

    // registry_endpoints.cpp
    struct Opening;
    void createEndpoint(const Caller& owner, const Processor& p, const std::string& channelKey,
                        const std::string& label, uint32_t remoteAddress, const OpenOptions&,
                        OpenDone done);
    /// @brief The Open in flight @p o has finished its kernel steps: lease it, or answer why not.
    void opened(const std::shared_ptr<Opening>& o, std::exception_ptr error, const OpenDone& done);
    /// @brief The one way endpoints end: every endpoint @p which selects is destroyed in the
    /// kernel, dropped from the fd store, uncounted from its channel and reported; every Open in
    /// flight it selects is cancelled (its endpoint destroyed as soon as it exists).
    void endEndpoints(const std::function<bool(const Endpoint&)>& which, const std::string& why);

    // registry_tty.cpp
    /// @brief Open of a tty channel: the tty itself, to one holder at a time.
    OpenResult openTty(const Caller& owner, const Channel& ch, const OpenOptions&);

    KernelPort& kernel_;
    RegistryObserver& observer_;
    Policy policy_;
    Store& store_;
    Worker& worker_;
    /// Devcoredumps read and dismissed that the kernel has not removed yet: it removes them
    /// from a work item (devcd_data_write), so a listing right after the dismissal still has
    /// them, and reading one again would save the same dump twice.
    std::set<std::string> dismissedCoredumps_;
    const FdStore* fdStore_ = nullptr;
    bool policiesEnabled_ = false;
    std::map<std::string, Processor> processors_;
    std::map<std::string, Channel> channels_;
    std::map<uint64_t, Endpoint> endpoints_;
    /// Opens whose kernel steps are running on the Worker, by endpoint number to be.
    std::map<uint64_t, std::shared_ptr<Opening>> opening_;
    uint64_t nextEndpoint_ = 1;
    /// A lifecycle write past limits.kernel_write_timeout_ms, per processor, until it returns.
    struct OverdueWrite {
        std::string verb; ///< start, stop, recover, firmware, recovery, coredump
        std::string at;   ///< when it was written, as messages say it
        uint64_t serial = 0;
    };
    std::map<std::string, OverdueWrite> overdue_;
    uint64_t writeSerial_ = 0;
    /// processor id -> trace buffer index -> what was read of it (registry_trace.cpp)
    std::map<std::string, std::map<unsigned, TraceDiff>> traces_;
};

} // namespace rpmsgd
