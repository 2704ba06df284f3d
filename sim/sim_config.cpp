// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "sim_config.h"

#include <initializer_list>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

namespace rpmsgsim {

using nlohmann::json;

SimConfig defaultSimConfig() {
    SimConfig c;
    for (const char* name : {"cm4", "dsp"}) {
        ProcessorConfig p;
        p.name = name;
        c.processors.push_back(p);
    }
    return c;
}

namespace {

using rpmsgd::CoredumpMode;
using rpmsgd::ProcessorState;
using rpmsgd::RecoveryMode;

struct Bad {
    std::string message;
};

std::string typeName(const json& v) {
    if (v.is_string()) {
        return "\"" + v.get<std::string>() + "\"";
    }
    return v.dump();
}

void checkKeys(const json& obj, const std::string& path, const std::set<std::string>& allowed) {
    if (!obj.is_object()) {
        throw Bad{path + ": expected an object, got " + typeName(obj)};
    }
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (!allowed.count(it.key())) {
            throw Bad{path + "/" + it.key() + ": unknown key"};
        }
    }
}

std::string getString(const json& v, const std::string& path) {
    if (!v.is_string()) {
        throw Bad{path + ": expected a string, got " + typeName(v)};
    }
    return v.get<std::string>();
}

bool getBool(const json& v, const std::string& path) {
    if (!v.is_boolean()) {
        throw Bad{path + ": expected true or false, got " + typeName(v)};
    }
    return v.get<bool>();
}

uint32_t getUint(const json& v, const std::string& path, uint64_t min, uint64_t max) {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
        throw Bad{path + ": expected a non-negative integer, got " + typeName(v)};
    }
    uint64_t n = v.get<uint64_t>();
    if (n < min || n > max) {
        throw Bad{path + ": " + std::to_string(n) + " is out of range " + std::to_string(min) +
                  ".." + std::to_string(max)};
    }
    return uint32_t(n);
}

std::string oneOf(const json& v, const std::string& path, const std::vector<std::string>& words) {
    std::string s = getString(v, path);
    for (const auto& w : words) {
        if (s == w) {
            return s;
        }
    }
    std::string list;
    for (const auto& w : words) {
        list += (list.empty() ? "" : ", ") + w;
    }
    throw Bad{path + ": expected one of " + list + ", got \"" + s + "\""};
}

// One of the kernel's words for a state or mode (common/states.h), limited to @p allowed.
template <typename Enum>
Enum wordOf(const json& v, const std::string& path, std::initializer_list<Enum> allowed) {
    std::vector<std::string> words;
    for (Enum e : allowed) {
        words.emplace_back(rpmsgd::toString(e));
    }
    const std::string s = oneOf(v, path, words);
    for (Enum e : allowed) {
        if (rpmsgd::toString(e) == s) {
            return e;
        }
    }
    throw Bad{path + ": no word " + s}; // oneOf() has refused it already
}

bool validName(const std::string& name) {
    if (name.empty() || name.size() > 64) {
        return false;
    }
    for (char c : name) {
        if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

} // namespace

bool parseSimConfig(const std::string& text, SimConfig& out, std::string& error) {
    try {
        json doc;
        try {
            doc = json::parse(text);
        } catch (const json::parse_error& e) {
            throw Bad{std::string("not valid JSON: ") + e.what()};
        }
        checkKeys(doc, "", {"kernel", "processors", "tx_timeout_ms", "devcoredump_timeout_s"});
        SimConfig c;
        if (doc.contains("kernel")) {
            c.kernel = oneOf(doc["kernel"], "/kernel", {"6.12", "6.6", "6.1", "5.15"});
        }
        if (doc.contains("tx_timeout_ms")) {
            c.txTimeoutMs = getUint(doc["tx_timeout_ms"], "/tx_timeout_ms", 1, 3600000);
        }
        if (doc.contains("devcoredump_timeout_s")) {
            c.devcoredumpTimeoutS =
                getUint(doc["devcoredump_timeout_s"], "/devcoredump_timeout_s", 1, 86400);
        }
        if (doc.contains("processors")) {
            const json& procs = doc["processors"];
            if (!procs.is_array()) {
                throw Bad{"/processors: expected an array, got " + typeName(procs)};
            }
            if (procs.size() > 64) {
                throw Bad{"/processors: at most 64 processors"};
            }
            std::set<std::string> names;
            for (size_t i = 0; i < procs.size(); ++i) {
                std::string path = "/processors/" + std::to_string(i);
                const json& p = procs[i];
                checkKeys(p, path,
                          {"name", "firmware", "recovery", "coredump", "auto_boot", "initial_state",
                           "sysfs_read_only", "remoteproc"});
                ProcessorConfig pc;
                if (!p.contains("name")) {
                    throw Bad{path + "/name: missing"};
                }
                pc.name = getString(p["name"], path + "/name");
                if (!validName(pc.name)) {
                    throw Bad{path + "/name: \"" + pc.name +
                              "\" is not a valid name (1-64 of A-Z a-z 0-9 - _ .)"};
                }
                if (!names.insert(pc.name).second) {
                    throw Bad{path + "/name: duplicate processor name \"" + pc.name + "\""};
                }
                if (p.contains("firmware")) {
                    pc.firmware = getString(p["firmware"], path + "/firmware");
                    if (pc.firmware.empty() || pc.firmware.find('\n') != std::string::npos) {
                        throw Bad{path + "/firmware: must be a non-empty single-line name"};
                    }
                }
                if (p.contains("recovery")) {
                    pc.recovery = wordOf(p["recovery"], path + "/recovery",
                                         {RecoveryMode::Enabled, RecoveryMode::Disabled}) ==
                                  RecoveryMode::Enabled;
                }
                if (p.contains("coredump")) {
                    pc.coredump = wordOf(
                        p["coredump"], path + "/coredump",
                        {CoredumpMode::Disabled, CoredumpMode::Enabled, CoredumpMode::Inline});
                }
                if (p.contains("auto_boot")) {
                    pc.autoBoot = getBool(p["auto_boot"], path + "/auto_boot");
                }
                if (p.contains("initial_state")) {
                    pc.detached = wordOf(p["initial_state"], path + "/initial_state",
                                         {ProcessorState::Offline, ProcessorState::Detached}) ==
                                  ProcessorState::Detached;
                }
                if (p.contains("sysfs_read_only")) {
                    pc.sysfsReadOnly = getBool(p["sysfs_read_only"], path + "/sysfs_read_only");
                }
                if (p.contains("remoteproc")) {
                    pc.remoteproc = getBool(p["remoteproc"], path + "/remoteproc");
                    if (!pc.remoteproc && (p.contains("initial_state") || p.contains("auto_boot") ||
                                           p.contains("recovery") || p.contains("coredump") ||
                                           p.contains("sysfs_read_only"))) {
                        throw Bad{path +
                                  ": a transport without a remoteproc (\"remoteproc\": false) has "
                                  "no initial_state, auto_boot, recovery, coredump or "
                                  "sysfs_read_only"};
                    }
                }
                c.processors.push_back(pc);
            }
        } else {
            c.processors = defaultSimConfig().processors;
        }
        out = c;
        return true;
    } catch (const Bad& b) {
        error = b.message;
        return false;
    }
}

} // namespace rpmsgsim
