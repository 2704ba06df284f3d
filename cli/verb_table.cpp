// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl's one verb table (verb.h) and the look-ups into it. A verb still to come, such as
// `update PROC FILE`, is one more entry here: give its arguments ValueKinds (FirmwareImage for a
// name in the firmware directory, LocalFile for an upload) and completion offers them.

#include "verbs.h"

namespace rpmsgctl {

namespace {

const OptionSpec processorOption{"processor", 'p', "PROC",
                                 "only on this processor (id such as remoteproc0, or kernel name)",
                                 ValueKind::Processor};
const OptionSpec quietOption{"quiet", 'q', "", "print only the names, one per line"};
const OptionSpec hexOption{"hex", 0, "", "messages as hex bytes (\"68 69\") instead of text"};

OptionSpec timeoutOption(const std::string& what) {
    return {"timeout", 't', "MS", what};
}

using K = ValueKind;

std::vector<Verb> buildTable() {
    return {
        {"status",
         Group::Processors,
         "[PROC]",
         "rpmsgd's version and every processor, or one processor in detail",
         "Without PROC: the daemon's version and a table of processors. With PROC (an id such "
         "as remoteproc0 or a kernel name): its properties and channels.",
         {},
         {K::Processor},
         0,
         true,
         runStatus},
        {"list",
         Group::Processors,
         "",
         "processors: id, name, state, firmware, crashes, channels",
         "One row per remote processor.",
         {quietOption},
         {},
         0,
         true,
         runList},
        {"channels",
         Group::Channels,
         "[PROC]",
         "published channels, of every processor or of PROC",
         "One row per channel: name, processor, remote address, mtu, open endpoints, rpmsg "
         "device.",
         {quietOption},
         {K::Processor},
         0,
         true,
         runChannels},
        {"start",
         Group::Processors,
         "PROC",
         "boot a processor (success if it already runs)",
         "Boots PROC with its current firmware and returns once it runs. Needs a manager.",
         {},
         {K::Processor},
         1,
         false,
         runStart},
        {"stop",
         Group::Processors,
         "PROC",
         "shut a processor down (success if it is offline)",
         "Shuts PROC down; its channels and their endpoints go away. Needs a manager.",
         {},
         {K::Processor},
         1,
         false,
         runStop},
        {"restart",
         Group::Processors,
         "PROC",
         "stop, then start a processor",
         "Needs a manager.",
         {},
         {K::Processor},
         1,
         false,
         runRestart},
        {"firmware",
         Group::Processors,
         "PROC [NAME]",
         "show, or select, the firmware a processor boots",
         "Without NAME: print the current firmware. With NAME (a file in rpmsgd's firmware "
         "directory): select it for the next start; the processor must be offline. Needs a "
         "manager to set.",
         {},
         {K::Processor, K::FirmwareImage},
         1,
         true,
         runFirmware},
        {"load",
         Group::Processors,
         "PROC FILE",
         "upload a firmware file and select it",
         "Sends FILE to rpmsgd, which validates it, stores it in its firmware directory and "
         "selects it (the processor must be offline). Prints the firmware name now set. Needs "
         "a manager.",
         {{"name", 0, "NAME", "store it under NAME (default: FILE's base name)"}},
         {K::Processor, K::LocalFile},
         2,
         true,
         runLoad},
        {"recovery",
         Group::Processors,
         "PROC on|off",
         "kernel crash recovery on or off",
         "Needs a manager.",
         {},
         {K::Processor, K::RecoveryWord},
         2,
         false,
         runRecovery},
        {"coredump",
         Group::Processors,
         "PROC MODE",
         "coredump mode: disabled, enabled or inline",
         "Needs a manager.",
         {},
         {K::Processor, K::CoredumpWord},
         2,
         false,
         runCoredump},
        {"recover",
         Group::Processors,
         "PROC",
         "recover a crashed processor",
         "Asks the kernel to recover PROC, which must be crashed. Needs a manager.",
         {},
         {K::Processor},
         1,
         false,
         runRecover},
        {"trace",
         Group::Processors,
         "PROC [INDEX]",
         "print a processor's trace buffer (default 0)",
         "Prints the current content of the remote's trace buffer INDEX. Needs a manager.",
         {},
         {K::Processor, K::None},
         1,
         true,
         runTrace},
        {"logs",
         Group::Processors,
         "PROC",
         "print a processor's remote log (trace buffer), then follow it (-f)",
         "Prints trace buffer 0 (or --trace INDEX) of PROC, the last N lines with -n. With -f, "
         "then prints the lines rpmsgd reports as the remote writes them (API 1.1, "
         "watch.trace_interval_ms), a gap as \"-- N bytes of trace lost --\", until the "
         "processor stops or Ctrl-C. Reading the buffer needs a manager.",
         {{"follow", 'f', "", "keep printing new lines until the processor stops"},
          {"lines", 'n', "N", "print only the last N lines of the buffer"},
          {"trace", 0, "INDEX", "the trace buffer (0)"}},
         {K::Processor},
         1,
         true,
         runLogs},
        {"open",
         Group::Channels,
         "CHANNEL",
         "bridge stdin/stdout to a channel",
         "Opens an endpoint of your own on CHANNEL (waiting for it up to --timeout). Each "
         "line of stdin is sent as one message (without its newline); each message received "
         "is printed as one line. After stdin ends, keeps printing until the channel is quiet "
         "for --linger ms (with -n: until N messages arrived). Ctrl-C ends it. On a tty "
         "channel (Kind tty) it streams bytes instead: stdin goes to the tty as it comes, "
         "what the tty gives goes to stdout; it ends when the tty hangs up.",
         {processorOption,
          hexOption,
          timeoutOption("wait up to MS for the channel (5000)"),
          {"count", 'n', "N", "exit after receiving N messages"},
          {"linger", 0, "MS", "after stdin ends, wait until MS without messages (500)"}},
         {K::Channel},
         1,
         true,
         runOpen},
        {"console",
         Group::Channels,
         "CHANNEL",
         "an interactive terminal on a tty channel",
         "Opens the tty of CHANNEL (a channel of Kind tty, which the kernel's rpmsg_tty made "
         "of an rpmsg-tty service; waiting for it up to --timeout) and connects your terminal "
         "to it: raw mode while it runs, restored on every exit; Ctrl-] quits. One holder at "
         "a time: while someone else holds the tty it fails with InvalidState. With stdin not "
         "a terminal, its bytes go to the tty and, after it ends, the tty's output is printed "
         "until quiet for --linger ms. --json does not apply.",
         {processorOption,
          timeoutOption("wait up to MS for the channel (5000)"),
          {"linger", 0, "MS", "after stdin ends, wait until MS without output (500)"}},
         {K::Channel},
         1,
         false,
         runConsole},
        {"send",
         Group::Channels,
         "CHANNEL DATA",
         "send one message",
         "Opens an endpoint on CHANNEL, sends DATA as one message, and closes it. With "
         "--reply, waits for one message back and prints it.",
         {processorOption,
          hexOption,
          timeoutOption("wait up to MS for the channel and the reply (5000)"),
          {"reply", 'r', "", "wait for one reply and print it"}},
         {K::Channel, K::None},
         2,
         true,
         runSend},
        {"recv",
         Group::Channels,
         "CHANNEL",
         "receive and print messages",
         "Opens an endpoint on CHANNEL and prints N messages (default 1), one per line. A "
         "remote learns your endpoint's address only from a message you send: services that "
         "answer or stream to their last sender need --send first.",
         {processorOption,
          hexOption,
          {"count", 'n', "N", "receive N messages (1)"},
          {"send", 's', "DATA", "send DATA first (as text, or hex with --hex)"},
          timeoutOption("give up after MS (default: wait for the channel 5000 ms, then for "
                        "messages forever)")},
         {K::Channel},
         1,
         true,
         runRecv},
        {"ping",
         Group::Channels,
         "CHANNEL",
         "round trips to an echo service: min/avg/p99/max",
         "Sends COUNT probes of SIZE bytes to an echo channel, one at a time, and reports each "
         "round trip and the statistics. Exit status 9 when replies were lost.",
         {processorOption,
          {"count", 'c', "N", "number of probes (10)"},
          {"size", 's', "SIZE", "payload size in bytes, at most the mtu (16)"},
          {"interval", 'i', "MS", "pause between probes (0)"},
          timeoutOption("wait up to MS for each reply (1000)"),
          {"quiet", 'q', "", "only the statistics"}},
         {K::Channel},
         1,
         true,
         runPing},
        {"wait",
         Group::Channels,
         "CHANNEL",
         "wait until a channel exists",
         "Returns as soon as CHANNEL is published (at once if it is), or fails with exit "
         "status 9 after --timeout.",
         {processorOption, timeoutOption("give up after MS (30000)")},
         {K::Channel},
         1,
         true,
         runWait},
        {"monitor",
         Group::Events,
         "",
         "print rpmsgd's events as they happen",
         "Prints processor state changes, crashes, channels and endpoints coming and going, "
         "and rpmsgd starting and stopping, one per line, until Ctrl-C. The first line says "
         "that monitoring has begun.",
         {{"count", 'n', "N", "exit after N events"}},
         {},
         0,
         true,
         runMonitor},
    };
}

// The option @p word names among @p specs: "-x", "--long" or "--long=value".
const OptionSpec* optionIn(const std::vector<OptionSpec>& specs, const std::string& word) {
    const bool isLong = word.rfind("--", 0) == 0;
    const std::string name = isLong ? word.substr(2, word.find('=') - 2) : std::string();
    for (const auto& o : specs) {
        if (isLong ? o.longName == name
                   : (o.shortName != 0 && word.size() >= 2 && word[0] == '-' &&
                      word[1] == o.shortName)) {
            return &o;
        }
    }
    return nullptr;
}

} // namespace

std::string_view groupName(Group group) {
    switch (group) {
    case Group::Processors:
        return "processor";
    case Group::Channels:
        return "channel";
    case Group::Events:
        return "event";
    }
    return "other";
}

const std::vector<Verb>& verbTable() {
    static const std::vector<Verb> table = buildTable();
    return table;
}

const std::vector<OptionSpec>& globalOptions() {
    static const std::vector<OptionSpec> options = {
        {"address", 0, "ADDR", "D-Bus address of the bus rpmsgd is on (default: the system bus)",
         ValueKind::Address},
        {"json", 0, "", "machine-readable output (JSON; one object per line for streams)"},
        {"no-color", 0, "",
         "no colour (also off when stdout is not a terminal or NO_COLOR is set)"},
        {"help", 'h', "", "show help"},
        {"version", 0, "", "show rpmsgctl's version"},
    };
    return options;
}

const Verb* findVerb(std::string_view name) {
    for (const auto& v : verbTable()) {
        if (v.name == name) {
            return &v;
        }
    }
    return nullptr;
}

const OptionSpec* findOption(const std::string& word, const Verb* verb) {
    if (const auto* o = optionIn(globalOptions(), word)) {
        return o;
    }
    for (const auto& v : verbTable()) {
        if (verb == nullptr || verb == &v) {
            if (const auto* o = optionIn(v.options, word)) {
                return o;
            }
        }
    }
    return nullptr;
}

std::optional<std::size_t> verbPosition(const std::vector<std::string>& argv) {
    // Only the separate forms ("--timeout 5", "-t 5") take the next argument as their value.
    auto takesValue = [](const std::string& a) {
        auto matches = [&](const OptionSpec& o) {
            return !o.valueName.empty() &&
                   (a == "--" + o.longName ||
                    (o.shortName != 0 && a.size() == 2 && a[0] == '-' && a[1] == o.shortName));
        };
        for (const auto& o : globalOptions()) {
            if (matches(o)) {
                return true;
            }
        }
        for (const auto& v : verbTable()) {
            for (const auto& o : v.options) {
                if (matches(o)) {
                    return true;
                }
            }
        }
        return false;
    };
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--") {
            break;
        }
        if (takesValue(a)) {
            ++i;
            continue;
        }
        if (a.size() > 1 && a[0] == '-') {
            continue;
        }
        return i;
    }
    return std::nullopt;
}

} // namespace rpmsgctl
