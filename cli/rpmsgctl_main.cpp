// rpmsgctl: control rpmsgd and talk to remote processors from a shell. Built only on
// librpmsgd-client. Every verb has --help; lists and reports have --json; errors print one line
// on stderr and exit with a code per error class (exit_codes.h).

#include "args.h"
#include "exit_codes.h"
#include "output.h"
#include "project_version.h"
#include "rpmsgd/client.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <poll.h>
#include <unistd.h>

namespace rpmsgctl {
namespace {

namespace rc = rpmsgd::client;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

volatile std::sig_atomic_t stopRequested = 0;

void onStopSignal(int) {
    stopRequested = 1;
}

// SIGINT/SIGTERM end the long-running verbs cleanly (endpoint closed, statistics printed):
// without SA_RESTART, poll() returns EINTR and the loops look at stopRequested.
void catchStopSignals() {
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

struct Context {
    rc::ConnectOptions connect;
    bool json = false;
    Style style;
    std::unique_ptr<rc::Client> client;

    rc::Client& c() {
        if (!client) {
            client = std::make_unique<rc::Client>(connect);
        }
        return *client;
    }
};

struct Verb {
    std::string name;
    std::string args;    ///< usage after the verb name
    std::string summary; ///< one line for the verb list
    std::string details; ///< paragraph for VERB --help
    std::vector<OptionSpec> options;
    size_t minArgs;
    size_t maxArgs;
    std::function<int(Context&, const Args&)> run;
};

const std::vector<OptionSpec> globalOptions = {
    {"address", 0, "ADDR", "D-Bus address of the bus rpmsgd is on (default: the system bus)"},
    {"json", 0, "", "machine-readable output (JSON; one object per line for streams)"},
    {"no-color", 0, "", "no colour (also off when stdout is not a terminal or NO_COLOR is set)"},
    {"help", 'h', "", "show help"},
    {"version", 0, "", "show rpmsgctl's version"},
};

const OptionSpec processorOption{"processor", 'p', "PROC",
                                 "only on this processor (id such as remoteproc0, or kernel name)"};
const OptionSpec quietOption{"quiet", 'q', "", "print only the names, one per line"};
const OptionSpec hexOption{"hex", 0, "", "messages as hex bytes (\"68 69\") instead of text"};

OptionSpec timeoutOption(const std::string& what) {
    return {"timeout", 't', "MS", what};
}

void out(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
}

void outLine(const std::string& s) {
    out(s);
    out("\n");
}

void printJson(const json& j) {
    outLine(j.dump(2));
}

// Streams flush every line; a reader that went away (rpmsgctl recv -n 100 | head -1) ends the
// stream with an I/O error instead of going on unseen.
void flushStream() {
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        throw rc::Error(rc::ErrorCode::IoError,
                        std::string("writing to stdout failed: ") + std::strerror(errno));
    }
}

void printJsonLine(const json& j) {
    outLine(j.dump());
    flushStream();
}

std::string orDash(const std::string& s) {
    return s.empty() ? "-" : s;
}

std::string joined(const std::vector<std::string>& v, const char* sep = ",") {
    std::string s;
    for (const auto& x : v) {
        s.append(s.empty() ? "" : sep).append(x);
    }
    return s;
}

// ---- processors ----

void printProcessorTable(Context& ctx, const std::vector<rc::ProcessorInfo>& procs) {
    Table t({"ID", "NAME", "STATE", "FIRMWARE", "CRASHES", "CHANNELS"});
    for (const auto& p : procs) {
        std::vector<std::string> cells = {p.id,
                                          p.name,
                                          p.state,
                                          orDash(p.firmware),
                                          std::to_string(p.crashCount),
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

int runList(Context& ctx, const Args& a) {
    const auto procs = ctx.c().processors();
    if (ctx.json) {
        json j = json::array();
        for (const auto& p : procs) {
            j.push_back(toJson(p));
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
        const std::string version = ctx.c().daemonVersion();
        const auto procs = ctx.c().processors();
        const auto chans = ctx.c().channels();
        if (ctx.json) {
            json j = {{"daemon_version", version},
                      {"processors", json::array()},
                      {"channels", json::array()}};
            for (const auto& p : procs) {
                j["processors"].push_back(toJson(p));
            }
            for (const auto& c : chans) {
                j["channels"].push_back(toJson(c));
            }
            printJson(j);
            return ExitOk;
        }
        const auto running = std::count_if(procs.begin(), procs.end(), [](const auto& p) {
            return p.state == "running" || p.state == "attached";
        });
        outLine(ctx.style.bold("rpmsgd " + version) + ": " + std::to_string(procs.size()) +
                " processors (" + std::to_string(running) + " running), " +
                std::to_string(chans.size()) + " channels");
        if (!procs.empty()) {
            out("\n");
            printProcessorTable(ctx, procs);
        }
        return ExitOk;
    }
    const auto p = ctx.c().processor(a.positional()[0]);
    const auto chans = ctx.c().channels(p.id);
    if (ctx.json) {
        json j = toJson(p);
        j["channel_details"] = json::array();
        for (const auto& c : chans) {
            j["channel_details"].push_back(toJson(c));
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
    row("Last error", p.lastError.empty() ? "-" : ctx.style.red(p.lastError));
    row("Last core", orDash(p.lastCoredump));
    if (chans.empty()) {
        row("Channels", "-");
    }
    for (size_t i = 0; i < chans.size(); ++i) {
        const auto& c = chans[i];
        row(i == 0 ? "Channels" : "", c.name + " (address " + std::to_string(c.remoteAddress) +
                                          ", mtu " + std::to_string(c.mtu) + ", " +
                                          std::to_string(c.endpoints) + " endpoints)");
    }
    row("Object", ctx.style.dim(p.path));
    return ExitOk;
}

int runLifecycle(Context& ctx, const Args& a, const std::string& verb) {
    const std::string& proc = a.positional()[0];
    if (verb == "start") {
        ctx.c().start(proc);
    } else if (verb == "stop") {
        ctx.c().stop(proc);
    } else if (verb == "restart") {
        ctx.c().restart(proc);
    } else {
        ctx.c().recover(proc);
    }
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

int runRecovery(Context& ctx, const Args& a) {
    const std::string& v = a.positional()[1];
    bool enabled = false;
    if (v == "on" || v == "enabled" || v == "yes" || v == "true" || v == "1") {
        enabled = true;
    } else if (v != "off" && v != "disabled" && v != "no" && v != "false" && v != "0") {
        throw UsageError("recovery expects on or off, not '" + v + "'");
    }
    ctx.c().setRecovery(a.positional()[0], enabled);
    return ExitOk;
}

int runCoredump(Context& ctx, const Args& a) {
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

// ---- channels ----

int runChannels(Context& ctx, const Args& a) {
    const auto chans = ctx.c().channels(a.positional().empty() ? std::string() : a.positional()[0]);
    if (ctx.json) {
        json j = json::array();
        for (const auto& c : chans) {
            j.push_back(toJson(c));
        }
        printJson(j);
    } else if (a.has("quiet")) {
        for (const auto& c : chans) {
            outLine(c.name);
        }
    } else {
        Table t({"NAME", "PROCESSOR", "ADDRESS", "MTU", "ENDPOINTS", "DEVICE"});
        for (const auto& c : chans) {
            t.add({c.name, c.processor, std::to_string(c.remoteAddress), std::to_string(c.mtu),
                   std::to_string(c.endpoints), c.device});
        }
        t.print(ctx.style);
    }
    return ExitOk;
}

milliseconds channelWait(const Args& a, unsigned long long fallback = 5000) {
    return milliseconds(a.number("timeout", fallback));
}

int runWait(Context& ctx, const Args& a) {
    const auto c =
        ctx.c().waitForChannel(a.positional()[0], a.value("processor"), channelWait(a, 30000));
    if (ctx.json) {
        printJson(toJson(c));
    } else {
        outLine(c.name + " on " + c.processor + " (address " + std::to_string(c.remoteAddress) +
                ", mtu " + std::to_string(c.mtu) + ")");
    }
    return ExitOk;
}

// Prints one received message in the verb's format.
void printMessage(Context& ctx, bool hex, const std::string& msg) {
    if (ctx.json) {
        printJsonLine(messageJson(msg));
        return;
    }
    if (hex) {
        outLine(toHex(msg));
    } else {
        out(msg);
        if (msg.empty() || msg.back() != '\n') {
            out("\n");
        }
    }
    flushStream();
}

// Waits for the endpoint to be readable until @p deadline (nullopt: forever) or a stop signal;
// true when a message is waiting.
bool waitReadable(const rc::Endpoint& ep, std::optional<Clock::time_point> deadline) {
    while (!stopRequested) {
        int ms = -1;
        if (deadline) {
            const auto left = std::chrono::duration_cast<milliseconds>(*deadline - Clock::now());
            ms = static_cast<int>(std::max<long long>(0, left.count()));
        }
        pollfd p{ep.fd(), POLLIN, 0};
        const int r = ::poll(&p, 1, ms);
        if (r > 0) {
            return true;
        }
        if (r == 0) {
            return false;
        }
        if (errno != EINTR) {
            throw rc::Error(rc::ErrorCode::IoError,
                            std::string("waiting for a message: ") + std::strerror(errno));
        }
    }
    return false;
}

int runSend(Context& ctx, const Args& a) {
    const auto& pos = a.positional();
    const std::string data = a.has("hex") ? fromHex(pos[1]) : pos[1];
    auto ep = ctx.c().openChannel(pos[0], a.value("processor"), channelWait(a));
    ep.send(data);
    if (a.has("reply")) {
        catchStopSignals();
        const auto deadline = Clock::now() + channelWait(a);
        if (!waitReadable(ep, deadline)) {
            throw rc::Error(rc::ErrorCode::Timeout, "no reply from '" + pos[0] + "' within " +
                                                        std::to_string(channelWait(a).count()) +
                                                        " ms");
        }
        printMessage(ctx, a.has("hex"), ep.receive(milliseconds(0)));
    }
    ep.close();
    return ExitOk;
}

int runRecv(Context& ctx, const Args& a) {
    const auto count = a.number("count", 1, 1);
    auto ep = ctx.c().openChannel(a.positional()[0], a.value("processor"), channelWait(a));
    if (a.has("send")) {
        ep.send(a.has("hex") ? fromHex(a.value("send")) : a.value("send"));
    }
    catchStopSignals();
    std::optional<Clock::time_point> deadline;
    if (a.has("timeout")) {
        deadline = Clock::now() + channelWait(a);
    }
    for (unsigned long long i = 0; i < count; ++i) {
        if (!waitReadable(ep, deadline)) {
            if (stopRequested) {
                return ExitOk;
            }
            throw rc::Error(rc::ErrorCode::Timeout,
                            "received " + std::to_string(i) + " of " + std::to_string(count) +
                                " messages within " + a.value("timeout") + " ms");
        }
        printMessage(ctx, a.has("hex"), ep.receive(milliseconds(0)));
    }
    ep.close();
    return ExitOk;
}

// open: stdin lines become messages, messages become stdout lines.
int runOpen(Context& ctx, const Args& a) {
    const bool hex = a.has("hex");
    const bool counted = a.has("count");
    const auto count = a.number("count", 0, 1);
    const milliseconds linger(a.number("linger", 500));
    auto ep = ctx.c().openChannel(a.positional()[0], a.value("processor"), channelWait(a));
    catchStopSignals();
    bool stdinOpen = true;
    std::string pending;
    unsigned long long received = 0;
    Clock::time_point quietUntil{};
    auto sendLine = [&](std::string line) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        ep.send(hex ? fromHex(line) : line);
    };
    while (!stopRequested) {
        pollfd fds[2] = {{ep.fd(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int ms = -1;
        if (!stdinOpen && !counted) {
            const auto left = std::chrono::duration_cast<milliseconds>(quietUntil - Clock::now());
            ms = static_cast<int>(std::max<long long>(0, left.count()));
        }
        const int r = ::poll(fds, stdinOpen ? 2 : 1, ms);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw rc::Error(rc::ErrorCode::IoError, std::string("poll: ") + std::strerror(errno));
        }
        if (r == 0) {
            break; // stdin ended and the channel stayed quiet for --linger
        }
        if (fds[0].revents != 0) {
            printMessage(ctx, hex, ep.receive(milliseconds(0)));
            quietUntil = Clock::now() + linger;
            if (counted && ++received >= count) {
                break;
            }
        }
        if (stdinOpen && fds[1].revents != 0) {
            char buf[4096];
            const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0 && errno != EINTR && errno != EAGAIN) {
                throw rc::Error(rc::ErrorCode::IoError,
                                std::string("reading stdin: ") + std::strerror(errno));
            }
            if (n == 0) {
                if (!pending.empty()) {
                    sendLine(pending);
                    pending.clear();
                }
                stdinOpen = false;
                quietUntil = Clock::now() + linger;
                continue;
            }
            if (n > 0) {
                pending.append(buf, static_cast<size_t>(n));
                size_t nl;
                while ((nl = pending.find('\n')) != std::string::npos) {
                    sendLine(pending.substr(0, nl));
                    pending.erase(0, nl + 1);
                }
            }
        }
    }
    ep.close();
    return ExitOk;
}

int runPing(Context& ctx, const Args& a) {
    const auto count = a.number("count", 10, 1);
    const milliseconds interval(a.number("interval", 0));
    const milliseconds timeout(a.number("timeout", 1000, 1));
    const bool quiet = a.has("quiet");
    const std::string name = a.positional()[0];
    const auto info = ctx.c().waitForChannel(name, a.value("processor"), milliseconds(5000));
    auto ep = ctx.c().openChannel(name, info.processor, milliseconds(5000));
    const auto size = a.number("size", 16, 1, ep.mtu());
    catchStopSignals();
    if (!ctx.json) {
        outLine("PING " + name + " on " + info.processor + " (address " +
                std::to_string(info.remoteAddress) + "): " + std::to_string(size) + " bytes");
    }
    std::vector<double> rtts;
    unsigned long long sent = 0;
    unsigned long long mismatched = 0;
    for (unsigned long long seq = 1; seq <= count && !stopRequested; ++seq) {
        if (seq > 1 && interval.count() > 0) {
            pollfd none{-1, 0, 0};
            ::poll(&none, 1, static_cast<int>(interval.count()));
            if (stopRequested) {
                break;
            }
        }
        // The payload carries the sequence number, so a late reply is not taken for this one.
        std::string payload(size, '\0');
        for (size_t i = 0; i < payload.size(); ++i) {
            payload[i] = static_cast<char>((seq * 131 + i) & 0xff);
        }
        const std::string tag = std::to_string(seq) + ":";
        payload.replace(0, std::min(tag.size(), payload.size()), tag, 0,
                        std::min(tag.size(), payload.size()));
        const auto t0 = Clock::now();
        ep.send(payload);
        ++sent;
        const auto deadline = t0 + timeout;
        bool got = false;
        while (waitReadable(ep, deadline)) {
            const std::string reply = ep.receive(milliseconds(0));
            if (reply == payload) {
                const double ms =
                    std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                rtts.push_back(ms);
                got = true;
                if (!ctx.json && !quiet) {
                    char line[160];
                    std::snprintf(line, sizeof line, "%zu bytes from %s: seq=%llu time=%.3f ms",
                                  reply.size(), name.c_str(), seq, ms);
                    outLine(line);
                    std::fflush(stdout);
                }
                break;
            }
            ++mismatched; // a late reply to an earlier probe, or not an echo service
        }
        if (!got && !stopRequested && !ctx.json && !quiet) {
            outLine("no reply for seq=" + std::to_string(seq) + " within " +
                    std::to_string(timeout.count()) + " ms");
        }
    }
    ep.close();
    std::vector<double> sorted = rtts;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double v : sorted) {
        sum += v;
    }
    const size_t n = sorted.size();
    const double minV = n ? sorted.front() : 0;
    const double maxV = n ? sorted.back() : 0;
    const double avg = n ? sum / static_cast<double>(n) : 0;
    const double p99 =
        n ? sorted[static_cast<size_t>(std::ceil(0.99 * static_cast<double>(n))) - 1] : 0;
    const double loss =
        sent ? 100.0 * static_cast<double>(sent - n) / static_cast<double>(sent) : 0;
    if (ctx.json) {
        printJson({{"channel", name},
                   {"processor", info.processor},
                   {"size", size},
                   {"sent", sent},
                   {"received", n},
                   {"unexpected", mismatched},
                   {"loss_percent", loss},
                   {"min_ms", minV},
                   {"avg_ms", avg},
                   {"p99_ms", p99},
                   {"max_ms", maxV},
                   {"rtt_ms", rtts}});
    } else {
        char line[200];
        outLine("--- " + name + " ping statistics ---");
        std::snprintf(line, sizeof line, "%llu sent, %zu received, %.0f%% loss", sent, n, loss);
        outLine(line);
        if (n > 0) {
            std::snprintf(line, sizeof line, "rtt min/avg/p99/max = %.3f/%.3f/%.3f/%.3f ms", minV,
                          avg, p99, maxV);
            outLine(line);
        }
    }
    if (n < sent) {
        std::fflush(stdout);
        throw rc::Error(rc::ErrorCode::Timeout, std::to_string(sent - n) + " of " +
                                                    std::to_string(sent) +
                                                    " probes got no reply from '" + name + "'");
    }
    return ExitOk;
}

int runMonitor(Context& ctx, const Args& a) {
    const auto count = a.number("count", 0);
    unsigned long long seen = 0;
    auto& client = ctx.c();
    client.onEvent([&](const rc::Event& e) {
        // ChannelAdded/ChannelRemoved say better what a change of Channels says.
        if ((count != 0 && seen >= count) ||
            (e.type == rc::Event::Type::ProcessorChanged && e.property == "Channels")) {
            return;
        }
        ++seen;
        if (ctx.json) {
            printJsonLine(toJson(e));
        } else {
            outLine(ctx.style.dim(rc::eventTypeName(e.type)) +
                    describe(e).substr(std::strlen(rc::eventTypeName(e.type))));
            flushStream();
        }
    });
    // Subscribed: say so, so that people (and scripts) know events from now on are shown.
    if (ctx.json) {
        printJsonLine({{"event", "Monitoring"}});
    } else {
        outLine("Monitoring rpmsgd events (Ctrl-C to stop)");
        std::fflush(stdout);
    }
    catchStopSignals();
    while (!stopRequested && (count == 0 || seen < count)) {
        client.processEvents(milliseconds(-1));
    }
    return ExitOk;
}

// ---- verbs and help ----

std::vector<Verb> verbs() {
    return {
        {"status",
         "[PROC]",
         "rpmsgd's version and every processor, or one processor in detail",
         "Without PROC: the daemon's version and a table of processors. With PROC (an id such "
         "as remoteproc0 or a kernel name): its properties and channels.",
         {},
         0,
         1,
         runStatus},
        {"list",
         "",
         "processors: id, name, state, firmware, crashes, channels",
         "One row per remote processor.",
         {quietOption},
         0,
         0,
         runList},
        {"channels",
         "[PROC]",
         "published channels, of every processor or of PROC",
         "One row per channel: name, processor, remote address, mtu, open endpoints, rpmsg "
         "device.",
         {quietOption},
         0,
         1,
         runChannels},
        {"start",
         "PROC",
         "boot a processor (success if it already runs)",
         "Boots PROC with its current firmware and returns once it runs. Needs a manager.",
         {},
         1,
         1,
         [](Context& c, const Args& a) {
             return runLifecycle(c, a, "start");
         }},
        {"stop",
         "PROC",
         "shut a processor down (success if it is offline)",
         "Shuts PROC down; its channels and their endpoints go away. Needs a manager.",
         {},
         1,
         1,
         [](Context& c, const Args& a) {
             return runLifecycle(c, a, "stop");
         }},
        {"restart",
         "PROC",
         "stop, then start a processor",
         "Needs a manager.",
         {},
         1,
         1,
         [](Context& c, const Args& a) {
             return runLifecycle(c, a, "restart");
         }},
        {"firmware",
         "PROC [NAME]",
         "show, or select, the firmware a processor boots",
         "Without NAME: print the current firmware. With NAME (a file in rpmsgd's firmware "
         "directory): select it for the next start; the processor must be offline. Needs a "
         "manager to set.",
         {},
         1,
         2,
         runFirmware},
        {"load",
         "PROC FILE",
         "upload a firmware file and select it",
         "Sends FILE to rpmsgd, which validates it, stores it in its firmware directory and "
         "selects it (the processor must be offline). Prints the firmware name now set. Needs "
         "a manager.",
         {{"name", 0, "NAME", "store it under NAME (default: FILE's base name)"}},
         2,
         2,
         runLoad},
        {"recovery",
         "PROC on|off",
         "kernel crash recovery on or off",
         "Needs a manager.",
         {},
         2,
         2,
         runRecovery},
        {"coredump",
         "PROC MODE",
         "coredump mode: disabled, enabled or inline",
         "Needs a manager.",
         {},
         2,
         2,
         runCoredump},
        {"recover",
         "PROC",
         "recover a crashed processor",
         "Asks the kernel to recover PROC, which must be crashed. Needs a manager.",
         {},
         1,
         1,
         [](Context& c, const Args& a) {
             return runLifecycle(c, a, "recover");
         }},
        {"trace",
         "PROC [INDEX]",
         "print a processor's trace buffer (default 0)",
         "Prints the current content of the remote's trace buffer INDEX. Needs a manager.",
         {},
         1,
         2,
         runTrace},
        {"open",
         "CHANNEL",
         "bridge stdin/stdout to a channel",
         "Opens an endpoint of your own on CHANNEL (waiting for it up to --timeout). Each "
         "line of stdin is sent as one message (without its newline); each message received "
         "is printed as one line. After stdin ends, keeps printing until the channel is quiet "
         "for --linger ms (with -n: until N messages arrived). Ctrl-C ends it.",
         {processorOption,
          hexOption,
          timeoutOption("wait up to MS for the channel (5000)"),
          {"count", 'n', "N", "exit after receiving N messages"},
          {"linger", 0, "MS", "after stdin ends, wait until MS without messages (500)"}},
         1,
         1,
         runOpen},
        {"send",
         "CHANNEL DATA",
         "send one message",
         "Opens an endpoint on CHANNEL, sends DATA as one message, and closes it. With "
         "--reply, waits for one message back and prints it.",
         {processorOption,
          hexOption,
          timeoutOption("wait up to MS for the channel and the reply (5000)"),
          {"reply", 'r', "", "wait for one reply and print it"}},
         2,
         2,
         runSend},
        {"recv",
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
         1,
         1,
         runRecv},
        {"ping",
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
         1,
         1,
         runPing},
        {"wait",
         "CHANNEL",
         "wait until a channel exists",
         "Returns as soon as CHANNEL is published (at once if it is), or fails with exit "
         "status 9 after --timeout.",
         {processorOption, timeoutOption("give up after MS (30000)")},
         1,
         1,
         runWait},
        {"monitor",
         "",
         "print rpmsgd's events as they happen",
         "Prints processor state changes, crashes, channels and endpoints coming and going, "
         "and rpmsgd starting and stopping, one per line, until Ctrl-C. The first line says "
         "that monitoring has begun.",
         {{"count", 'n', "N", "exit after N events"}},
         0,
         0,
         runMonitor},
    };
}

std::string optionLine(const OptionSpec& o) {
    std::string s = "  ";
    s += o.shortName ? std::string("-") + o.shortName + ", " : "    ";
    s += "--" + o.longName + (o.valueName.empty() ? "" : " " + o.valueName);
    if (s.size() < 26) {
        s.append(26 - s.size(), ' ');
    } else {
        s += "  ";
    }
    return s + o.help;
}

void printMainHelp() {
    std::string s = "Usage: rpmsgctl [OPTIONS] VERB [ARGS]\n\n"
                    "Control rpmsgd (org.rpmsgd.Broker1) and talk to remote processors.\n"
                    "PROC is a processor id (remoteproc0) or kernel name; CHANNEL a channel "
                    "name.\n\nVerbs:\n";
    for (const auto& v : verbs()) {
        std::string head = "  " + v.name + (v.args.empty() ? "" : " " + v.args);
        head.append(head.size() < 28 ? 28 - head.size() : 2, ' ');
        s += head + v.summary + "\n";
    }
    s += "\nOptions:\n";
    for (const auto& o : globalOptions) {
        s += optionLine(o) + "\n";
    }
    s += "\n'rpmsgctl VERB --help' describes a verb.\n\n";
    s += exitCodeHelp;
    out(s);
}

// @p text broken into lines of at most @p width columns at spaces.
std::string wrapped(const std::string& text, size_t width = 78) {
    std::string out;
    size_t col = 0;
    size_t i = 0;
    while (i < text.size()) {
        size_t end = text.find(' ', i);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string word = text.substr(i, end - i);
        if (col > 0 && col + 1 + word.size() > width) {
            out += "\n";
            col = 0;
        } else if (col > 0) {
            out += " ";
            ++col;
        }
        out += word;
        col += word.size();
        i = end + 1;
    }
    return out;
}

void printVerbHelp(const Verb& v) {
    std::string summary = v.summary;
    summary[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(summary[0])));
    std::string s = "Usage: rpmsgctl " + v.name + (v.args.empty() ? "" : " " + v.args) +
                    " [OPTIONS]\n\n" + summary + ".\n" + wrapped(v.details) + "\n";
    s += "\nOptions:\n";
    for (const auto& o : v.options) {
        s += optionLine(o) + "\n";
    }
    for (const auto& o : globalOptions) {
        s += optionLine(o) + "\n";
    }
    s += "\nSee 'rpmsgctl --help' for the exit status of each error class.\n";
    out(s);
}

// The message of an error, with the hint a person needs for the classes that are about the
// environment rather than the request.
std::string errorLine(const rc::Error& e) {
    switch (e.code()) {
    case rc::ErrorCode::ServiceUnknown:
        return "rpmsgd is not running (nobody owns org.rpmsgd.Broker1 on the bus)";
    case rc::ErrorCode::NoReply:
        return std::string("rpmsgd did not reply in time: ") + e.what();
    default:
        return e.what();
    }
}

int dispatch(const std::vector<std::string>& argv) {
    const auto all = verbs();
    // The verb is the first argument that is neither an option nor an option's value (any
    // verb's options may come first: "rpmsgctl -p cm4 wait rpmsg-echo").
    auto takesValue = [&](const std::string& a) {
        auto matches = [&](const OptionSpec& o) {
            return !o.valueName.empty() &&
                   (a == "--" + o.longName ||
                    (o.shortName != 0 && a.size() == 2 && a[0] == '-' && a[1] == o.shortName));
        };
        for (const auto& o : globalOptions) {
            if (matches(o)) {
                return true;
            }
        }
        for (const auto& v : all) {
            for (const auto& o : v.options) {
                if (matches(o)) {
                    return true;
                }
            }
        }
        return false;
    };
    std::optional<size_t> verbAt;
    for (size_t i = 0; i < argv.size(); ++i) {
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
        verbAt = i;
        break;
    }
    const Verb* verb = nullptr;
    std::vector<std::string> rest = argv;
    if (verbAt) {
        const std::string name = argv[*verbAt];
        for (const auto& v : all) {
            if (v.name == name) {
                verb = &v;
            }
        }
        if (verb == nullptr) {
            if (name == "help") {
                if (*verbAt + 1 < argv.size()) {
                    for (const auto& v : all) {
                        if (v.name == argv[*verbAt + 1]) {
                            printVerbHelp(v);
                            return ExitOk;
                        }
                    }
                    throw UsageError("unknown verb '" + argv[*verbAt + 1] + "'");
                }
                printMainHelp();
                return ExitOk;
            }
            throw UsageError("unknown verb '" + name + "' (see rpmsgctl --help)");
        }
        rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(*verbAt));
    }
    std::vector<OptionSpec> specs = globalOptions;
    if (verb != nullptr) {
        specs.insert(specs.end(), verb->options.begin(), verb->options.end());
    }
    Args args;
    try {
        args = Args::parse(rest, specs);
    } catch (const UsageError& e) {
        throw UsageError(std::string(e.what()) + " (see rpmsgctl " +
                         (verb ? verb->name + " " : std::string()) + "--help)");
    }
    if (args.has("version")) {
        outLine("rpmsgctl " RPMSGD_VERSION);
        return ExitOk;
    }
    if (args.has("help")) {
        if (verb != nullptr) {
            printVerbHelp(*verb);
        } else {
            printMainHelp();
        }
        return ExitOk;
    }
    if (verb == nullptr) {
        throw UsageError("no verb given (see rpmsgctl --help)");
    }
    const size_t n = args.positional().size();
    if (n < verb->minArgs || n > verb->maxArgs) {
        throw UsageError(verb->name + " expects " +
                         (verb->args.empty() ? std::string("no arguments") : verb->args) +
                         ", got " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") +
                         " (see rpmsgctl " + verb->name + " --help)");
    }
    Context ctx;
    ctx.connect.address = args.value("address");
    ctx.json = args.has("json");
    ctx.style.on = colourEnabled(args.has("no-color"));
    return verb->run(ctx, args);
}

} // namespace
} // namespace rpmsgctl

int main(int argc, char** argv) {
    using namespace rpmsgctl;
    std::signal(SIGPIPE, SIG_IGN); // a closed stdout is an error to report, not a kill
    std::vector<std::string> args(argv + 1, argv + argc);
    int rc = ExitOk;
    try {
        rc = dispatch(args);
    } catch (const UsageError& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "rpmsgctl: %s\n", e.what());
        return ExitUsage;
    } catch (const rpmsgd::client::Error& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "rpmsgctl: %s\n", errorLine(e).c_str());
        return exitCodeOf(e.code());
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "rpmsgctl: %s\n", e.what());
        return ExitFailure;
    }
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        std::fprintf(stderr, "rpmsgctl: writing to stdout failed: %s\n", std::strerror(errno));
        return ExitIoError;
    }
    return rc;
}
