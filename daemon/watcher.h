// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Turns "something may have changed" into registry rescans: udev events (sd_device_monitor on
// remoteproc, rpmsg, devcoredump and virtio) or a periodic rescan, plus a periodic read of
// every processor's `state`, which the kernel never announces.

#include "common/scheduler.h"

#include <cstdint>
#include <functional>
#include <string>

typedef struct sd_event sd_event;
typedef struct sd_device_monitor sd_device_monitor;
typedef struct sd_device sd_device;

namespace rpmsgd {

/// @brief True for endpoint devices (rpmsgN): they come and go with every Open and Close, and
/// nothing published depends on them, so their uevents cause no rescan.
bool isEndpointDeviceName(const char* sysname);

class Watcher {
public:
    enum class Mode { Udev, Poll };

    Watcher(sd_event* event, Scheduler& scheduler, std::function<void()> rescan,
            std::function<void()> pollStates);
    ~Watcher();
    Watcher(const Watcher&) = delete;
    Watcher& operator=(const Watcher&) = delete;

    /// @brief (Re)starts watching; false with @p error if the udev monitor cannot be set up.
    bool start(Mode mode, uint32_t pollIntervalMs, uint32_t stateIntervalMs, std::string& error);
    void stop();
    /// @brief Asks for a rescan soon, coalescing bursts of events into one.
    void kick();

private:
    static int onDevice(sd_device_monitor*, sd_device*, void* userdata);
    void schedulePoll();
    void scheduleState();

    sd_event* event_;
    Scheduler& scheduler_;
    std::function<void()> rescan_, pollStates_;
    sd_device_monitor* monitor_ = nullptr;
    Mode mode_ = Mode::Poll;
    uint32_t pollMs_ = 1000, stateMs_ = 1000;
    Timer pollTimer_, stateTimer_, kickTimer_;
};

} // namespace rpmsgd
