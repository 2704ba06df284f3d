// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Kernel-format uevents sent to the udev netlink multicast group, so that sd-device monitors
// (libudev, systemd's sd_device_monitor) see the simulator's devices come and go.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rpmsgsim {

/// @brief Sends "ACTION@DEVPATH\0ACTION=..\0DEVPATH=..\0SUBSYSTEM=..\0...\0SEQNUM=..\0" datagrams
/// on a NETLINK_KOBJECT_UEVENT socket to group 2 (MONITOR_GROUP_UDEV).
class UeventSender {
public:
    UeventSender() = default;
    ~UeventSender();
    UeventSender(const UeventSender&) = delete;
    UeventSender& operator=(const UeventSender&) = delete;

    /// @brief Opens the socket after checking isPrivateNetns(); on failure returns false and
    /// sets @p error to a sentence saying why.
    bool open(std::string& error);

    /// @brief Sends one event. @p devpath is relative to /sys ("/devices/..."); @p vars are
    /// extra KEY=VALUE pairs (DEVNAME, MODALIAS, MAJOR, MINOR, ...). Returns false with errno
    /// set on failure: EINVAL (malformed event), EMSGSIZE (> 2048 bytes), EBADF (not open).
    bool send(const std::string& action, const std::string& devpath, const std::string& subsystem,
              const std::vector<std::pair<std::string, std::string>>& vars);

    /// @brief The SEQNUM the next event will carry.
    uint64_t nextSeqnum() const { return seqnum_; }

private:
    int fd_ = -1;
    uint64_t seqnum_ = 1;
};

/// @brief True when this process is in a network namespace of its own (not the one of pid 1,
/// and with no interface but loopback), so that fake uevents cannot reach the host's udev
/// listeners. @p why explains a false answer.
bool isPrivateNetns(std::string& why);

/// @brief True when an event can be encoded unambiguously: non-empty ACTION without '@',
/// DEVPATH starting with '/', non-empty SUBSYSTEM, keys non-empty without '=', and no NUL
/// anywhere. UeventSender::send() refuses anything else with EINVAL.
bool validUevent(const std::string& action, const std::string& devpath,
                 const std::string& subsystem,
                 const std::vector<std::pair<std::string, std::string>>& vars);

/// @brief Encodes an event as the kernel does (for tests and the sender): ACTION, DEVPATH,
/// SUBSYSTEM, then @p vars in order, then SEQNUM.
std::string encodeUevent(const std::string& action, const std::string& devpath,
                         const std::string& subsystem, uint64_t seqnum,
                         const std::vector<std::pair<std::string, std::string>>& vars);

} // namespace rpmsgsim
