// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Drives an sdbus-c++ 1.2 connection from sd-event. sdbus-c++ 1.2 has no sd-event attach and
// does not expose its sd_bus*, so the connection's poll data is mirrored into an io source and
// a timer before every loop iteration (docs/toolchain.md §1).

#include <sdbus-c++/IConnection.h>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace rpmsgd {

class BusBridge {
public:
    BusBridge(sdbus::IConnection& connection, sd_event* event);
    ~BusBridge();
    BusBridge(const BusBridge&) = delete;
    BusBridge& operator=(const BusBridge&) = delete;

private:
    static int onIo(sd_event_source*, int, uint32_t, void* userdata);
    static int onTime(sd_event_source*, uint64_t, void* userdata);
    static int onPrepare(sd_event_source*, void* userdata);
    void process();

    sdbus::IConnection& connection_;
    sd_event* event_;
    sd_event_source* io_ = nullptr;
    sd_event_source* timer_ = nullptr;
};

} // namespace rpmsgd
