// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Shell completion's answers (complete.h): the command line read as dispatch reads it, then
// candidates from the verb table, from rpmsgd, from the firmware directory and from the state
// tables.

#include "complete.h"

#include "common/states.h"
#include "config/config.h"
#include "exit_codes.h"
#include "verbs.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace rpmsgctl {

namespace {

namespace rc = rpmsgd::client;
namespace fs = std::filesystem;

// The command line before the word being completed, as dispatch would take it.
struct Line {
    std::string verbName; ///< the first word that is neither an option nor an option's value
    const Verb* verb = nullptr;
    std::vector<std::string> positional; ///< after the verb
    const OptionSpec* pending = nullptr; ///< the last word is an option waiting for its value
    bool optionsEnded = false;           ///< "--" was given
    std::string address;                 ///< --address, to ask the same rpmsgd
    std::string processor;               ///< -p, to offer only that processor's channels
};

void remember(Line& line, const OptionSpec& o, const std::string& value) {
    if (o.value == ValueKind::Address) {
        line.address = value;
    } else if (o.value == ValueKind::Processor) {
        line.processor = value;
    }
}

Line readLine(const std::vector<std::string>& before) {
    Line line;
    for (const std::string& w : before) {
        if (line.pending != nullptr) {
            remember(line, *line.pending, w);
            line.pending = nullptr;
        } else if (!line.optionsEnded && w == "--") {
            line.optionsEnded = true;
        } else if (!line.optionsEnded && w.size() > 1 && w[0] == '-') {
            const OptionSpec* o = findOption(w, line.verb);
            if (o == nullptr || o->valueName.empty()) {
                continue;
            }
            if (const auto eq = w.find('='); w[1] == '-' && eq != std::string::npos) {
                remember(line, *o, w.substr(eq + 1));
            } else if (w[1] != '-' && w.size() > 2) {
                remember(line, *o, w.substr(2)); // -pcm4
            } else {
                line.pending = o;
            }
        } else if (line.verbName.empty()) {
            line.verbName = w;
            line.verb = findVerb(w);
        } else {
            line.positional.push_back(w);
        }
    }
    return line;
}

// Collects the candidates that start with the typed text, each written after @p lead (the
// "--opt=" of an inline value).
class Offer {
public:
    Offer(std::string typed, std::string lead) : typed_(std::move(typed)), lead_(std::move(lead)) {}

    void add(const std::string& value, const std::string& description, const std::string& tag) {
        if (value.rfind(typed_, 0) == 0 && seen_.insert(value).second) {
            result.candidates.push_back({lead_ + value, description, tag});
        }
    }
    const std::string& typed() const { return typed_; }

    Completion result;

private:
    std::string typed_;
    std::string lead_;
    std::set<std::string> seen_;
};

rc::Client connect(const Line& line) {
    rc::ConnectOptions o;
    o.address = line.address;
    o.callTimeout = std::chrono::seconds(3); // a hung rpmsgd must not hang the shell for long
    return rc::Client(o);
}

void offerProcessors(Offer& offer, const Line& line) {
    auto client = connect(line);
    const auto procs = client.processors();
    for (const auto& p : procs) {
        offer.add(p.id, p.name + ", " + p.state, "processors");
    }
    for (const auto& p : procs) {
        offer.add(p.name, p.id + ", " + p.state, "processors");
    }
}

void offerChannels(Offer& offer, const Line& line) {
    auto client = connect(line);
    std::map<std::string, std::vector<std::string>> on; // a name may be on several processors
    std::vector<std::string> order;
    for (const auto& c : client.channels(line.processor)) {
        if (on[c.name].empty()) {
            order.push_back(c.name);
        }
        on[c.name].push_back(c.processor);
    }
    for (const auto& name : order) {
        offer.add(name, "on " + joined(on[name], ", "), "channels");
    }
}

bool isElf(const fs::path& file) {
    char magic[4] = {};
    std::ifstream in(file, std::ios::binary);
    return in.read(magic, sizeof magic) && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
           magic[3] == 'F';
}

// Names relative to the firmware directory, as rpmsgd takes them: the directories on the way
// (unfinished, "rpmsgd/") and the ELF images in them, one level at a time like a path.
void offerFirmware(Offer& offer) {
    const std::string& typed = offer.typed();
    const auto slash = typed.rfind('/');
    const std::string sub = slash == std::string::npos ? std::string() : typed.substr(0, slash + 1);
    const fs::path rel(sub);
    if (rel.is_absolute() || std::find(rel.begin(), rel.end(), "..") != rel.end()) {
        return; // rpmsgd refuses these names
    }
    const bool hidden = typed.size() > sub.size() && typed[sub.size()] == '.';
    std::vector<std::pair<std::string, bool>> entries; // name, is a directory
    std::error_code ec;
    for (fs::directory_iterator it(fs::path(firmwareDirectory()) / rel, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name[0] == '.' && !hidden) {
            continue;
        }
        std::error_code statError;
        if (it->is_directory(statError)) { // follows symbolic links, as the kernel does
            entries.emplace_back(name, true);
        } else if (it->is_regular_file(statError) && isElf(it->path())) {
            entries.emplace_back(name, false);
        }
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& [name, directory] : entries) {
        offer.add(sub + name + (directory ? "/" : ""), directory ? "directory" : "ELF image",
                  "firmware-images");
    }
}

void offerVerbs(Offer& offer) {
    for (const auto& v : verbTable()) {
        offer.add(v.name, v.summary, std::string(groupName(v.group)) + "-verbs");
    }
    offer.add(std::string(HelpVerb), "help on rpmsgctl or on a verb", "help");
}

// What the recovery and coredump words do, from the comments of common/states.h.
void offerRecoveryWords(Offer& offer) {
    for (const auto& w : recoveryWordsOffered()) {
        const bool on = recoveryFromWord(w).value_or(false);
        offer.add(
            w, on ? "the kernel restarts a crashed processor" : "a crashed processor stays crashed",
            "recovery-modes");
    }
}

constexpr std::array<std::pair<rpmsgd::CoredumpMode, const char*>, 3> coredumpMeanings = {{
    {rpmsgd::CoredumpMode::Disabled, "no dump"},
    {rpmsgd::CoredumpMode::Enabled, "a copy through devcoredump; recovery goes on"},
    {rpmsgd::CoredumpMode::Inline, "devcoredump reads the memory in place; recovery waits"},
}};
static_assert(coredumpMeanings.size() == rpmsgd::detail::coredumpWords.size(),
              "every coredump mode of common/states.h needs its meaning here");

void offerCoredumpWords(Offer& offer) {
    for (const auto& [mode, meaning] : coredumpMeanings) {
        offer.add(std::string(rpmsgd::toString(mode)), meaning, "coredump-modes");
    }
}

void offerValue(Offer& offer, ValueKind kind, const Line& line) {
    switch (kind) {
    case ValueKind::None:
        return;
    case ValueKind::Processor:
        return offerProcessors(offer, line);
    case ValueKind::Channel:
        return offerChannels(offer, line);
    case ValueKind::FirmwareImage:
        return offerFirmware(offer);
    case ValueKind::LocalFile:
        offer.result.files = true;
        return;
    case ValueKind::RecoveryWord:
        return offerRecoveryWords(offer);
    case ValueKind::CoredumpWord:
        return offerCoredumpWords(offer);
    case ValueKind::Verb:
        return offerVerbs(offer);
    case ValueKind::Address:
        offer.add("unix:path=", "a socket, e.g. unix:path=/run/dbus/system_bus_socket",
                  "addresses");
        return;
    }
}

void offerOptions(Offer& offer, const Verb* verb) {
    auto add = [&](const OptionSpec& o) {
        offer.add("--" + o.longName, o.help, "options");
        if (o.shortName != 0) {
            offer.add(std::string("-") + o.shortName, o.help, "options");
        }
    };
    if (verb != nullptr) {
        for (const auto& o : verb->options) {
            add(o);
        }
    }
    for (const auto& o : globalOptions()) {
        if (o.longName != "json" || verb == nullptr || verb->json) {
            add(o);
        }
    }
}

Completion completeOrThrow(const std::vector<std::string>& words) {
    const std::string cur = words.empty() ? std::string() : words.back();
    const Line line =
        readLine(words.empty() ? words : std::vector<std::string>(words.begin(), words.end() - 1));
    if (line.pending != nullptr) {
        Offer offer(cur, "");
        offerValue(offer, line.pending->value, line);
        return offer.result;
    }
    if (!line.optionsEnded && cur.size() > 0 && cur[0] == '-') {
        const auto eq = cur.find('=');
        if (cur.rfind("--", 0) == 0 && eq != std::string::npos) {
            Offer offer(cur.substr(eq + 1), cur.substr(0, eq + 1));
            if (const OptionSpec* o = findOption(cur, line.verb); o && !o->valueName.empty()) {
                offerValue(offer, o->value, line);
            }
            return offer.result;
        }
        Offer offer(cur, "");
        offerOptions(offer, line.verb);
        return offer.result;
    }
    Offer offer(cur, "");
    if (line.verbName.empty()) {
        offerVerbs(offer);
    } else if (line.verbName == HelpVerb) {
        offerValue(offer, line.positional.empty() ? ValueKind::Verb : ValueKind::None, line);
    } else if (line.verb != nullptr && line.positional.size() < line.verb->args.size()) {
        offerValue(offer, line.verb->args[line.positional.size()], line);
    }
    return offer.result;
}

} // namespace

std::string firmwareDirectory() {
    const char* env = std::getenv("RPMSGD_CONFIG");
    const std::string file = env != nullptr && *env != '\0' ? env : RPMSGCTL_CONFIG_FILE;
    const auto loaded = rpmsgd::config::loadConfig(file, false);
    return loaded.ok ? loaded.config.paths.firmware : rpmsgd::config::Config{}.paths.firmware;
}

Completion complete(const std::vector<std::string>& words) {
    try {
        return completeOrThrow(words);
    } catch (const std::exception&) {
        return {}; // rpmsgd away, a bus error: nothing to offer, and nothing to say on a prompt
    }
}

int runComplete(const std::vector<std::string>& words) {
    const Completion c = complete(words);
    if (c.files) {
        outLine("files");
        return ExitOk;
    }
    outLine("words");
    for (const auto& cand : c.candidates) {
        outLine(cand.value + "\t" + cand.description + "\t" + cand.tag);
    }
    return ExitOk;
}

} // namespace rpmsgctl
