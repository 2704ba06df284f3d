// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The ttys rpmsg_tty makes of channels named rpmsg-tty (drivers/tty/rpmsg_tty.c, 5.16+):
// finding a channel's tty in sysfs, opening it for a client and hanging it up when the lease
// ends.

#include "paths.h"

#include <string>

namespace rpmsgd::kernel {

/// @brief The only channel name rpmsg_tty binds (its id table).
inline constexpr const char* TtyChannelName = "rpmsg-tty";

/// @brief The tty rpmsg_tty registered below bus device @p device ("ttyRPMSG0": the entry of
/// its `tty/` directory), or "" when the channel is not bound to rpmsg_tty.
std::string channelTty(const Paths& paths, const std::string& device);

/// @brief Opens /dev/@p tty O_RDWR|O_NOCTTY|O_CLOEXEC (and O_NONBLOCK when asked). Throws
/// KernelError naming the node.
int openTty(const Paths& paths, const std::string& tty, bool nonblock);

/// @brief TIOCVHANGUP on @p fd (needs CAP_SYS_ADMIN): every open file of the tty is hung up,
/// reads give 0 and writes EIO. One already hung up is left so. Throws KernelError naming
/// @p tty.
void hangupTty(int fd, const std::string& tty);

} // namespace rpmsgd::kernel
