// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl's remote log verb: logs, a processor's trace buffer and then (with -f) the lines
// rpmsgd reports as it follows the buffer (Processor.TraceLines, API 1.1).

#include "common/states.h"
#include "exit_codes.h"
#include "stop_signals.h"
#include "verbs.h"

#include <chrono>
#include <cstdio>
#include <deque>

namespace rpmsgctl {

namespace rc = rpmsgd::client;
using json = nlohmann::json;

namespace {

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            nl = text.size();
        }
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

void printLine(Context& ctx, const std::string& processor, uint32_t index,
               const std::string& line) {
    if (ctx.json) {
        printJsonLine({{"processor", processor}, {"trace", index}, {"line", line}});
    } else {
        outLine(line);
    }
}

} // namespace

int runLogs(Context& ctx, const Args& a) {
    const std::string& key = a.positional()[0];
    const auto index = static_cast<uint32_t>(a.number("trace", 0));
    const auto last = a.number("lines", 0, 0);
    const bool limit = a.has("lines");
    const bool follow = a.has("follow");
    auto& client = ctx.c();
    const rc::ProcessorInfo proc = client.processor(key);

    // Subscribed before the buffer is read, so that no line falls between the two. Lines the
    // daemon reported before it answered the read are in the buffer already: they are dropped
    // while they repeat the end of what was printed.
    std::deque<rc::Event> pending;
    bool stopped = false;
    if (follow) {
        client.onEvent([&](const rc::Event& e) {
            if (e.processor != proc.id) {
                return;
            }
            if (e.type == rc::Event::Type::TraceLines && e.traceIndex == index) {
                pending.push_back(e);
            } else if ((e.type == rc::Event::Type::ProcessorChanged && e.property == "State" &&
                        e.value != rpmsgd::toString(rpmsgd::ProcessorState::Running)) ||
                       e.type == rc::Event::Type::ProcessorRemoved) {
                stopped = true;
            }
        });
        client.process();
    }
    std::vector<std::string> lines = splitLines(client.trace(proc.id, index));
    const size_t from = limit && last < lines.size() ? lines.size() - last : 0;
    for (size_t i = from; i < lines.size(); ++i) {
        printLine(ctx, proc.id, index, lines[i]);
    }
    flushStream();
    if (!follow) {
        return ExitOk;
    }
    if (proc.state != rpmsgd::toString(rpmsgd::ProcessorState::Running)) {
        return ExitOk; // nothing to follow
    }
    catchStopSignals();
    bool dedupe = true;
    while (!stopRequested()) {
        client.processEvents(std::chrono::milliseconds(250));
        while (!pending.empty()) {
            const rc::Event e = std::move(pending.front());
            pending.pop_front();
            size_t skip = 0;
            if (dedupe && !e.lines.empty()) {
                // Already printed when these lines end the buffer as read.
                for (size_t start = 0; start < lines.size(); ++start) {
                    size_t n = 0;
                    while (start + n < lines.size() && n < e.lines.size() &&
                           lines[start + n] == e.lines[n]) {
                        ++n;
                    }
                    if (start + n == lines.size() && n > 0) {
                        skip = n;
                        break;
                    }
                }
                dedupe = skip == e.lines.size();
            }
            for (size_t i = skip; i < e.lines.size(); ++i) {
                printLine(ctx, proc.id, index, e.lines[i]);
            }
            flushStream();
        }
        if (stopped) {
            break;
        }
    }
    return ExitOk;
}

} // namespace rpmsgctl
