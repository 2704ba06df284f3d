// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "watcher.h"

#include "log.h"

#include <cstring>

#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

namespace rpmsgd {

bool isEndpointDeviceName(const char* sysname) {
    return sysname && strncmp(sysname, "rpmsg", 5) == 0 && sysname[5] >= '0' && sysname[5] <= '9';
}

Watcher::Watcher(sd_event* event, Scheduler& scheduler, std::function<void()> rescan,
                 std::function<void()> pollStates)
    : event_(event), scheduler_(scheduler), rescan_(std::move(rescan)),
      pollStates_(std::move(pollStates)) {}

Watcher::~Watcher() {
    stop();
}

void Watcher::stop() {
    if (monitor_) {
        sd_device_monitor_stop(monitor_);
        sd_device_monitor_unref(monitor_);
        monitor_ = nullptr;
    }
    pollTimer_.cancel();
    stateTimer_.cancel();
    kickTimer_.cancel();
}

bool Watcher::start(Mode mode, uint32_t pollIntervalMs, uint32_t stateIntervalMs,
                    std::string& error) {
    stop();
    mode_ = mode;
    pollMs_ = pollIntervalMs;
    stateMs_ = stateIntervalMs;
    if (mode == Mode::Udev) {
        int r = sd_device_monitor_new(&monitor_);
        for (const char* subsystem : {"remoteproc", "rpmsg", "devcoredump", "virtio"}) {
            if (r >= 0) {
                r = sd_device_monitor_filter_add_match_subsystem_devtype(monitor_, subsystem,
                                                                         nullptr);
            }
        }
        if (r >= 0) {
            r = sd_device_monitor_attach_event(monitor_, event_);
        }
        if (r >= 0) {
            r = sd_device_monitor_start(monitor_, &Watcher::onDevice, this);
        }
        if (r < 0) {
            error = std::string("cannot watch udev events: ") + strerror(-r);
            stop();
            return false;
        }
    } else {
        schedulePoll();
    }
    scheduleState();
    return true;
}

int Watcher::onDevice(sd_device_monitor*, sd_device* device, void* userdata) {
    auto* self = static_cast<Watcher*>(userdata);
    const char* path = nullptr;
    const char* sysname = nullptr;
    sd_device_get_devpath(device, &path);
    sd_device_get_sysname(device, &sysname);
    // Endpoint devices come and go with every Open and Close, mostly ours: a rescan for each
    // would be wasted work.
    if (isEndpointDeviceName(sysname)) {
        return 0;
    }
    log::debug(std::string("uevent for ") + (path ? path : "?"));
    self->kick();
    return 0;
}

void Watcher::kick() {
    if (kickTimer_.pending()) {
        return;
    }
    // Events come in bursts (a start adds a dozen devices): one rescan for the burst.
    kickTimer_ = scheduler_.after(5, [this] { rescan_(); });
}

void Watcher::schedulePoll() {
    // The poll, state and trace timers wake the daemon together (Scheduler::afterWithSlack):
    // an idle daemon wakes once per interval, not once per timer.
    pollTimer_ =
        scheduler_.afterWithSlack(pollMs_, Scheduler::housekeepingSlackMs(pollMs_), [this] {
            rescan_();
            schedulePoll();
        });
}

void Watcher::scheduleState() {
    stateTimer_ =
        scheduler_.afterWithSlack(stateMs_, Scheduler::housekeepingSlackMs(stateMs_), [this] {
            pollStates_();
            scheduleState();
        });
}

} // namespace rpmsgd
