// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "bus_bridge.h"

#include "log.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#include <systemd/sd-event.h>

namespace rpmsgd {

BusBridge::BusBridge(sdbus::IConnection& connection, sd_event* event)
    : connection_(connection), event_(sd_event_ref(event)) {
    auto pd = connection_.getEventLoopPollData();
    int r = sd_event_add_io(event_, &io_, pd.fd, uint32_t(pd.events), &BusBridge::onIo, this);
    if (r < 0) {
        throw std::runtime_error("cannot watch the bus connection: " + std::to_string(r));
    }
    sd_event_source_set_prepare(io_, &BusBridge::onPrepare);
    // Accuracy 1 us: 0 would mean sd-event's 250 ms default slack.
    r = sd_event_add_time(event_, &timer_, CLOCK_MONOTONIC, UINT64_MAX, 1, &BusBridge::onTime,
                          this);
    if (r < 0) {
        throw std::runtime_error("cannot add the bus timer: " + std::to_string(r));
    }
    sd_event_source_set_enabled(timer_, SD_EVENT_OFF);
}

BusBridge::~BusBridge() {
    sd_event_source_disable_unref(io_);
    sd_event_source_disable_unref(timer_);
    sd_event_unref(event_);
}

void BusBridge::process() {
    try {
        while (connection_.processPendingRequest()) {
        }
    } catch (const std::exception& e) {
        // The connection is gone (e.g. the bus daemon exited): nothing can be served.
        log::error(std::string("Lost the bus connection: ") + e.what());
        sd_event_exit(event_, 1);
    }
}

int BusBridge::onIo(sd_event_source*, int, uint32_t, void* userdata) {
    static_cast<BusBridge*>(userdata)->process();
    return 0;
}

int BusBridge::onTime(sd_event_source*, uint64_t, void* userdata) {
    static_cast<BusBridge*>(userdata)->process();
    return 0;
}

int BusBridge::onPrepare(sd_event_source*, void* userdata) {
    auto* self = static_cast<BusBridge*>(userdata);
    auto pd = self->connection_.getEventLoopPollData();
    sd_event_source_set_io_events(self->io_, uint32_t(pd.events));
    if (pd.timeout_usec == UINT64_MAX) {
        sd_event_source_set_enabled(self->timer_, SD_EVENT_OFF);
    } else {
        sd_event_source_set_time(self->timer_, pd.timeout_usec);
        sd_event_source_set_enabled(self->timer_, SD_EVENT_ONESHOT);
    }
    return 0;
}

} // namespace rpmsgd
