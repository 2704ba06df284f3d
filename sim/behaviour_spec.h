// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The behaviour of a simulated remote, as stored in a firmware image's `.rpmsg_sim` section and
// written by users in `rpmsg-sim mkfw --spec` files. Pure parsing, no I/O.

#include <cstdint>
#include <string>
#include <vector>

namespace rpmsgsim {

/// @brief What a service does with the messages it receives.
enum class ServiceKind { Echo, Sink, Stream, Tty };

/// @brief The channel name drivers/tty/rpmsg_tty.c binds (its id table).
inline constexpr const char* TtyServiceName = "rpmsg-tty";

/// @brief One service of the remote.
struct ServiceSpec {
    std::string name;                     ///< announced name (at most 31 bytes)
    uint32_t addr = 0;                    ///< the remote's address for it
    ServiceKind kind = ServiceKind::Echo; ///< tty: echoes bytes, announced as rpmsg-tty
    bool announce = true;                 ///< send an NS CREATE at boot
    uint32_t rateHz = 0;                  ///< stream: messages per second
    uint32_t size = 0;                    ///< stream: payload bytes (at most rpmsgd::rpmsg::Mtu)
    uint32_t consumeEveryMs = 0;          ///< sink: how long each TX buffer is held
};

/// @brief Image-level options in the spec's "image" object (used by mkfw only).
struct ImageSpec {
    bool nameService = true;
    uint32_t traceLen = 1024;
    uint16_t machine = 40;
};

/// @brief The whole behaviour.
struct BehaviourSpec {
    uint32_t bootMs = 0;
    std::vector<ServiceSpec> services;
    std::vector<std::string> trace;
    uint32_t crashAfterMessages = 0; ///< 0 = never
    /// every this many ms after boot, write "trace line N" (N = 1, 2, ...) to the trace buffer;
    /// 0 = never. The buffer is a ring, so a live log wraps it.
    uint32_t traceEveryMs = 0;
    ImageSpec image;
};

/// @brief Result of parsing: the spec, or an error naming the JSON path
/// (`/services/1/kind: expected one of echo, sink, stream, tty, got "pong"`).
struct BehaviourParse {
    bool ok = false;
    BehaviourSpec spec;
    std::string error;
};

/// @brief Parses and fully validates a behaviour JSON text. Unknown keys are errors; names must
/// be 1..31 bytes; addresses must not be the name service's (53) or RPMSG_ADDR_ANY; addresses
/// and names unique; a tty service is named rpmsg-tty (the name rpmsg_tty binds); stream size 1 to
/// the MTU and rate 1..10000; boot_ms <= 600000.
BehaviourParse parseBehaviour(const std::string& json);

/// @brief Serialises a spec back to JSON (without the "image" object), as stored in images.
std::string behaviourToJson(const BehaviourSpec& spec);

/// @brief Name of a kind ("echo", "sink", "stream", "tty").
const char* kindName(ServiceKind kind);

} // namespace rpmsgsim
