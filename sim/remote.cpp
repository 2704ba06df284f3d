// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "remote.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace rpmsgsim {

namespace rpmsg = rpmsgd::rpmsg;

bool parseU32(const std::string& s, uint32_t& out) {
    if (s.empty() || s[0] == '-') {
        return false;
    }
    errno = 0;
    char* end = nullptr;
    unsigned long long v = strtoull(s.c_str(), &end, 0);
    if (errno || !end || *end || v > 0xFFFFFFFFull) {
        return false;
    }
    out = uint32_t(v);
    return true;
}

std::vector<uint8_t> encodeNsMessage(const std::string& name, uint32_t addr, uint32_t flags) {
    std::vector<uint8_t> msg(RpmsgNsMsgSize, 0);
    std::memcpy(msg.data(), name.data(), std::min<size_t>(name.size(), rpmsg::NameSize - 1));
    for (int i = 0; i < 4; ++i) {
        msg[32 + i] = uint8_t(addr >> (8 * i));
        msg[36 + i] = uint8_t(flags >> (8 * i));
    }
    return msg;
}

RemoteEngine::RemoteEngine(BehaviourSpec spec, Scheduler& scheduler, RemoteTransport& transport)
    : spec_(std::move(spec)), scheduler_(scheduler), transport_(transport) {
    for (const auto& s : spec_.services) {
        Service svc;
        svc.spec = s;
        services_.emplace(s.addr, std::move(svc));
    }
}

RemoteEngine::~RemoteEngine() = default;

void RemoteEngine::start() {
    bootTimer_ = scheduler_.after(spec_.bootMs, [this] {
        booted_ = true;
        for (const auto& line : spec_.trace) {
            transport_.trace(line);
        }
        for (auto& [addr, svc] : services_) {
            if (svc.spec.announce) {
                transport_.sendToLinux(addr, rpmsg::NsAddr,
                                       encodeNsMessage(svc.spec.name, addr, RpmsgNsCreate));
            }
            if (svc.spec.kind == ServiceKind::Stream && svc.spec.rateHz > 0) {
                streamTick(addr);
            }
        }
        if (spec_.traceEveryMs) {
            traceTimer_ = scheduler_.after(spec_.traceEveryMs, [this] { traceTick(); });
        }
        drainBacklog();
    });
}

void RemoteEngine::traceTick() {
    if (halted_) {
        return; // a crashed firmware writes nothing
    }
    transport_.trace("trace line " + std::to_string(++traceLines_));
    traceTimer_ = scheduler_.after(spec_.traceEveryMs, [this] { traceTick(); });
}

void RemoteEngine::receive(uint32_t src, uint32_t dst, std::span<const uint8_t> payload,
                           uint64_t token) {
    Held msg{src, dst, std::vector<uint8_t>(payload.begin(), payload.end()), token};
    if (halted_ || stalled_ || !booted_ || !backlog_.empty()) {
        backlog_.push_back(std::move(msg));
        return;
    }
    process(std::move(msg));
}

void RemoteEngine::process(Held msg) {
    if (halted_) {
        backlog_.push_back(std::move(msg));
        return;
    }
    ++received_;
    auto it = services_.find(msg.dst);
    if (it == services_.end()) {
        // No such service on the remote: the message is dropped, the buffer comes back.
        transport_.releaseBuffer(msg.token);
    } else {
        Service& svc = it->second;
        svc.lastSender = msg.src;
        switch (svc.spec.kind) {
        case ServiceKind::Echo:
        case ServiceKind::Tty: // the bytes of a console come back, one message per message
            transport_.releaseBuffer(msg.token);
            transport_.sendToLinux(msg.dst, msg.src, msg.payload);
            break;
        case ServiceKind::Stream:
            transport_.releaseBuffer(msg.token);
            break;
        case ServiceKind::Sink:
            if (svc.spec.consumeEveryMs == 0) {
                transport_.releaseBuffer(msg.token);
            } else {
                svc.sinkHeld.push_back(msg.token);
                if (!svc.timer.pending()) {
                    uint32_t addr = msg.dst;
                    svc.timer =
                        scheduler_.after(svc.spec.consumeEveryMs, [this, addr] { sinkTick(addr); });
                }
            }
            break;
        }
    }
    if (spec_.crashAfterMessages && received_ == spec_.crashAfterMessages) {
        transport_.reportCrash(1); // watchdog: the firmware stopped kicking it
    }
}

void RemoteEngine::sinkTick(uint32_t addr) {
    auto it = services_.find(addr);
    if (it == services_.end() || halted_) {
        return;
    }
    Service& svc = it->second;
    if (stalled_) {
        return; // resume() restarts the clock
    }
    if (!svc.sinkHeld.empty()) {
        uint64_t token = svc.sinkHeld.front();
        svc.sinkHeld.pop_front();
        transport_.releaseBuffer(token);
    }
    if (!svc.sinkHeld.empty()) {
        svc.timer = scheduler_.after(svc.spec.consumeEveryMs, [this, addr] { sinkTick(addr); });
    }
}

void RemoteEngine::streamTick(uint32_t addr) {
    auto it = services_.find(addr);
    if (it == services_.end() || halted_) {
        return;
    }
    Service& svc = it->second;
    if (svc.lastSender != rpmsg::AddrAny) {
        std::vector<uint8_t> payload(svc.spec.size, 0);
        uint64_t n = svc.counter++;
        for (size_t i = 0; i < payload.size(); ++i) {
            payload[i] = i < 8 ? uint8_t(n >> (8 * i)) : uint8_t(i);
        }
        transport_.sendToLinux(addr, svc.lastSender, payload);
    }
    uint64_t periodMs = std::max<uint64_t>(1, 1000 / svc.spec.rateHz);
    svc.timer = scheduler_.after(periodMs, [this, addr] { streamTick(addr); });
}

void RemoteEngine::drainBacklog() {
    if (draining_) {
        return;
    }
    draining_ = true;
    while (!backlog_.empty() && !stalled_ && !halted_ && booted_) {
        Held msg = std::move(backlog_.front());
        backlog_.pop_front();
        process(std::move(msg));
    }
    draining_ = false;
}

void RemoteEngine::stall() {
    stalled_ = true;
}

void RemoteEngine::resume() {
    if (!stalled_) {
        return;
    }
    stalled_ = false;
    for (auto& [addr, svc] : services_) {
        if (!svc.sinkHeld.empty() && !svc.timer.pending() && svc.spec.kind == ServiceKind::Sink) {
            uint32_t a = addr;
            svc.timer = scheduler_.after(svc.spec.consumeEveryMs, [this, a] { sinkTick(a); });
        }
    }
    drainBacklog();
}

void RemoteEngine::halt() {
    halted_ = true;
    bootTimer_.cancel();
    traceTimer_.cancel();
    for (auto& [addr, svc] : services_) {
        svc.timer.cancel();
    }
}

void RemoteEngine::announce(const std::string& name, uint32_t addr) {
    if (halted_) {
        return;
    }
    if (!services_.count(addr)) {
        Service svc;
        svc.spec.name = name;
        svc.spec.addr = addr;
        svc.spec.kind = ServiceKind::Echo;
        services_.emplace(addr, std::move(svc));
    }
    transport_.sendToLinux(addr, rpmsg::NsAddr, encodeNsMessage(name, addr, RpmsgNsCreate));
}

void RemoteEngine::destroy(const std::string& name, uint32_t addr) {
    if (halted_) {
        return;
    }
    transport_.sendToLinux(addr, rpmsg::NsAddr, encodeNsMessage(name, addr, RpmsgNsDestroy));
}

void RemoteEngine::send(uint32_t src, uint32_t dst, std::span<const uint8_t> payload) {
    if (halted_) {
        return;
    }
    transport_.sendToLinux(src, dst, payload);
}

size_t RemoteEngine::heldBuffers() const {
    size_t n = backlog_.size();
    for (const auto& [addr, svc] : services_) {
        n += svc.sinkHeld.size();
    }
    return n;
}

RemoteEngine::CommandResult RemoteEngine::control(const std::vector<std::string>& args) {
    const std::string& cmd = args.at(0);
    if (cmd == "stall") {
        stall();
        return {true, ""};
    }
    if (cmd == "resume") {
        resume();
        return {true, ""};
    }
    if (cmd == "announce" || cmd == "destroy") {
        uint32_t addr = 0;
        if (!parseU32(args.at(2), addr) || addr == rpmsg::AddrAny || addr == rpmsg::NsAddr) {
            return {false, "address \"" + args[2] + "\" is not a valid remote address"};
        }
        if (args[1].empty() || args[1].size() > rpmsg::NameSize - 1) {
            return {false,
                    "channel name must be 1 to " + std::to_string(rpmsg::NameSize - 1) + " bytes"};
        }
        if (cmd == "announce") {
            announce(args[1], addr);
        } else {
            destroy(args[1], addr);
        }
        return {true, ""};
    }
    if (cmd == "send") {
        uint32_t src = 0, dst = 0;
        if (!parseU32(args.at(1), src) || !parseU32(args.at(2), dst)) {
            return {false, "SRC and DST must be numbers"};
        }
        if (args.at(3).size() > rpmsg::Mtu) {
            return {false, "TEXT is longer than " + std::to_string(rpmsg::Mtu) + " bytes"};
        }
        const auto* data = reinterpret_cast<const uint8_t*>(args[3].data());
        send(src, dst, std::span<const uint8_t>(data, args[3].size()));
        return {true, ""};
    }
    if (cmd == "peer") {
        uint32_t addr = 0;
        if (!parseU32(args.at(1), addr)) {
            return {false, "address \"" + args[1] + "\" is not a number"};
        }
        if (!hasService(addr)) {
            return {false, "the remote has no service at address " + args[1]};
        }
        const auto sender = lastSender(addr);
        if (!sender) {
            return {false, "no message has reached service " + args[1] + " yet"};
        }
        return {true, std::to_string(*sender) + "\n"};
    }
    return {false, "unknown remote command \"" + cmd + "\""};
}

bool RemoteEngine::hasService(uint32_t addr) const {
    return services_.count(addr) != 0;
}

std::optional<uint32_t> RemoteEngine::lastSender(uint32_t addr) const {
    auto it = services_.find(addr);
    if (it == services_.end() || it->second.lastSender == rpmsg::AddrAny) {
        return std::nullopt;
    }
    return it->second.lastSender;
}

} // namespace rpmsgsim
