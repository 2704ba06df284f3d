// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// SIGINT/SIGTERM for rpmsgctl's long-running verbs (open, recv, ping, monitor): caught, so that
// they end cleanly (endpoint closed, statistics printed) instead of being killed.

namespace rpmsgctl {

/// @brief Catches SIGINT and SIGTERM without SA_RESTART: poll() returns EINTR and the loops look
///        at stopRequested().
void catchStopSignals();

/// @brief True once SIGINT or SIGTERM arrived after catchStopSignals().
bool stopRequested();

} // namespace rpmsgctl
