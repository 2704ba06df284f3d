// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// rpmsgd's configuration (config/README.md): the schema as plain structs and a pure parser from
// JSON texts to them. Reading files (main file + FILE.d/*.json drop-ins) is a thin layer on top;
// resolving user/group names to ids lives apart, in identity.h.

#include "common/states.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rpmsgd::config {

/// @brief The file rpmsgd reads when no --config is given.
inline constexpr const char* DefaultConfigFile = "/etc/rpmsgd/rpmsgd.json";

/// @brief `paths`: every root the daemon touches, so tests can point it at the simulator.
struct Paths {
    std::string sysfs = "/sys";
    std::string dev = "/dev";
    std::string debugfs = "/sys/kernel/debug";
    std::string firmware = "/lib/firmware"; ///< the kernel's firmware search directory
    std::string state = "/var/lib/rpmsgd";  ///< saved core files, anything kept across restarts
    bool operator==(const Paths&) const = default;
};

/// @brief `watch.mode`: how changes are noticed.
enum class WatchMode { Udev, Poll };

/// @brief `watch`.
struct Watch {
    WatchMode mode = WatchMode::Udev;
    uint32_t pollIntervalMs = 1000;  ///< rescan period in Poll mode
    uint32_t stateIntervalMs = 1000; ///< how often each processor's `state` is read (both modes)
    uint32_t traceIntervalMs = 1000; ///< how often running processors' traces are read; 0 = off
    bool operator==(const Watch&) const = default;
};

/// @brief `managers`: who may manage processors besides root (names, unresolved).
struct Managers {
    std::vector<std::string> users;
    std::vector<std::string> groups{"rpmsg-admin"};
    bool operator==(const Managers&) const = default;
};

/// @brief One `channels[]` rule: who (besides root and managers) may open matching channels.
/// In a rule given in JSON, absent `users`/`groups` mean nobody.
struct ChannelRule {
    std::string match = "*";     ///< glob on the channel name
    std::string processor = "*"; ///< glob on the processor id or kernel name
    std::vector<std::string> users;
    std::vector<std::string> groups;
    bool operator==(const ChannelRule&) const = default;
};

/// @brief `processors[].recovery`: the kernel's recovery attribute, in its words
/// (common/states.h).
using Recovery = rpmsgd::RecoveryMode;

/// @brief `processors[].coredump`: the kernel's coredump attribute, in its words
/// (common/states.h).
using Coredump = rpmsgd::CoredumpMode;

/// @brief `processors[].restart`: the daemon's crash-loop policy (used when recovery is
/// disabled): restart after a crash unless `maxCrashes` happened within `windowS` seconds.
struct RestartPolicy {
    uint32_t maxCrashes = 5;
    uint32_t windowS = 300;
    bool operator==(const RestartPolicy&) const = default;
};

/// @brief One `processors[]` entry; an empty optional means "not given: leave it as it is".
struct ProcessorPolicy {
    std::string match = "*";             ///< glob on the processor's kernel name or its id
    std::optional<std::string> firmware; ///< relative to paths.firmware
    std::optional<bool> autostart;       ///< absent means false
    std::optional<Recovery> recovery;
    std::optional<Coredump> coredump;
    std::optional<RestartPolicy> restart; ///< absent: the daemon's default RestartPolicy{}
    bool operator==(const ProcessorPolicy&) const = default;
};

/// @brief `limits`: a bound on every resource a caller can make the daemon allocate.
struct Limits {
    uint32_t endpointsPerClient = 32;
    uint32_t endpointsTotal = 1024;
    uint64_t firmwareMaxBytes = 64ull * 1024 * 1024;
    uint32_t coredumpsKept = 5; ///< per processor; 0 keeps none
    uint32_t waitsPerClient = 16;
    uint32_t callsPerClient = 32;          ///< method calls of one client served at once
    uint32_t kernelWriteTimeoutMs = 30000; ///< a lifecycle write that takes longer: Timeout
    bool operator==(const Limits&) const = default;
};

/// @brief `authorization`: who decides what root, `managers` and `channels` do not allow.
enum class Authorization {
    Groups, ///< nobody else (version 1)
    Polkit, ///< polkit; absent polkit: refused
    Auto,   ///< polkit when it is on the bus when a decision is needed, else groups
};

/// @brief The whole configuration; a default-constructed Config is what `{}` means.
struct Config {
    Authorization authorization = Authorization::Auto;
    Paths paths;
    Watch watch;
    Managers managers;
    std::vector<ChannelRule> channels{ChannelRule{"*", "*", {}, {"rpmsg"}}};
    std::vector<ProcessorPolicy> processors;
    Limits limits;
    bool operator==(const Config&) const = default;
};

/// @brief One JSON text and the name its errors are reported under.
struct Source {
    std::string name;
    std::string text;
};

/// @brief Outcome of parsing/loading. `config` is meaningful only when `ok` (it is all
/// defaults otherwise); every error is one line `<file>: <json pointer>: <reason>`, or
/// `<file>: line L, column C: <reason>` for syntax errors.
struct LoadResult {
    bool ok = false;
    Config config;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
    std::vector<std::string> files; ///< the files actually read, in merge order
};

/// @brief Pure parser: validates every source on its own (syntax, duplicate and unknown keys,
/// types, values), merges them in order (objects key by key, arrays and scalars replaced), then
/// checks rules across keys on the result, naming the source that set the offending value.
LoadResult parseConfig(const std::vector<Source>& sources);

/// @brief Reads @p file, then every `*.json` in `FILE.d/` in name order, and parses them with
/// parseConfig(). A missing @p file is an error only when @p mustExist; drop-ins are read
/// either way. Drop-ins are named `FILE.d/NAME.json`, with FILE exactly as given.
LoadResult loadConfig(const std::string& file, bool mustExist);

/// @brief fnmatch(3) with no flags: `*` and `?` also match `/` and a leading `.`; `\` escapes.
bool globMatch(const std::string& glob, const std::string& s);

/// @brief The first channel rule whose `match` fits @p channelName and whose `processor` fits
/// @p processorId or @p processorName; nullptr when none does (only root and managers may open).
const ChannelRule* matchChannelRule(const Config& config, const std::string& channelName,
                                    const std::string& processorId,
                                    const std::string& processorName);

/// @brief The first processor policy whose `match` fits @p processorId or @p processorName
/// (first match wins; later entries are not merged in); nullptr when none does.
const ProcessorPolicy* matchProcessorPolicy(const Config& config, const std::string& processorId,
                                            const std::string& processorName);

/// @brief The JSON spelling of a watch mode ("udev" or "poll"). Recovery and Coredump are
/// spelled by rpmsgd::toString() of common/states.h.
const char* toString(WatchMode mode);

} // namespace rpmsgd::config
