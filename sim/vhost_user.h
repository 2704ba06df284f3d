// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The device side of virtio-rpmsg over vhost-user: `rpmsg-sim remote --vhost-user SOCKET`.
// A vhost-user front end (User-Mode Linux's virtio_uml) connects to SOCKET and hands over its
// memory and two split vrings; this backend plays the remote processor on them with the same
// RemoteEngine, and so the same firmware behaviours, as the FUSE twin. Facts it relies on:
// docs/real-kernel-lane.md §3.
//
// It also serves a line-based control stream (the twin's `ctl` vocabulary without PROC): each
// request is one line holding a JSON array of strings, each answer one line holding a JSON
// object, {"ok":true,"output":"..."} or {"ok":false,"error":"..."}.

#include "remote.h"
#include "scheduler.h"
#include "split_ring.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace rpmsgsim {

/// @brief One vhost-user virtio-rpmsg device backed by a RemoteEngine.
class VhostUserRemote : public RemoteTransport {
public:
    /// @param nameService offer VIRTIO_RPMSG_F_NS (the firmware's vdev has it)
    VhostUserRemote(sd_event* event, Scheduler& scheduler, BehaviourSpec spec, bool nameService);
    ~VhostUserRemote() override;
    VhostUserRemote(const VhostUserRemote&) = delete;
    VhostUserRemote& operator=(const VhostUserRemote&) = delete;

    /// @brief Listens on @p path (replacing a stale socket file); false with @p error on failure.
    bool listen(const std::string& path, std::string& error);
    /// @brief Serves a control stream on @p fd (owned from now on). A stream that ends is closed.
    void addControlStream(int fd);
    /// @brief Listens for control connections on a UNIX socket at @p path.
    bool listenControl(const std::string& path, std::string& error);
    /// @brief Runs one control request (also used by the stream); the answer's JSON line.
    std::string control(const std::vector<std::string>& args);

    /// @brief Called when the front end went away (EOF, protocol error) or hung up.
    void onDisconnect(std::function<void(const std::string& why)> fn) { onDisconnect_ = fn; }
    bool connected() const { return connFd_ >= 0; }

    // RemoteTransport
    void sendToLinux(uint32_t src, uint32_t dst, std::span<const uint8_t> payload) override;
    void releaseBuffer(uint64_t token) override;
    void reportCrash(unsigned type) override;
    void trace(const std::string& line) override;

private:
    struct Region {
        uint64_t guestAddr = 0, size = 0, userAddr = 0, mmapOffset = 0;
        uint8_t* base = nullptr; ///< the whole mapping (mmapOffset + size bytes)
        size_t mapLen = 0;
    };
    struct Vring : SplitRing {
        uint64_t descUser = 0, availUser = 0, usedUser = 0;
        int kickFd = -1, callFd = -1;
        sd_event_source* kickSource = nullptr;
        bool enabled = false;
    };
    struct Outgoing {
        uint32_t src, dst;
        std::vector<uint8_t> payload;
    };
    struct ControlStream {
        int fd = -1;
        sd_event_source* source = nullptr;
        std::string in;
    };

    static int onListen(sd_event_source*, int fd, uint32_t, void* self);
    static int onMessage(sd_event_source*, int fd, uint32_t, void* self);
    static int onKick(sd_event_source*, int fd, uint32_t, void* self);
    static int onControlListen(sd_event_source*, int fd, uint32_t, void* self);
    static int onControl(sd_event_source*, int fd, uint32_t, void* self);

    /// Reads and handles one message; false when the connection must end (@p why says why).
    bool handleMessage(std::string& why);
    void disconnect(const std::string& why);
    void unmapAll();
    void resetRing(Vring& vq);
    bool mapRing(Vring& vq, std::string& why);
    uint8_t* guestPtr(uint64_t addr, uint64_t len);
    uint8_t* userPtr(uint64_t addr, uint64_t len);
    bool ringReady(const Vring& vq) const;
    void processTx();
    void flushPending();
    bool deliver(const Outgoing& m);
    void scheduleCalls();
    void sendCalls();
    void closeControl(ControlStream* s);

    sd_event* event_;
    Scheduler& scheduler_;
    bool nameService_;
    GuestMemory memory_;
    std::unique_ptr<RemoteEngine> engine_;
    int listenFd_ = -1;
    std::string socketPath_;
    sd_event_source* listenSource_ = nullptr;
    int connFd_ = -1;
    sd_event_source* connSource_ = nullptr;
    int slaveFd_ = -1;
    uint64_t ackedFeatures_ = 0;
    uint64_t protocolFeatures_ = 0;
    std::vector<Region> regions_;
    Vring rings_[2];
    bool driverUp_ = false;
    bool hungUp_ = false;
    bool callsScheduled_ = false;
    std::deque<Outgoing> pending_;
    uint64_t dropped_ = 0;
    uint64_t toLinux_ = 0, fromLinux_ = 0;
    int controlListenFd_ = -1;
    sd_event_source* controlListenSource_ = nullptr;
    std::string controlPath_;
    std::vector<std::unique_ptr<ControlStream>> controls_;
    std::function<void(const std::string&)> onDisconnect_;
};

/// @brief Entry point of `rpmsg-sim remote ...`; argv[0] is "remote". Returns the exit code.
int runRemote(int argc, char** argv);

} // namespace rpmsgsim
