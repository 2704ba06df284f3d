// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The handlers of rpmsgctl's verbs, one source file per group; verb_table.cpp ties each to its
// name, help and options.

#include "verb.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rpmsgctl {

// verbs_processors.cpp
int runStatus(Context& ctx, const Args& a);
int runList(Context& ctx, const Args& a);
int runStart(Context& ctx, const Args& a);
int runStop(Context& ctx, const Args& a);
int runRestart(Context& ctx, const Args& a);
int runFirmware(Context& ctx, const Args& a);
int runLoad(Context& ctx, const Args& a);
int runRecovery(Context& ctx, const Args& a);
int runCoredump(Context& ctx, const Args& a);
int runRecover(Context& ctx, const Args& a);
int runTrace(Context& ctx, const Args& a);
/// @brief What `recovery PROC WORD` sets: true for on (yes, true, 1, or the kernel's
///        "enabled"), false for off (no, false, 0, "disabled"); nullopt for anything else.
std::optional<bool> recoveryFromWord(std::string_view word);
/// @brief The words completion offers after `recovery PROC`: on, off and the kernel's two.
std::vector<std::string> recoveryWordsOffered();

// verbs_channels.cpp
int runChannels(Context& ctx, const Args& a);
int runOpen(Context& ctx, const Args& a);
int runSend(Context& ctx, const Args& a);
int runRecv(Context& ctx, const Args& a);
int runPing(Context& ctx, const Args& a);
int runWait(Context& ctx, const Args& a);

// verbs_console.cpp
int runConsole(Context& ctx, const Args& a);
/// @brief `open` on a tty channel: stdin to the tty as bytes, the tty to stdout, until the tty
///        hangs up, a stop signal, or stdin ended and the tty was quiet for @p linger. Closes
///        @p ep.
int streamTty(rpmsgd::client::Endpoint& ep, std::chrono::milliseconds linger);

// verbs_logs.cpp
int runLogs(Context& ctx, const Args& a);

// verbs_monitor.cpp
int runMonitor(Context& ctx, const Args& a);

} // namespace rpmsgctl
