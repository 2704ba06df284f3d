// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl's event verb: monitor, rpmsgd's signals as one line (or JSON object) each.

#include "exit_codes.h"
#include "stop_signals.h"
#include "verbs.h"

#include <chrono>
#include <cstdio>
#include <cstring>

namespace rpmsgctl {

namespace rc = rpmsgd::client;
using std::chrono::milliseconds;

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
    while (!stopRequested() && (count == 0 || seen < count)) {
        client.processEvents(milliseconds(-1));
    }
    return ExitOk;
}

} // namespace rpmsgctl
