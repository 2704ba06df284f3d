// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Who may do what. The rules come from the configuration (config/README.md: "managers",
// "channels", "processors", "limits"); authorise() is the one decision every D-Bus method that
// acts asks before it calls the registry. No D-Bus types: the glue identifies the caller and
// runs authorise() as the authorise step of each handler (daemon/callers_dbus.h).

#include "common/states.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rpmsgd {

namespace config {
struct Config;
}

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

/// @brief "remoteproc0", or "remoteproc0 (m4)" when the kernel name differs: how messages and
/// logs name a processor.
std::string describeProcessor(const std::string& id, const std::string& name);

/// @brief What a caller asks to do, as authorise() decides it (docs/dbus-api.md, "Access").
struct Action {
    enum class Kind {
        Wait,          ///< wait for a channel to appear: everyone
        Manage,        ///< lifecycle and configuration of a processor: root and managers
        Reload,        ///< re-read the configuration: root
        OpenChannel,   ///< an endpoint on an announced channel: managers and the channel rules
        OpenEndpoint,  ///< a raw endpoint, by its name: managers and the channel rules
        CloseEndpoint, ///< end an endpoint: its owner and managers
    };
    Kind kind = Kind::Wait;
    std::string what;          ///< Manage: the request in words, e.g. "Starting a processor"
    std::string processorId;   ///< Manage, OpenChannel, OpenEndpoint
    std::string processorName; ///< OpenChannel, OpenEndpoint: the kernel name (rules match it)
    std::string name;          ///< OpenChannel: the channel; OpenEndpoint: the endpoint name
    uint64_t endpoint = 0;     ///< CloseEndpoint
    std::string owner;         ///< CloseEndpoint: the unique name that holds it

    static Action wait();
    static Action manage(std::string what, std::string processorId);
    static Action reload();
    static Action openChannel(std::string channel, std::string processorId,
                              std::string processorName);
    static Action openEndpoint(std::string name, std::string processorId,
                               std::string processorName);
    static Action closeEndpoint(uint64_t endpoint, std::string owner);
};

/// @brief Who decides what the rules do not allow (config `authorization`).
enum class Authorization { Groups, Polkit, Auto };

/// @brief The polkit action that can allow @p kind beyond the rules (docs/dbus-api.md,
///        "Authorization with polkit"); null for what polkit is never asked about.
const char* polkitAction(Action::Kind kind);

/// @brief What the config allows, with names resolved to ids.
struct Policy {
    Authorization authorization = Authorization::Auto;
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
        std::optional<RecoveryMode> recovery;
        std::optional<CoredumpMode> coredump;
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
    uint32_t callsPerClient = 32;          ///< method calls of one client being served at once
    uint32_t kernelWriteTimeoutMs = 30000; ///< how long a lifecycle write may take

    /// @brief Root, or listed in "managers" by uid or group.
    bool isManager(const Caller& caller) const;
    /// @brief The first channel rule that fits @p name on the processor decides.
    bool channelAllowed(const Caller& caller, const std::string& name,
                        const std::string& processorId, const std::string& processorName) const;
    /// @brief The first processors[] entry whose glob matches the kernel name or the id; null
    /// if none.
    const ProcessorRule* ruleFor(const std::string& processorId,
                                 const std::string& processorName) const;
    /// @brief Returns when @p caller may do @p action; throws Error(AccessDenied) naming the
    /// caller's uid and the rule that refuses otherwise.
    void authorise(const Caller& caller, const Action& action) const;
};

/// @brief The policy a configuration gives, with user and group names resolved (names unknown
/// on this machine are left out with a warning in @p warnings).
Policy policyFrom(const config::Config& cfg, std::vector<std::string>& warnings);

} // namespace rpmsgd
