// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// `rpmsg-sim remote --rproc DEVICE`: the firmware of a remote processor that the kernel's own
// remoteproc core runs, played by the same RemoteEngine as the twin and the vhost-user remote.
// DEVICE is the processor's side of the real-kernel lane's test driver
// (tests/uml/kernel/driver/virtual_rproc.c, /dev/virtual-rproc-NAME): it says when the
// processor leaves reset and where its memory and the booted image are, carries kicks both
// ways and crash reports to the kernel, and maps guest-physical memory. Like real firmware, the
// remote finds the resource table the kernel loaded into its memory (at the address its image
// was linked for), waits for the virtio driver to be ready, reads the vring addresses the kernel
// wrote there, serves the vrings, announces its services, writes its trace lines into its trace
// buffer, and stops when the processor is put into reset.

#include "remote.h"
#include "scheduler.h"
#include "split_ring.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace rpmsgsim {

/// @brief The firmware of one processor of the virtual_rproc driver, across its boots.
class RprocRemote : public RemoteTransport {
public:
    RprocRemote(sd_event* event, Scheduler& scheduler);
    ~RprocRemote() override;
    RprocRemote(const RprocRemote&) = delete;
    RprocRemote& operator=(const RprocRemote&) = delete;

    /// @brief Opens the processor's device @p path; false with @p error on failure.
    bool open(const std::string& path, std::string& error);

    // RemoteTransport
    void sendToLinux(uint32_t src, uint32_t dst, std::span<const uint8_t> payload) override;
    void releaseBuffer(uint64_t token) override;
    void reportCrash(unsigned type) override;
    void trace(const std::string& line) override;

private:
    struct Outgoing {
        uint32_t src, dst;
        std::vector<uint8_t> payload;
    };
    /// One boot of the processor: from "start" to "stop".
    struct Boot {
        uint8_t* ram = nullptr;
        size_t ramLen = 0;
        uint64_t memPa = 0, memDa = 0, memSize = 0;
        uint8_t* table = nullptr; ///< the loaded resource table, in the processor's memory
        uint64_t tableSize = 0;
        uint32_t vdevOffset = 0;
        bool hasVdev = false;
        uint8_t* traceBuf = nullptr;
        uint32_t traceLen = 0, traceUsed = 0;
        SplitRing rings[2];
        uint32_t notifyId[2] = {0, 0};
        bool driverUp = false;
        bool crashed = false;
        std::deque<Outgoing> pending;
        std::unique_ptr<RemoteEngine> engine;
    };

    static int onEvent(sd_event_source*, int fd, uint32_t, void* self);
    void handle(const std::string& line);
    void start(const std::string& args);
    void stop();
    void kicked(uint32_t id);
    /// True while the virtio driver is ready (DRIVER_OK in the vdev's status); finds the vrings
    /// the first time it is.
    bool driverReady();
    uint8_t* deviceMemory(uint64_t da, uint64_t len) const;
    uint8_t* physical(uint64_t pa, uint64_t len) const;
    void processTx();
    void flushPending();
    void sendCalls();
    void command(const std::string& line);

    sd_event* event_;
    Scheduler& scheduler_;
    int fd_ = -1;
    std::string path_;
    sd_event_source* source_ = nullptr;
    std::string in_;
    std::unique_ptr<Boot> boot_;
    GuestMemory memory_;
    bool callsScheduled_ = false;
};

/// @brief `rpmsg-sim remote --rproc DEVICE`: serves the processor until SIGTERM/SIGINT.
int runRprocRemote(const std::string& device);

} // namespace rpmsgsim
