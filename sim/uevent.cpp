// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "uevent.h"

#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/netlink.h>

namespace rpmsgsim {

namespace {

// The udev netlink group (MONITOR_GROUP_UDEV); sd_device_monitor_new() listens there.
constexpr uint32_t UdevGroup = 2;

// The kernel's uevent buffer (UEVENT_BUFFER_SIZE); bigger events never exist.
constexpr size_t MaxEventSize = 2048;

bool validKey(const std::string& key) {
    return !key.empty() && key.find('=') == std::string::npos &&
           key.find('\0') == std::string::npos;
}

bool validValue(const std::string& value) {
    return value.find('\0') == std::string::npos;
}

} // namespace

bool validUevent(const std::string& action, const std::string& devpath,
                 const std::string& subsystem,
                 const std::vector<std::pair<std::string, std::string>>& vars) {
    bool valid = !action.empty() && validValue(action) && action.find('@') == std::string::npos &&
                 !devpath.empty() && devpath.front() == '/' && validValue(devpath) &&
                 !subsystem.empty() && validValue(subsystem);
    for (const auto& [key, value] : vars) {
        valid = valid && validKey(key) && validValue(value);
    }
    return valid;
}

std::string encodeUevent(const std::string& action, const std::string& devpath,
                         const std::string& subsystem, uint64_t seqnum,
                         const std::vector<std::pair<std::string, std::string>>& vars) {
    std::string out;
    const auto field = [&out](const std::string& text) {
        out += text;
        out += '\0';
    };
    field(action + "@" + devpath);
    // kobject_uevent_env order: ACTION, DEVPATH, SUBSYSTEM, the caller's and the bus's
    // variables, and SEQNUM last.
    field("ACTION=" + action);
    field("DEVPATH=" + devpath);
    field("SUBSYSTEM=" + subsystem);
    for (const auto& [key, value] : vars) {
        field(key + "=" + value);
    }
    field("SEQNUM=" + std::to_string(seqnum));
    return out;
}

bool isPrivateNetns(std::string& why) {
    struct stat self {};
    struct stat init {};
    if (stat("/proc/self/ns/net", &self) != 0) {
        why = std::string("cannot inspect /proc/self/ns/net: ") + std::strerror(errno);
        return false;
    }
    // pid 1's namespace is often unreadable (containers, hidepid); then the interface check
    // below has to decide alone.
    if (stat("/proc/1/ns/net", &init) == 0 && self.st_dev == init.st_dev &&
        self.st_ino == init.st_ino) {
        why = "this process shares the network namespace of pid 1 (the host's); run it in a "
              "private one (unshare -n)";
        return false;
    }
    struct if_nameindex* list = if_nameindex();
    if (!list) {
        why = std::string("cannot list network interfaces: ") + std::strerror(errno);
        return false;
    }
    std::string others;
    for (const struct if_nameindex* i = list; i->if_index != 0 && i->if_name; ++i) {
        if (std::strcmp(i->if_name, "lo") == 0) {
            continue;
        }
        others += (others.empty() ? "" : ", ") + std::string(i->if_name);
    }
    if_freenameindex(list);
    if (!others.empty()) {
        why = "the network namespace has interfaces other than loopback (" + others +
              "), so it is probably the host's; run in a private one (unshare -n)";
        return false;
    }
    why.clear();
    return true;
}

UeventSender::~UeventSender() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool UeventSender::open(std::string& error) {
    if (fd_ >= 0) {
        return true;
    }
    std::string why;
    if (!isPrivateNetns(why)) {
        error = "refusing to send uevents: " + why;
        return false;
    }
    const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    if (fd < 0) {
        error = std::string("cannot open a uevent netlink socket: ") + std::strerror(errno);
        return false;
    }
    fd_ = fd;
    error.clear();
    return true;
}

bool UeventSender::send(const std::string& action, const std::string& devpath,
                        const std::string& subsystem,
                        const std::vector<std::pair<std::string, std::string>>& vars) {
    if (!validUevent(action, devpath, subsystem, vars)) {
        errno = EINVAL;
        return false;
    }
    const std::string message = encodeUevent(action, devpath, subsystem, seqnum_, vars);
    if (message.size() > MaxEventSize) {
        errno = EMSGSIZE;
        return false;
    }
    if (fd_ < 0) {
        errno = EBADF;
        return false;
    }
    struct sockaddr_nl dest {};
    dest.nl_family = AF_NETLINK;
    dest.nl_pid = 0;
    dest.nl_groups = UdevGroup;
    ssize_t n;
    do {
        n = ::sendto(fd_, message.data(), message.size(), 0,
                     reinterpret_cast<const struct sockaddr*>(&dest), sizeof dest);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return false;
    }
    ++seqnum_;
    return true;
}

} // namespace rpmsgsim
