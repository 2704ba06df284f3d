// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Following the trace buffers of running processors (API 1.1, watch.trace_interval_ms): each
// call reads every buffer of every running remoteproc once, turns what changed into lines
// (TraceDiff, trace_diff.h), and reports them to the observer (Processor.TraceLines) and the
// journal (SYSLOG_IDENTIFIER=rpmsgd-remote).

#include "dbus/errors.h"
#include "log.h"
#include "registry.h"

namespace rpmsgd {

namespace {
// remoteproc creates one traceN per trace resource of the firmware; more than this many is not
// a firmware anyone ships, and each is read every interval.
constexpr unsigned MaxTraceBuffers = 8;
} // namespace

void Registry::followTraces() {
    for (auto it = traces_.begin(); it != traces_.end();) {
        auto p = processors_.find(it->first);
        const bool up = p != processors_.end() && p->second.state == ProcessorState::Running;
        it = up ? std::next(it) : traces_.erase(it); // stopped, crashed or gone: following ends
    }
    for (auto& [id, p] : processors_) {
        if (!p.remoteproc || p.state != ProcessorState::Running) {
            continue;
        }
        for (unsigned index = 0; index < MaxTraceBuffers; ++index) {
            std::string content;
            try {
                content = kernel_.readTrace(id, index);
            } catch (const Error& e) {
                if (e.code() != ErrorCode::NotFound) {
                    log::debug("Cannot follow trace" + std::to_string(index) + " of " +
                                   describe(p) + ": " + e.what(),
                               {{"PROCESSOR", id}});
                }
                break; // no such buffer: none after it either
            } catch (const std::exception& e) {
                log::debug("Cannot follow trace" + std::to_string(index) + " of " + describe(p) +
                               ": " + e.what(),
                           {{"PROCESSOR", id}});
                break;
            }
            auto& buffers = traces_[id];
            auto [diff, isNew] = buffers.try_emplace(index);
            if (isNew && p.startCount == 0) {
                // Up before rpmsgd saw it boot: what is there was written before; follow on.
                diff->second.prime(content);
                continue;
            }
            const std::vector<std::string> lines = diff->second.update(content);
            if (lines.empty()) {
                continue;
            }
            const std::string trace = std::to_string(index);
            for (const auto& line : lines) {
                log::remote(line, {{"RPMSGD_PROCESSOR", p.name},
                                   {"RPMSGD_PROCESSOR_ID", id},
                                   {"RPMSGD_TRACE", trace}});
            }
            observer_.traceLines(p, index, lines);
        }
    }
}

} // namespace rpmsgd
