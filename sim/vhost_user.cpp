// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The vhost-user protocol side of `rpmsg-sim remote` (the vhost-user specification of QEMU,
// docs/interop/vhost-user.rst, as User-Mode Linux's arch/um/drivers/virtio_uml.c speaks it in
// Linux 6.1 and 6.6): the listening socket, one front-end connection, the handshake (features
// with VIRTIO_F_VERSION_1 and, with the firmware's vdev, VIRTIO_RPMSG_F_NS; protocol features
// REPLY_ACK and SLAVE_REQ), the memory table, the vring set-up messages with their kick and
// call fds, and the end of the connection. The rings are vhost_user_rings.cpp, the rpmsg
// device on them vhost_user_rpmsg.cpp.

#include "vhost_user.h"

#include "vhost_user_wire.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-event.h>

namespace rpmsgsim {

using namespace vhost;

namespace {

// vhost-user requests (front end -> back end) this backend knows.
enum : uint32_t {
    GetFeatures = 1,
    SetFeatures = 2,
    SetOwner = 3,
    ResetOwner = 4,
    SetMemTable = 5,
    SetLogBase = 6,
    SetLogFd = 7,
    SetVringNum = 8,
    SetVringAddr = 9,
    SetVringBase = 10,
    GetVringBase = 11,
    SetVringKick = 12,
    SetVringCall = 13,
    SetVringErr = 14,
    GetProtocolFeatures = 15,
    SetProtocolFeatures = 16,
    GetQueueNum = 17,
    SetVringEnable = 18,
    SetSlaveReqFd = 21,
    GetConfig = 24,
    SetConfig = 25,
};

constexpr uint32_t FlagVersion = 0x1;
constexpr uint32_t FlagReply = 0x4;
constexpr uint32_t FlagNeedReply = 0x8;
constexpr uint64_t VringFdInvalid = 1u << 8;
constexpr uint64_t VringIndexMask = 0xff;

constexpr uint64_t FeatureRpmsgNs = 1ull << 0;
constexpr uint64_t FeatureProtocolFeatures = 1ull << 30;
constexpr uint64_t FeatureVersion1 = 1ull << 32;
constexpr uint64_t ProtocolReplyAck = 1ull << 3;
constexpr uint64_t ProtocolSlaveReq = 1ull << 5;

constexpr size_t MaxMessage = 4096; // a vhost-user payload; the memory table is 264 bytes
constexpr size_t MaxRegions = 8;

} // namespace

namespace vhost {

int serveReady(sd_event* event, const std::string& what) {
    std::cout << "ready " << what << std::endl;
    const int r = sd_event_loop(event);
    if (r < 0) {
        std::cerr << "rpmsg-sim remote: event loop failed: " << strerror(-r) << "\n";
        return 1;
    }
    return 0;
}

bool writeAll(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            if (poll(&p, 1, 5000) <= 0) {
                return false;
            }
            continue;
        }
        if (n <= 0) {
            return false;
        }
        off += size_t(n);
    }
    return true;
}

int listenUnix(const std::string& path, std::string& error) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        error = path + ": a UNIX socket path must be 1 to " +
                std::to_string(sizeof addr.sun_path - 1) + " bytes";
        return -1;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        error = std::string("socket: ") + strerror(errno);
        return -1;
    }
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path.c_str()); // a stale socket of an earlier run
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(fd, 4) < 0) {
        error = path + ": " + strerror(errno);
        close(fd);
        return -1;
    }
    return fd;
}

} // namespace vhost

VhostUserRemote::VhostUserRemote(sd_event* event, Scheduler& scheduler, BehaviourSpec spec,
                                 bool nameService)
    : event_(event), scheduler_(scheduler), nameService_(nameService),
      memory_([this](uint64_t addr, uint64_t len) { return guestPtr(addr, len); }),
      engine_(std::make_unique<RemoteEngine>(std::move(spec), scheduler, *this)) {}

VhostUserRemote::~VhostUserRemote() {
    engine_->halt();
    disconnect("");
    for (auto& c : controls_) {
        sd_event_source_disable_unref(c->source);
        close(c->fd);
    }
    sd_event_source_disable_unref(listenSource_);
    if (listenFd_ >= 0) {
        close(listenFd_);
        unlink(socketPath_.c_str());
    }
    sd_event_source_disable_unref(controlListenSource_);
    if (controlListenFd_ >= 0) {
        close(controlListenFd_);
        unlink(controlPath_.c_str());
    }
}

bool VhostUserRemote::listen(const std::string& path, std::string& error) {
    listenFd_ = listenUnix(path, error);
    if (listenFd_ < 0) {
        return false;
    }
    socketPath_ = path;
    sd_event_add_io(event_, &listenSource_, listenFd_, EPOLLIN, onListen, this);
    return true;
}

int VhostUserRemote::onListen(sd_event_source*, int fd, uint32_t, void* p) {
    auto* self = static_cast<VhostUserRemote*>(p);
    int conn = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
        return 0;
    }
    if (self->connFd_ >= 0 || self->hungUp_) {
        logLine("refusing a second front-end connection (one guest per remote)");
        close(conn);
        return 0;
    }
    logLine("front end connected");
    self->connFd_ = conn;
    sd_event_add_io(self->event_, &self->connSource_, conn, EPOLLIN, onMessage, self);
    return 0;
}

int VhostUserRemote::onMessage(sd_event_source*, int, uint32_t, void* p) {
    auto* self = static_cast<VhostUserRemote*>(p);
    std::string why;
    if (!self->handleMessage(why)) {
        self->disconnect(why);
    }
    return 0;
}

bool VhostUserRemote::handleMessage(std::string& why) {
    uint8_t header[12];
    iovec iov{header, sizeof header};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * MaxRegions)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(connFd_, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
    if (n == 0) {
        why = "the front end closed the connection (the guest went away)";
        return false;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return true;
        }
        why = std::string("reading from the front end: ") + strerror(errno);
        return false;
    }
    std::vector<int> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                fds.push_back(fd);
            }
        }
    }
    // Every fd this message carried is either kept by the handler below or closed here.
    struct FdGuard {
        std::vector<int>& fds;
        ~FdGuard() {
            for (int fd : fds) {
                if (fd >= 0) {
                    close(fd);
                }
            }
        }
        int take(size_t i) {
            int fd = i < fds.size() ? fds[i] : -1;
            if (i < fds.size()) {
                fds[i] = -1;
            }
            return fd;
        }
    } guard{fds};
    if (size_t(n) != sizeof header || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        why = "a truncated message header from the front end";
        return false;
    }
    const uint32_t request = get32(header);
    const uint32_t flags = get32(header + 4);
    const uint32_t size = get32(header + 8);
    if (size > MaxMessage) {
        why = "request " + std::to_string(request) + " has a " + std::to_string(size) +
              "-byte payload (at most " + std::to_string(MaxMessage) + ")";
        return false;
    }
    std::vector<uint8_t> body(size);
    size_t got = 0;
    while (got < size) {
        ssize_t r = recv(connFd_, body.data() + got, size - got, MSG_WAITALL);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            why = "the front end went away in the middle of request " + std::to_string(request);
            return false;
        }
        got += size_t(r);
    }
    auto need = [&](size_t bytes) {
        if (size < bytes) {
            why = "request " + std::to_string(request) + " has " + std::to_string(size) +
                  " payload bytes, expected " + std::to_string(bytes);
            return false;
        }
        return true;
    };
    auto reply = [&](const uint8_t* data, uint32_t len) {
        std::vector<uint8_t> out(12 + len);
        put32(out.data(), request);
        put32(out.data() + 4, FlagVersion | FlagReply);
        put32(out.data() + 8, len);
        std::memcpy(out.data() + 12, data, len);
        std::string s(reinterpret_cast<const char*>(out.data()), out.size());
        return writeAll(connFd_, s);
    };
    auto reply64 = [&](uint64_t v) {
        uint64_t le = htole64(v);
        return reply(reinterpret_cast<const uint8_t*>(&le), 8);
    };
    auto ringOf = [&](uint64_t index) -> Vring* {
        if (index >= 2) {
            why = "request " + std::to_string(request) + " names vring " + std::to_string(index) +
                  " (virtio-rpmsg has 2)";
            return nullptr;
        }
        return &rings_[index];
    };
    bool ok = true; // what a REPLY_ACK answers
    switch (request) {
    case GetFeatures: {
        uint64_t f =
            FeatureVersion1 | FeatureProtocolFeatures | (nameService_ ? FeatureRpmsgNs : 0);
        return reply64(f);
    }
    case SetFeatures:
        if (!need(8)) {
            return false;
        }
        ackedFeatures_ = get64(body.data());
        if (!(ackedFeatures_ & FeatureVersion1)) {
            logLine("the driver did not accept VIRTIO_F_VERSION_1; rings are little-endian anyway");
        }
        break;
    case GetProtocolFeatures:
        return reply64(ProtocolReplyAck | ProtocolSlaveReq);
    case SetProtocolFeatures:
        if (!need(8)) {
            return false;
        }
        protocolFeatures_ = get64(body.data()) & (ProtocolReplyAck | ProtocolSlaveReq);
        break;
    case GetQueueNum:
        return reply64(2);
    case SetOwner:
    case ResetOwner:
    case SetLogBase:
    case SetLogFd:
    case SetConfig:
        break;
    case SetSlaveReqFd:
        if (slaveFd_ >= 0) {
            close(slaveFd_);
        }
        slaveFd_ = guard.take(0);
        break;
    case SetMemTable: {
        if (!need(8)) {
            return false;
        }
        uint32_t count = get32(body.data());
        if (count == 0 || count > MaxRegions || size < 8 + 32 * count || fds.size() != count) {
            why = "SET_MEM_TABLE with " + std::to_string(count) + " regions and " +
                  std::to_string(fds.size()) + " fds";
            return false;
        }
        unmapAll();
        for (uint32_t i = 0; i < count; ++i) {
            const uint8_t* r = body.data() + 8 + 32 * i;
            Region reg;
            reg.guestAddr = get64(r);
            reg.size = get64(r + 8);
            reg.userAddr = get64(r + 16);
            reg.mmapOffset = get64(r + 24);
            reg.mapLen = size_t(reg.size + reg.mmapOffset);
            int fd = guard.take(i);
            void* base = mmap(nullptr, reg.mapLen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            close(fd);
            if (base == MAP_FAILED) {
                why = "mapping guest memory region " + std::to_string(i) + " (" + hex(reg.size) +
                      " bytes at offset " + hex(reg.mmapOffset) + "): " + strerror(errno);
                return false;
            }
            reg.base = static_cast<uint8_t*>(base);
            regions_.push_back(reg);
            logLine("guest memory " + std::to_string(i) + ": " + hex(reg.guestAddr) + "+" +
                    hex(reg.size));
        }
        // Rings set up before a new table must be translated again.
        for (auto& vq : rings_) {
            if (vq.descUser && !mapRing(vq, why)) {
                return false;
            }
        }
        break;
    }
    case SetVringNum: {
        if (!need(8)) {
            return false;
        }
        Vring* vq = ringOf(get32(body.data()));
        if (!vq) {
            return false;
        }
        uint32_t num = get32(body.data() + 4);
        if (num == 0 || num > 32768 || (num & (num - 1))) {
            why = "vring size " + std::to_string(num) + " is not a power of 2 up to 32768";
            return false;
        }
        vq->num = num;
        break;
    }
    case SetVringBase: {
        if (!need(8)) {
            return false;
        }
        Vring* vq = ringOf(get32(body.data()));
        if (!vq) {
            return false;
        }
        vq->lastAvail = uint16_t(get32(body.data() + 4));
        vq->usedIdx = vq->lastAvail;
        break;
    }
    case SetVringAddr: {
        if (!need(40)) {
            return false;
        }
        Vring* vq = ringOf(get32(body.data()));
        if (!vq) {
            return false;
        }
        vq->descUser = get64(body.data() + 8);
        vq->usedUser = get64(body.data() + 16);
        vq->availUser = get64(body.data() + 24);
        if (!mapRing(*vq, why)) {
            return false;
        }
        break;
    }
    case GetVringBase: {
        if (!need(8)) {
            return false;
        }
        uint32_t index = get32(body.data());
        Vring* vq = ringOf(index);
        if (!vq) {
            return false;
        }
        // The ring stops: the front end is taking it back.
        vq->enabled = false;
        uint8_t state[8];
        put32(state, index);
        put32(state + 4, vq->lastAvail);
        return reply(state, 8);
    }
    case SetVringKick:
    case SetVringCall:
    case SetVringErr: {
        if (!need(8)) {
            return false;
        }
        uint64_t u = get64(body.data());
        Vring* vq = ringOf(u & VringIndexMask);
        if (!vq) {
            return false;
        }
        int fd = (u & VringFdInvalid) ? -1 : guard.take(0);
        if (request == SetVringErr) {
            if (fd >= 0) {
                close(fd);
            }
            break;
        }
        if (!(u & VringFdInvalid) && fd < 0) {
            why = "SET_VRING_KICK/CALL without an fd";
            return false;
        }
        if (request == SetVringKick) {
            sd_event_source_disable_unref(vq->kickSource);
            vq->kickSource = nullptr;
            if (vq->kickFd >= 0) {
                close(vq->kickFd);
            }
            vq->kickFd = fd;
            if (fd >= 0) {
                sd_event_add_io(event_, &vq->kickSource, fd, EPOLLIN, onKick, this);
            } else {
                logLine("vring " + std::to_string(u & VringIndexMask) +
                        " has no kick fd: polling mode is not supported");
            }
        } else {
            if (vq->callFd >= 0) {
                close(vq->callFd);
            }
            vq->callFd = fd;
            if (fd >= 0) {
                // A full socket means a call is pending already; never block the guest on it.
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            }
        }
        break;
    }
    case SetVringEnable: {
        if (!need(8)) {
            return false;
        }
        uint32_t index = get32(body.data());
        Vring* vq = ringOf(index);
        if (!vq) {
            return false;
        }
        vq->enabled = get32(body.data() + 4) != 0;
        if (!vq->enabled && index == RxQueue && driverUp_) {
            logLine("the driver is going away (vring 0 disabled)");
        }
        break;
    }
    case GetConfig: {
        // virtio_rpmsg_bus never reads config space; answer with zeros of the asked size.
        if (!need(12)) {
            return false;
        }
        return reply(body.data(), size);
    }
    default:
        logLine("ignoring unknown request " + std::to_string(request));
        ok = false;
        break;
    }
    if ((flags & FlagNeedReply) && (protocolFeatures_ & ProtocolReplyAck)) {
        return reply64(ok ? 0 : 1);
    }
    return true;
}

void VhostUserRemote::disconnect(const std::string& why) {
    if (connFd_ < 0) {
        return;
    }
    if (!why.empty()) {
        logLine(why + " (" + std::to_string(fromLinux_) + " messages from Linux, " +
                std::to_string(toLinux_) + " to Linux)");
    }
    engine_->halt();
    sd_event_source_disable_unref(connSource_);
    connSource_ = nullptr;
    close(connFd_);
    connFd_ = -1;
    if (slaveFd_ >= 0) {
        close(slaveFd_);
        slaveFd_ = -1;
    }
    for (auto& vq : rings_) {
        resetRing(vq);
    }
    unmapAll();
    pending_.clear();
    driverUp_ = false;
    if (onDisconnect_) {
        onDisconnect_(why);
    }
}

} // namespace rpmsgsim
