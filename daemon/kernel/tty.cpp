// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "tty.h"

#include "error.h"
#include "sysfs.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace rpmsgd::kernel {

std::string channelTty(const Paths& paths, const std::string& device) {
    // tty_port_register_device() puts the tty class device below the channel: tty/ttyRPMSGn.
    auto dir = detail::listDir(paths.sysfs + "/bus/rpmsg/devices/" + device + "/tty");
    if (dir.err != 0) {
        return "";
    }
    for (const auto& name : dir.names) {
        if (name.rfind("ttyRPMSG", 0) == 0) {
            return name;
        }
    }
    return "";
}

int openTty(const Paths& paths, const std::string& tty, bool nonblock) {
    const std::string path = paths.dev + "/" + tty;
    int flags = O_RDWR | O_NOCTTY | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0);
    int fd = -1;
    do {
        fd = ::open(path.c_str(), flags);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        throw KernelError("open " + path, errno);
    }
    return fd;
}

void hangupTty(int fd, const std::string& tty) {
    // EIO: already hung up (rpmsg_tty_remove hangs it up when the channel goes).
    if (ioctl(fd, TIOCVHANGUP) != 0 && errno != EIO) {
        if (errno == EPERM) {
            throw KernelError(EPERM,
                              "TIOCVHANGUP on " + tty +
                                  " needs CAP_SYS_ADMIN, which rpmsgd lacks: the holder keeps "
                                  "its fd to the tty until it closes it",
                              ErrorCode::KernelError);
        }
        throw KernelError("TIOCVHANGUP on " + tty, errno);
    }
}

} // namespace rpmsgd::kernel
