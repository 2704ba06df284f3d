// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl's processor verbs: status, list, start, stop, restart, firmware, load, recovery,
// coredump, recover and trace.

#include "common/states.h"
#include "exit_codes.h"
#include "verbs.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <utility>

namespace rpmsgctl {

namespace {

namespace rc = rpmsgd::client;
using json = nlohmann::json;

// The processor as JSON with its API 1.1 counters.
json withCounters(Context& ctx, const rc::ProcessorInfo& p) {
    json j = toJson(p);
    const auto counters = ctx.c().processorCounters(p.id);
    j["start_count"] = counters.startCount;
    j["running_since_us"] = counters.runningSince;
    return j;
}

// "2026-12-07 22:35:37" in local time, "-" for 0.
std::string localTime(uint64_t micros) {
    if (micros == 0) {
        return "-";
    }
    const time_t t = static_cast<time_t>(micros / 1000000);
    tm local{};
    char buf[32];
    if (!localtime_r(&t, &local) || !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local)) {
        return std::to_string(micros) + " us";
    }
    return buf;
}

void printProcessorTable(Context& ctx, const std::vector<rc::ProcessorInfo>& procs) {
    Table t({"ID", "NAME", "STATE", "FIRMWARE", "CRASHES", "STARTS", "CHANNELS"});
    for (const auto& p : procs) {
        std::vector<std::string> cells = {
            p.id,
            p.name,
            p.state,
            orDash(p.firmware),
            std::to_string(p.crashCount),
            std::to_string(ctx.c().processorCounters(p.id).startCount),
            orDash(joined(p.channels))};
        std::vector<std::string> styled = cells;
        styled[2] = ctx.style.state(p.state);
        if (p.crashCount > 0) {
            styled[4] = ctx.style.red(cells[4]);
        }
        t.add(cells, styled);
    }
    t.print(ctx.style);
}

bool isUp(const rc::ProcessorInfo& p) {
    const auto state = rpmsgd::processorStateFromString(p.state);
    return state && rpmsgd::isUp(*state);
}

int printSummary(Context& ctx) {
    const std::string version = ctx.c().daemonVersion();
    const std::string api = ctx.c().apiVersion();
    const auto procs = ctx.c().processors();
    const auto chans = ctx.c().channels();
    if (ctx.json) {
        json j = {{"daemon_version", version},
                  {"api_version", api},
                  {"processors", json::array()},
                  {"channels", json::array()}};
        for (const auto& p : procs) {
            j["processors"].push_back(withCounters(ctx, p));
        }
        for (const auto& c : chans) {
            j["channels"].push_back(toJson(c));
        }
        printJson(j);
        return ExitOk;
    }
    const auto up =
        std::count_if(procs.begin(), procs.end(), [](const auto& p) { return isUp(p); });
    outLine(ctx.style.bold("rpmsgd " + version) + ": " + std::to_string(procs.size()) +
            " processors (" + std::to_string(up) + " running), " + std::to_string(chans.size()) +
            " channels, API " + api);
    if (!procs.empty()) {
        out("\n");
        printProcessorTable(ctx, procs);
    }
    return ExitOk;
}

// The synonyms `recovery` takes for on and off besides the kernel's enabled/disabled.
constexpr std::array<std::pair<std::string_view, bool>, 8> switchWords = {{
    {"on", true},
    {"off", false},
    {"yes", true},
    {"no", false},
    {"true", true},
    {"false", false},
    {"1", true},
    {"0", false},
}};

} // namespace

int runList(Context& ctx, const Args& a) {
    const auto procs = ctx.c().processors();
    if (ctx.json) {
        json j = json::array();
        for (const auto& p : procs) {
            j.push_back(withCounters(ctx, p));
        }
        printJson(j);
    } else if (a.has("quiet")) {
        for (const auto& p : procs) {
            outLine(p.id);
        }
    } else {
        printProcessorTable(ctx, procs);
    }
    return ExitOk;
}

int runStatus(Context& ctx, const Args& a) {
    if (a.positional().empty()) {
        return printSummary(ctx);
    }
    const auto p = ctx.c().processor(a.positional()[0]);
    const auto chans = ctx.c().channels(p.id);
    if (ctx.json) {
        json j = withCounters(ctx, p);
        j["channel_details"] = json::array();
        for (const auto& c : chans) {
            json cj = toJson(c);
            cj["open_count"] = ctx.c().channelOpenCount(c.name, p.id);
            j["channel_details"].push_back(cj);
        }
        printJson(j);
        return ExitOk;
    }
    auto row = [&](const std::string& k, const std::string& v) {
        std::string key = k.empty() ? std::string() : k + ":";
        outLine(std::string(key.size() < 14 ? 14 - key.size() : 0, ' ') + key + " " + v);
    };
    outLine(ctx.style.bold(p.id) + " (" + p.name + ")");
    row("State", ctx.style.state(p.state));
    row("Firmware", orDash(p.firmware));
    row("Recovery", p.recovery);
    row("Coredump", p.coredump);
    row("Crashes", p.crashCount > 0 ? ctx.style.red(std::to_string(p.crashCount)) : "0");
    const auto counters = ctx.c().processorCounters(p.id);
    row("Starts", std::to_string(counters.startCount));
    row("Up since", localTime(counters.runningSince));
    row("Last error", p.lastError.empty() ? "-" : ctx.style.red(p.lastError));
    row("Last core", orDash(p.lastCoredump));
    if (chans.empty()) {
        row("Channels", "-");
    }
    for (size_t i = 0; i < chans.size(); ++i) {
        const auto& c = chans[i];
        row(i == 0 ? "Channels" : "",
            c.name + " (address " + std::to_string(c.remoteAddress) + ", mtu " +
                std::to_string(c.mtu) + ", " + std::to_string(c.endpoints) + " endpoints, " +
                std::to_string(ctx.c().channelOpenCount(c.name, p.id)) + " opens)");
    }
    row("Object", ctx.style.dim(p.path));
    return ExitOk;
}

int runStart(Context& ctx, const Args& a) {
    ctx.c().start(a.positional()[0]);
    return ExitOk;
}

int runStop(Context& ctx, const Args& a) {
    ctx.c().stop(a.positional()[0]);
    return ExitOk;
}

int runRestart(Context& ctx, const Args& a) {
    ctx.c().restart(a.positional()[0]);
    return ExitOk;
}

int runRecover(Context& ctx, const Args& a) {
    ctx.c().recover(a.positional()[0]);
    return ExitOk;
}

int runFirmware(Context& ctx, const Args& a) {
    const std::string& proc = a.positional()[0];
    if (a.positional().size() == 2) {
        ctx.c().setFirmware(proc, a.positional()[1]);
        return ExitOk;
    }
    const auto p = ctx.c().processor(proc);
    if (ctx.json) {
        printJson({{"processor", p.id}, {"firmware", p.firmware}});
    } else {
        outLine(p.firmware);
    }
    return ExitOk;
}

int runLoad(Context& ctx, const Args& a) {
    const auto& pos = a.positional();
    const std::string set = ctx.c().loadFirmware(pos[0], pos[1], a.value("name"));
    if (ctx.json) {
        printJson({{"processor", pos[0]}, {"firmware", set}});
    } else {
        outLine(set);
    }
    return ExitOk;
}

std::optional<bool> recoveryFromWord(std::string_view word) {
    if (const auto mode = rpmsgd::recoveryModeFromString(word)) {
        return *mode == rpmsgd::RecoveryMode::Enabled;
    }
    for (const auto& [w, enabled] : switchWords) {
        if (w == word) {
            return enabled;
        }
    }
    return std::nullopt;
}

std::vector<std::string> recoveryWordsOffered() {
    return {std::string(switchWords[0].first), std::string(switchWords[1].first),
            std::string(rpmsgd::toString(rpmsgd::RecoveryMode::Enabled)),
            std::string(rpmsgd::toString(rpmsgd::RecoveryMode::Disabled))};
}

int runRecovery(Context& ctx, const Args& a) {
    const std::string& v = a.positional()[1];
    const auto enabled = recoveryFromWord(v);
    if (!enabled) {
        throw UsageError("recovery expects on or off, not '" + v + "'");
    }
    ctx.c().setRecovery(a.positional()[0], *enabled);
    return ExitOk;
}

int runCoredump(Context& ctx, const Args& a) {
    // Passed on as given: rpmsgd checks the mode (an unknown one is InvalidArgument).
    ctx.c().setCoredump(a.positional()[0], a.positional()[1]);
    return ExitOk;
}

int runTrace(Context& ctx, const Args& a) {
    uint32_t index = 0;
    if (a.positional().size() == 2) {
        auto n = parseNumber(a.positional()[1]);
        if (!n || *n > 0xffffffffULL) {
            throw UsageError("trace buffer index must be a number, not '" + a.positional()[1] +
                             "'");
        }
        index = static_cast<uint32_t>(*n);
    }
    const std::string text = ctx.c().trace(a.positional()[0], index);
    if (ctx.json) {
        printJson({{"processor", a.positional()[0]}, {"index", index}, {"trace", text}});
    } else {
        out(text);
        if (!text.empty() && text.back() != '\n') {
            out("\n");
        }
    }
    return ExitOk;
}

} // namespace rpmsgctl
