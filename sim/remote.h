// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The simulated remote processor's firmware: services (echo, sink, stream), name-service
// announcements, trace output and crashes, driven by a BehaviourSpec. It knows nothing of FUSE
// or vrings: a transport gives it messages together with an opaque buffer token, and it hands
// the token back when it has consumed the buffer (or holds it, as a slow sink or a stalled
// remote does).

#include "behaviour_spec.h"
#include "common/rpmsg_abi.h"
#include "scheduler.h"
#include "trace_ring.h"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rpmsgsim {

inline constexpr uint32_t RpmsgNsCreate = 0;
inline constexpr uint32_t RpmsgNsDestroy = 1;
inline constexpr size_t RpmsgNsMsgSize = rpmsgd::rpmsg::NameSize + 8; // struct rpmsg_ns_msg

/// @brief What the engine needs from the transport it runs on.
class RemoteTransport {
public:
    virtual ~RemoteTransport() = default;
    /// @brief The remote sends one message to Linux (src = remote address).
    virtual void sendToLinux(uint32_t src, uint32_t dst, std::span<const uint8_t> payload) = 0;
    /// @brief The remote is done with a Linux->remote buffer.
    virtual void releaseBuffer(uint64_t token) = 0;
    /// @brief The remote crashed (watchdog, fatal error, ...).
    virtual void reportCrash(unsigned type) = 0;
    /// @brief The remote wrote a line to its trace buffer.
    virtual void trace(const std::string& line) = 0;
};

/// @brief Parses a decimal, 0x-hex or 0-octal unsigned 32-bit number (no sign, no junk).
bool parseU32(const std::string& s, uint32_t& out);

/// @brief Builds a 40-byte struct rpmsg_ns_msg (little-endian).
std::vector<uint8_t> encodeNsMessage(const std::string& name, uint32_t addr, uint32_t flags);

/// @brief One booted instance of a firmware.
class RemoteEngine {
public:
    RemoteEngine(BehaviourSpec spec, Scheduler& scheduler, RemoteTransport& transport);
    ~RemoteEngine();
    RemoteEngine(const RemoteEngine&) = delete;
    RemoteEngine& operator=(const RemoteEngine&) = delete;

    /// @brief The transport is up: after boot_ms, write the trace lines and announce services.
    void start();
    /// @brief A message from Linux to remote address @p dst, occupying buffer @p token.
    void receive(uint32_t src, uint32_t dst, std::span<const uint8_t> payload, uint64_t token);
    /// @brief Stop consuming messages (they and their buffers are held) / consume again.
    void stall();
    void resume();
    bool stalled() const { return stalled_; }
    /// @brief The remote is dead (crashed, no recovery): nothing runs, buffers stay held.
    void halt();
    /// @brief Announce / destroy a channel now (an echo service at @p addr for announce).
    void announce(const std::string& name, uint32_t addr);
    void destroy(const std::string& name, uint32_t addr);
    /// @brief Send @p payload from remote address @p src to Linux address @p dst.
    void send(uint32_t src, uint32_t dst, std::span<const uint8_t> payload);
    /// @brief The answer to control().
    struct CommandResult {
        bool ok = false;
        std::string text; ///< the output, or one sentence saying what was wrong
    };
    /// @brief The remote-control commands both transports take (the twin's `ctl` after its
    /// PROC argument, the vhost-user remote's control stream), arguments checked and errors
    /// worded alike: `stall`, `resume`, `announce NAME ADDR`, `destroy NAME ADDR`,
    /// `send SRC DST TEXT`, `peer ADDR`. The caller has checked the argument count.
    CommandResult control(const std::vector<std::string>& args);
    /// @brief Buffers currently held by the remote.
    size_t heldBuffers() const;
    /// @brief True when the remote has a service at @p addr (from the spec or announced).
    bool hasService(uint32_t addr) const;
    /// @brief The Linux address that last sent a message the service at @p addr consumed;
    /// nullopt when there is no such service or nothing has reached it yet.
    std::optional<uint32_t> lastSender(uint32_t addr) const;

private:
    struct Held {
        uint32_t src, dst;
        std::vector<uint8_t> payload;
        uint64_t token;
    };
    struct Service {
        ServiceSpec spec;
        uint32_t lastSender = rpmsgd::rpmsg::AddrAny; // none yet
        std::deque<uint64_t> sinkHeld;
        Timer timer;
        uint64_t counter = 0;
    };
    void process(Held msg);
    void drainBacklog();
    void sinkTick(uint32_t addr);
    void streamTick(uint32_t addr);
    void traceTick();

    BehaviourSpec spec_;
    Scheduler& scheduler_;
    RemoteTransport& transport_;
    std::map<uint32_t, Service> services_;
    std::deque<Held> backlog_;
    Timer bootTimer_;
    Timer traceTimer_;
    uint64_t traceLines_ = 0;
    bool booted_ = false;
    bool stalled_ = false;
    bool halted_ = false;
    uint64_t received_ = 0;
    bool draining_ = false;
};

} // namespace rpmsgsim
