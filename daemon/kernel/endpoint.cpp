// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "daemon/kernel/endpoint.h"

#include "common/rpmsg_abi.h"
#include "daemon/kernel/eptdev_sysfs.h"
#include "daemon/kernel/error.h"
#include "daemon/kernel/rpmsg_bus.h"
#include "daemon/kernel/sysfs.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

namespace rpmsgd::kernel {

namespace {

using detail::classDir;
using detail::ctrlError;
using detail::Eptdev;
using detail::listEntries;
using detail::readEptdev;
using detail::scan;

using namespace std::chrono_literals;

// Without devtmpfs, udev creates the node shortly after the ioctl; with it, at once.
constexpr auto nodeWait = 1s;
constexpr auto nodePoll = 10ms;

std::string devPath(const Paths& paths, const std::string& device) {
    return paths.dev + "/" + device;
}

int openNode(const std::string& path, int flags) {
    int fd = -1;
    do {
        fd = ::open(path.c_str(), flags);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

// Opens a device node, waiting briefly for it to appear (udev without devtmpfs).
int openNodeWaiting(const std::string& path, int flags) {
    const auto deadline = std::chrono::steady_clock::now() + nodeWait;
    for (;;) {
        const int fd = openNode(path, flags);
        if (fd >= 0 || errno != ENOENT || std::chrono::steady_clock::now() >= deadline) {
            return fd;
        }
        std::this_thread::sleep_for(nodePoll);
    }
}

// The device name behind an fd for messages ("/dev/rpmsg3"), or "fd N".
std::string fdName(int fd) {
    char buf[4096];
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n <= 0) {
        return "fd " + std::to_string(fd);
    }
    return std::string(buf, static_cast<size_t>(n));
}

bool isGoneErrno(int err) {
    return err == EPIPE || err == ENODEV || err == ENXIO || err == ENETRESET;
}

// On a real board, checks that the node we opened is the device sysfs describes (a stale static
// node could name another one). The simulator's nodes are regular files: nothing to compare.
bool nodeMatches(int fd, const std::string& sysfsDir) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
        return true;
    }
    auto dev = detail::readFile(sysfsDir + "/dev");
    unsigned maj = 0;
    unsigned min = 0;
    if (dev.err != 0 || std::sscanf(dev.data.c_str(), "%u:%u", &maj, &min) != 2) {
        return true;
    }
    return major(st.st_rdev) == maj && minor(st.st_rdev) == min;
}

// Best effort: open + DESTROY a device we created but could not hand out. Returns "" on
// success, else why it stays.
std::string destroyCreated(const Paths& paths, const std::string& device) {
    const std::string path = devPath(paths, device);
    const int fd = openNode(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        const int err = errno;
        return kernelErrorMessage("open " + path, err);
    }
    std::string why;
    if (::ioctl(fd, rpmsg::IoctlDestroyEpt) != 0 && !isGoneErrno(errno)) {
        why = kernelErrorMessage("RPMSG_DESTROY_EPT_IOCTL on " + path, errno);
    }
    ::close(fd);
    return why;
}

// A failure after the ioctl: undo it, and say so if the undo failed too.
[[noreturn]] void failCreated(const Paths& paths, const std::string& device, int err,
                              const std::string& what, bool destroy = true) {
    std::string message = kernelErrorMessage(what, err);
    if (destroy) {
        if (auto why = destroyCreated(paths, device); !why.empty()) {
            message += "; endpoint device ";
            message += device;
            message += " could not be removed (";
            message += why;
            message += ")";
        }
    }
    // The device vanished with its processor (a crash or stop right after the ioctl).
    throw KernelError(err, message,
                      detail::isGone(err) ? ErrorCode::Unavailable : ErrorCode::KernelError);
}

// EADDRINUSE when an explicit local address is already claimed on this transport.
void checkAddressFree(const Paths& paths, const std::string& ctrl,
                      const std::vector<Eptdev>& eptdevs, uint32_t src) {
    std::string user;
    for (const auto& e : eptdevs) {
        if (e.info.src == src) {
            user = "endpoint device " + e.info.device;
            break;
        }
    }
    if (user.empty()) {
        std::string transport;
        for (const auto& c : listCtrls(paths)) {
            if (c.name == ctrl) {
                transport = c.transport;
            }
        }
        // Channels bound to a driver and the name-service device (address 53) hold their src;
        // a control device binds nothing.
        for (const auto& ch :
             transport.empty() ? std::vector<ChannelInfo>{} : listBusDevices(paths)) {
            if (ch.transport == transport && ch.src == src && ch.name != "rpmsg_ctrl" &&
                ch.name != "rpmsg_chrdev") {
                user = "rpmsg device " + ch.device;
                break;
            }
        }
    }
    if (!user.empty()) {
        throw KernelError(EADDRINUSE,
                          "local address " + std::to_string(src) + " on " + ctrl +
                              " is already used by " + user,
                          ErrorCode::InvalidArgument);
    }
}

} // namespace

OpenedEndpoint createEndpoint(const Paths& paths, const std::string& ctrl, const std::string& name,
                              uint32_t src, uint32_t dst, bool nonblock) {
    if (!detail::hasIndexSuffix(ctrl, "rpmsg_ctrl")) {
        throw rpmsgd::Error::invalidArgument("invalid control device name '" + ctrl + "'");
    }
    if (name.size() > MaxEndpointName || name.find('\0') != std::string::npos) {
        throw rpmsgd::Error::invalidArgument("endpoint name '" + name + "' is longer than " +
                                             std::to_string(MaxEndpointName) +
                                             " bytes or contains NUL");
    }
    const std::string ctrlPath = devPath(paths, ctrl);
    const int ctrlFd = openNode(ctrlPath, O_RDWR | O_CLOEXEC);
    if (ctrlFd < 0) {
        throw ctrlError(ctrl, "open " + ctrlPath, errno);
    }
    // Only the entries' names and inodes: after the ioctl, just the new entries are read, so
    // an Open costs the same with one endpoint or a thousand open on this processor.
    std::map<std::string, ino_t> before;
    // The ctrl device's identity: a crash and recovery replaces it under the same name.
    auto ctrlInode = [&]() -> ino_t {
        struct stat st {};
        return ::stat(classDir(paths, ctrl).c_str(), &st) == 0 ? st.st_ino : 0;
    };
    const ino_t ctrlBefore = ctrlInode();
    try {
        before = listEntries(paths, ctrl);
        if (src != AddrAny) {
            checkAddressFree(paths, ctrl, scan(paths, ctrl), src);
        }
    } catch (...) {
        ::close(ctrlFd);
        throw;
    }

    rpmsg_endpoint_info info{};
    std::memcpy(info.name, name.data(), name.size());
    info.src = src;
    info.dst = dst;
    const int rc = ::ioctl(ctrlFd, rpmsg::IoctlCreateEpt, &info);
    const int ioctlErr = errno;
    ::close(ctrlFd); // closing the ctrl device does not destroy what it created
    if (rc != 0) {
        throw ctrlError(ctrl, "RPMSG_CREATE_EPT_IOCTL on " + ctrlPath, ioctlErr);
    }

    std::vector<Eptdev> created;
    const std::string base = classDir(paths, ctrl);
    for (const auto& [device, ino] : listEntries(paths, ctrl)) {
        auto old = before.find(device);
        if (old != before.end() && old->second == ino) {
            continue; // there before the ioctl
        }
        auto e = readEptdev(base, device);
        if (e && e->info.name == name && e->info.src == src && e->info.dst == dst) {
            created.push_back(std::move(*e));
        }
    }

    if (created.empty()) {
        if (ctrlInode() != ctrlBefore) {
            // Torn down with its processor right after the ioctl (a crash, a stop).
            throw KernelError(ENODEV,
                              ctrl + " was torn down while the endpoint was being created (its "
                                     "processor crashed or stopped)",
                              ErrorCode::Unavailable);
        }
        throw KernelError(ENOENT,
                          "RPMSG_CREATE_EPT_IOCTL on " + ctrlPath +
                              " succeeded but no new endpoint device named '" + name +
                              "' appeared under " + ctrl,
                          ErrorCode::KernelError);
    }

    // Normally exactly one; with several identical ones (another process raced us with the
    // same name), any free one is equivalent.
    const int flags = O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0);
    for (size_t i = 0; i < created.size(); ++i) {
        const std::string& device = created[i].info.device;
        const std::string path = devPath(paths, device);
        const int fd = openNodeWaiting(path, flags);
        if (fd < 0) {
            const int err = errno;
            if (err == EBUSY && i + 1 < created.size()) {
                continue; // someone else's twin
            }
            // EINVAL here means the kernel could not bind the address: such a device cannot be
            // opened, hence not destroyed either (failCreated says so).
            failCreated(paths, device, err, "open " + path);
        }
        if (!nodeMatches(fd, classDir(paths, ctrl) + "/" + device)) {
            // Not ours: close without destroying whatever endpoint that node belongs to.
            ::close(fd);
            failCreated(paths, device, ENODEV,
                        "open " + path + " (the node's device number differs from sysfs " + device +
                            ")",
                        false);
        }
        return OpenedEndpoint{fd, device};
    }
    throw KernelError(EBUSY, "every new endpoint device named '" + name + "' is busy",
                      ErrorCode::KernelError); // not reached: the loop returns or throws
}

bool destroyEndpoint(int fd) {
    pollfd p{};
    p.fd = fd;
    p.events = POLLIN;
    int n = 0;
    do {
        n = ::poll(&p, 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        throw KernelError("poll " + fdName(fd), errno);
    }
    if (p.revents & POLLNVAL) {
        throw KernelError("RPMSG_DESTROY_EPT_IOCTL on fd " + std::to_string(fd), EBADF);
    }
    if (p.revents & POLLERR) {
        return false; // already destroyed; a second destroy would corrupt the kernel's refcount
    }
    if (::ioctl(fd, rpmsg::IoctlDestroyEpt) != 0) {
        const int err = errno;
        if (isGoneErrno(err)) {
            return false;
        }
        throw KernelError("RPMSG_DESTROY_EPT_IOCTL on " + fdName(fd), err);
    }
    return true;
}

bool destroyStaleEptdev(const Paths& paths, const std::string& device, std::string* reason) {
    if (!detail::hasIndexSuffix(device, "rpmsg")) {
        throw rpmsgd::Error::invalidArgument("invalid endpoint device name '" + device + "'");
    }
    auto because = [reason](std::string why) {
        if (reason != nullptr) {
            *reason = std::move(why);
        }
        return false;
    };
    const std::string path = devPath(paths, device);
    const int fd = openNode(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        const int err = errno;
        switch (err) {
        case ENOENT:
        case ENODEV:
        case ENXIO:
        case ENETRESET: {
            struct stat st {};
            if (::stat((paths.sysfs + "/class/rpmsg/" + device).c_str(), &st) != 0) {
                return true; // gone
            }
            return because(kernelErrorMessage("open " + path, err) +
                           " although sysfs still lists " + device);
        }
        case EBUSY:
            return because(path + " is held open by a process");
        case EINVAL:
            return because(kernelErrorMessage("open " + path, err) +
                           ": its local address is in use, so it cannot be opened to be "
                           "destroyed now");
        default:
            throw KernelError("open " + path, err);
        }
    }
    if (::ioctl(fd, rpmsg::IoctlDestroyEpt) != 0) {
        const int err = errno;
        ::close(fd);
        if (isGoneErrno(err)) {
            return true;
        }
        if (err == EINVAL) {
            return because(kernelErrorMessage("RPMSG_DESTROY_EPT_IOCTL on " + path, err) +
                           ": a channel's default endpoint cannot be destroyed");
        }
        throw KernelError("RPMSG_DESTROY_EPT_IOCTL on " + path, err);
    }
    ::close(fd);
    return true;
}

} // namespace rpmsgd::kernel
