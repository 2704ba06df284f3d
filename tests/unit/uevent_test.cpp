// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "sim/uevent.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <net/if.h>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

using namespace rpmsgsim;
using namespace std::string_literals;

TEST(Uevent, EncodesLikeTheKernel) {
    EXPECT_EQ(encodeUevent("add", "/devices/virtual/test/rpmsg0", "rpmsg", 7,
                           {{"MAJOR", "240"}, {"MINOR", "0"}, {"DEVNAME", "rpmsg0"}}),
              "add@/devices/virtual/test/rpmsg0\0"
              "ACTION=add\0"
              "DEVPATH=/devices/virtual/test/rpmsg0\0"
              "SUBSYSTEM=rpmsg\0"
              "MAJOR=240\0"
              "MINOR=0\0"
              "DEVNAME=rpmsg0\0"
              "SEQNUM=7\0"s);
    EXPECT_EQ(
        encodeUevent("remove", "/devices/platform/x", "remoteproc", 18446744073709551615u, {}),
        "remove@/devices/platform/x\0"
        "ACTION=remove\0"
        "DEVPATH=/devices/platform/x\0"
        "SUBSYSTEM=remoteproc\0"
        "SEQNUM=18446744073709551615\0"s);
}

namespace {

// Interfaces of the current network namespace other than loopback.
std::string nonLoopbackInterfaces() {
    std::string names;
    if (struct if_nameindex* list = if_nameindex()) {
        for (auto* i = list; i->if_index != 0; ++i) {
            if (std::strcmp(i->if_name, "lo") != 0) {
                names += std::string(names.empty() ? "" : " ") + i->if_name;
            }
        }
        if_freenameindex(list);
    }
    return names;
}

// sd_device_monitor_new() silently disables itself without udevd unless /dev is devtmpfs.
bool monitorCanWork() {
    if (access("/run/udev/control", F_OK) == 0) {
        return true;
    }
    std::ifstream mounts("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mounts, line)) {
        std::istringstream in(line);
        std::string id, parent, devno, root, point, options, field;
        in >> id >> parent >> devno >> root >> point >> options;
        while (in >> field && field != "-") {
        }
        std::string type;
        in >> type;
        if (point == "/dev" && type == "devtmpfs") {
            return true;
        }
    }
    return false;
}

} // namespace

TEST(Uevent, HostNamespaceIsNotPrivate) {
    const std::string others = nonLoopbackInterfaces();
    if (others.empty()) {
        GTEST_SKIP() << "this test already runs in a namespace with loopback only";
    }
    std::string why;
    EXPECT_FALSE(isPrivateNetns(why));
    EXPECT_FALSE(why.empty());
    EXPECT_NE(why.find("unshare -n"), std::string::npos) << why;

    UeventSender sender;
    std::string error;
    EXPECT_FALSE(sender.open(error));
    EXPECT_EQ(error.rfind("refusing to send uevents: ", 0), 0u) << error;
    errno = 0;
    EXPECT_FALSE(sender.send("add", "/devices/x", "rpmsg", {}));
    EXPECT_EQ(errno, EBADF);
}

TEST(Uevent, SendRejectsMalformedEvents) {
    UeventSender sender; // validation comes before the socket is needed
    errno = 0;
    EXPECT_FALSE(sender.send("add", "/devices/x", "rpmsg", {{"A=B", "c"}}));
    EXPECT_EQ(errno, EINVAL);
    EXPECT_FALSE(sender.send("add", "devices/x", "rpmsg", {}));
    EXPECT_EQ(errno, EINVAL);
    EXPECT_FALSE(sender.send("add", "/devices/x", "", {}));
    EXPECT_EQ(errno, EINVAL);
    EXPECT_FALSE(sender.send("add", "/devices/x", "rpmsg", {{"DEVNAME", "a\0b"s}}));
    EXPECT_EQ(errno, EINVAL);
    EXPECT_FALSE(sender.send("add", "/devices/x", "rpmsg", {{"BIG", std::string(3000, 'x')}}));
    EXPECT_EQ(errno, EMSGSIZE);
    EXPECT_EQ(sender.nextSeqnum(), 1u);
}

namespace {

struct MonitorResult {
    bool got = false;
    std::string action, subsystem, devname, syspath;
    uint64_t seqnum = 0;
};

void record(sd_device* device, MonitorResult* r) {
    sd_device_action_t action = _SD_DEVICE_ACTION_INVALID;
    const char* value = nullptr;
    if (sd_device_get_action(device, &action) >= 0 && action == SD_DEVICE_ADD) {
        r->action = "add";
    } else {
        r->action = "other(" + std::to_string(static_cast<int>(action)) + ")";
    }
    if (sd_device_get_subsystem(device, &value) >= 0) {
        r->subsystem = value;
    }
    if (sd_device_get_devname(device, &value) >= 0) {
        r->devname = value;
    }
    if (sd_device_get_syspath(device, &value) >= 0) {
        r->syspath = value;
    }
    sd_device_get_seqnum(device, &r->seqnum);
    r->got = true;
}

// Runs in the forked child: returns the exit code, 77 = skip, and a message for the parent.
int monitorChild(std::string& message) {
    if (unshare(CLONE_NEWNET) != 0) {
        message = std::string("unshare(CLONE_NEWNET) failed: ") + std::strerror(errno);
        return 77;
    }
    std::string why;
    if (!isPrivateNetns(why)) {
        message = "isPrivateNetns() is false in a fresh network namespace: " + why;
        return 1;
    }
    sd_event* event = nullptr;
    sd_device_monitor* monitor = nullptr;
    int r = sd_event_new(&event);
    if (r < 0) {
        message = "sd_event_new: " + std::string(std::strerror(-r));
        return 1;
    }
    MonitorResult result;
    if ((r = sd_device_monitor_new(&monitor)) < 0 ||
        (r = sd_device_monitor_filter_add_match_subsystem_devtype(monitor, "rpmsg", nullptr)) < 0 ||
        (r = sd_device_monitor_attach_event(monitor, event)) < 0 ||
        (r = sd_device_monitor_start(
             monitor,
             [](sd_device_monitor* m, sd_device* d, void* userdata) -> int {
                 record(d, static_cast<MonitorResult*>(userdata));
                 return sd_event_exit(sd_device_monitor_get_event(m), 0);
             },
             &result)) < 0) {
        message = "setting up the sd_device_monitor failed: " + std::string(std::strerror(-r));
        return 1;
    }
    UeventSender sender;
    std::string error;
    if (!sender.open(error)) {
        message = "UeventSender::open: " + error;
        return 1;
    }
    // The first event must be filtered out by the monitor (other subsystem).
    if (!sender.send("add", "/devices/virtual/test/other0", "other", {}) ||
        !sender.send("add", "/devices/virtual/test/rpmsg0", "rpmsg", {{"DEVNAME", "rpmsg0"}})) {
        message = "UeventSender::send: " + std::string(std::strerror(errno));
        return 1;
    }
    if (sender.nextSeqnum() != 3) {
        message = "nextSeqnum() is " + std::to_string(sender.nextSeqnum()) + ", expected 3";
        return 1;
    }
    r = sd_event_add_time_relative(
        event, nullptr, CLOCK_MONOTONIC, 5'000'000, 1,
        [](sd_event_source* s, uint64_t, void*) -> int {
            return sd_event_exit(sd_event_source_get_event(s), ETIMEDOUT);
        },
        nullptr);
    if (r < 0) {
        message = "sd_event_add_time_relative: " + std::string(std::strerror(-r));
        return 1;
    }
    r = sd_event_loop(event);
    sd_device_monitor_unref(monitor);
    sd_event_unref(event);
    if (!result.got) {
        message = "the monitor received no rpmsg event within 5 s (loop result " +
                  std::to_string(r) + ")";
        return 1;
    }
    std::ostringstream got;
    got << "action=" << result.action << " subsystem=" << result.subsystem
        << " devname=" << result.devname << " syspath=" << result.syspath
        << " seqnum=" << result.seqnum;
    message = got.str();
    const bool ok = result.action == "add" && result.subsystem == "rpmsg" &&
                    result.devname == "/dev/rpmsg0" &&
                    result.syspath == "/sys/devices/virtual/test/rpmsg0" && result.seqnum == 2;
    return ok ? 0 : 1;
}

} // namespace

TEST(Uevent, SdDeviceMonitorSeesTheEvent) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root to create a network namespace and send to the udev group";
    }
    if (!monitorCanWork()) {
        GTEST_SKIP() << "no udevd (/run/udev/control) and /dev is not devtmpfs, so "
                        "sd_device_monitor disables itself";
    }
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        std::string message;
        const int code = monitorChild(message);
        ssize_t ignored = write(fds[1], message.data(), message.size());
        (void)ignored;
        _exit(code);
    }
    close(fds[1]);
    std::string message;
    char buf[512];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) {
            message.append(buf, static_cast<size_t>(n));
        }
    }
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child died: " << message;
    if (WEXITSTATUS(status) == 77) {
        GTEST_SKIP() << message;
    }
    EXPECT_EQ(WEXITSTATUS(status), 0) << message;
}
