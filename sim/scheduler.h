// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The simulator uses the project's single-threaded scheduler (common/scheduler.h), on an
// sd-event loop made as below.

#include "common/scheduler.h"

#include <csignal>

#include <systemd/sd-event.h>

namespace rpmsgsim {
using rpmsgd::Scheduler;
using rpmsgd::Timer;

/// @brief A new sd-event loop for a sim command (the twin, `remote`): it ends on SIGTERM or
///        SIGINT, and SIGPIPE is ignored (a peer that went away is a failed write, not a
///        signal). Null when no loop can be made.
inline sd_event* newCommandLoop() {
    signal(SIGPIPE, SIG_IGN);
    sd_event* event = nullptr;
    if (sd_event_new(&event) < 0) {
        return nullptr;
    }
    sd_event_add_signal(event, nullptr, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, nullptr, nullptr);
    sd_event_add_signal(event, nullptr, SIGINT | SD_EVENT_SIGNAL_PROCMASK, nullptr, nullptr);
    return event;
}
} // namespace rpmsgsim
