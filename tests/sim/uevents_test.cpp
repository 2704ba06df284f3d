// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// --uevents: kernel-format uevents on the udev netlink group, seen by sd_device_monitor, and
// only inside a private network namespace (docs/simulator.md "--uevents"; docs/toolchain.md §3).

#include "fd_io.h"
#include "sim_fixture.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <sched.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

namespace simtest {
namespace {

class Uevents : public SimTest {};

TEST_F(Uevents, RefusedOutsideAPrivateNetworkNamespace) {
    ASSERT_NO_FATAL_FAILURE(makeFirmware("echo.elf", echoSpec()));
    SimOptions options;
    options.config = defaultConfig();
    options.uevents = true;
    options.readyTimeout = 10s;
    std::string error;
    const bool started = sim().start(options, error);
    EXPECT_FALSE(started) << "the sim must refuse --uevents in the host's network namespace";
    if (started) {
        return;
    }
    const auto status = sim().waitExit(1s);
    ASSERT_TRUE(status.has_value()) << error;
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << *status;
    EXPECT_NE(error.find("network namespace"), std::string::npos) << error;
    EXPECT_FALSE(isMounted(sim().mountDir()));
}

struct SeenEvent {
    std::string action, subsystem, devname, devpath, modalias, seqnum;
};

int onDeviceEvent(sd_device_monitor*, sd_device* d, void* userdata) {
    auto* events = static_cast<std::vector<SeenEvent>*>(userdata);
    SeenEvent e;
    sd_device_action_t action{};
    if (sd_device_get_action(d, &action) >= 0) {
        e.action = action == SD_DEVICE_ADD      ? "add"
                   : action == SD_DEVICE_REMOVE ? "remove"
                                                : "other";
    }
    const char* v = nullptr;
    if (sd_device_get_subsystem(d, &v) >= 0 && v != nullptr) {
        e.subsystem = v;
    }
    if (sd_device_get_property_value(d, "DEVNAME", &v) >= 0 && v != nullptr) {
        e.devname = v;
    }
    if (sd_device_get_devpath(d, &v) >= 0 && v != nullptr) {
        e.devpath = v;
    }
    if (sd_device_get_property_value(d, "MODALIAS", &v) >= 0 && v != nullptr) {
        e.modalias = v;
    }
    if (sd_device_get_property_value(d, "SEQNUM", &v) >= 0 && v != nullptr) {
        e.seqnum = v;
    }
    events->push_back(e);
    return 0;
}

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Runs in a forked child: private netns, monitor, sim with --uevents, start, collect events.
// Writes "event\tACTION\tSUBSYSTEM\tDEVNAME\tDEVPATH\tMODALIAS\tSEQNUM" lines (and "error\t..."
// or "skip\t...") to @p out.
int ueventChild(const std::string& root, int out) {
    std::ostringstream report;
    const auto finish = [&](int rc) {
        const std::string text = report.str();
        (void)!::write(out, text.data(), text.size());
        return rc;
    };
    if (::unshare(CLONE_NEWNET) != 0) {
        report << "skip\tunshare(CLONE_NEWNET): " << std::strerror(errno) << "\n";
        return finish(0);
    }
    sd_event* ev = nullptr;
    sd_device_monitor* mon = nullptr;
    std::vector<SeenEvent> events;
    int r = sd_event_new(&ev);
    if (r >= 0) {
        r = sd_device_monitor_new(&mon);
    }
    if (r >= 0) {
        r = sd_device_monitor_filter_add_match_subsystem_devtype(mon, "rpmsg", nullptr);
    }
    if (r >= 0) {
        r = sd_device_monitor_attach_event(mon, ev);
    }
    if (r >= 0) {
        r = sd_device_monitor_start(mon, onDeviceEvent, &events);
    }
    if (r < 0) {
        report << "error\tsd_device_monitor setup: " << std::strerror(-r) << "\n";
        return finish(1);
    }
    int rc = 0;
    {
        Sim sim(root);
        SimOptions options;
        options.config = defaultConfig();
        options.uevents = true;
        std::string error;
        if (!sim.start(options, error)) {
            report << "error\tthe sim did not start with --uevents in a private netns: " << error
                   << "\n";
            rc = 1;
        } else {
            const int w = writeFile(sim.path("sys/class/remoteproc/remoteproc0/state"), "start");
            if (w != 0) {
                report << "error\tstart: " << std::strerror(w > 0 ? w : EIO) << "\n";
                rc = 1;
            }
            const auto seen = [&](const std::string& devpathSuffix) {
                for (const auto& e : events) {
                    if (e.action == "add" && endsWith(e.devpath, devpathSuffix)) {
                        return true;
                    }
                }
                return false;
            };
            const auto deadline = std::chrono::steady_clock::now() + 5s;
            while (rc == 0 && std::chrono::steady_clock::now() < deadline &&
                   !(seen("/rpmsg_ctrl0") && seen("/virtio0.rpmsg-echo.-1.1024"))) {
                sd_event_run(ev, 50'000);
            }
            // Stop: remove events follow.
            writeFile(sim.path("sys/class/remoteproc/remoteproc0/state"), "stop");
            const auto deadline2 = std::chrono::steady_clock::now() + 2s;
            const auto removed = [&] {
                for (const auto& e : events) {
                    if (e.action == "remove" && endsWith(e.devpath, "/rpmsg_ctrl0")) {
                        return true;
                    }
                }
                return false;
            };
            while (rc == 0 && std::chrono::steady_clock::now() < deadline2 && !removed()) {
                sd_event_run(ev, 50'000);
            }
        }
        sim.shutdown();
        if (rc != 0) {
            report << "log\t" << sim.log() << "\n";
        }
    }
    for (const auto& e : events) {
        report << "event\t" << e.action << "\t" << e.subsystem << "\t" << e.devname << "\t"
               << e.devpath << "\t" << e.modalias << "\t" << e.seqnum << "\n";
    }
    sd_device_monitor_unref(mon);
    sd_event_unref(ev);
    return finish(rc);
}

TEST_F(Uevents, MonitorSeesAddAndRemoveEventsInPrivateNetns) {
    ASSERT_NO_FATAL_FAILURE(makeFirmware("echo.elf", echoSpec()));
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    const std::string root = sim().root();
    const int rc = runInChild(
        [&] {
            ::close(p[0]);
            return ueventChild(root, p[1]);
        },
        60s);
    ::close(p[1]);
    const std::string text = harness::readToEnd(p[0]);
    ::close(p[0]);
    if (std::getenv("SIMTEST_VERBOSE") != nullptr) {
        std::cout << text;
    }
    if (text.rfind("skip\t", 0) == 0) {
        GTEST_SKIP() << text.substr(5);
    }
    ASSERT_EQ(rc, 0) << text;

    std::vector<std::vector<std::string>> events;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::vector<std::string> f;
        std::istringstream fields(line);
        std::string field;
        while (std::getline(fields, field, '\t')) {
            f.push_back(field);
        }
        if (!f.empty() && f[0] == "event") {
            f.resize(7);
            events.push_back(f);
        }
    }
    const auto find = [&](const std::string& action, const std::string& suffix) {
        for (const auto& e : events) {
            if (e[1] == action && endsWith(e[4], suffix)) {
                return e;
            }
        }
        return std::vector<std::string>();
    };
    const auto ctrl = find("add", "/rpmsg_ctrl0");
    ASSERT_FALSE(ctrl.empty()) << "no add event for rpmsg_ctrl0:\n" << text;
    EXPECT_EQ(ctrl[2], "rpmsg");
    EXPECT_TRUE(ctrl[3] == "rpmsg_ctrl0" || ctrl[3] == "/dev/rpmsg_ctrl0") << ctrl[3];
    EXPECT_EQ(ctrl[4].rfind("/devices/platform/sim-cm4/remoteproc/remoteproc0/", 0), 0u) << ctrl[4];
    EXPECT_FALSE(ctrl[6].empty()) << "SEQNUM";

    const auto chan = find("add", "/virtio0.rpmsg-echo.-1.1024");
    ASSERT_FALSE(chan.empty()) << "no add event for the channel:\n" << text;
    EXPECT_EQ(chan[2], "rpmsg");
    EXPECT_EQ(chan[5], "rpmsg:rpmsg-echo");

    EXPECT_FALSE(find("remove", "/rpmsg_ctrl0").empty()) << "no remove event at stop:\n" << text;
    // Sequence numbers increase.
    long last = -1;
    for (const auto& e : events) {
        if (!e[6].empty()) {
            const long s = std::stol(e[6]);
            EXPECT_GT(s, last);
            last = s;
        }
    }
}

} // namespace
} // namespace simtest
