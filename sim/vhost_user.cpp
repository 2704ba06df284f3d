#include "vhost_user.h"

#include "common/firmware_image.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <endian.h>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <map>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <systemd/sd-event.h>

namespace rpmsgsim {

namespace fw = rpmsgd::fw;

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

constexpr uint16_t DescNext = 1;
constexpr uint16_t DescWrite = 2;
constexpr uint16_t DescIndirect = 4;
constexpr uint16_t AvailNoInterrupt = 1;

constexpr size_t RpmsgHeader = 16;
constexpr size_t MaxMessage = 4096; // a vhost-user payload; the memory table is 264 bytes
constexpr size_t MaxRegions = 8;
constexpr size_t MaxPending = 4096; // messages waiting for Linux to post RX buffers

const char* const HungUpOnRequest = "hung up on request";

constexpr uint32_t RxQueue = 0; // device -> driver ("input")
constexpr uint32_t TxQueue = 1; // driver -> device ("output")

void logLine(const std::string& s) {
    std::cerr << "rpmsg-sim remote: " << s << std::endl;
}

std::string hex(uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

uint64_t get64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return le64toh(v);
}
uint32_t get32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return le32toh(v);
}
uint16_t get16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return le16toh(v);
}
void put32(uint8_t* p, uint32_t v) {
    v = htole32(v);
    std::memcpy(p, &v, 4);
}
void put16(uint8_t* p, uint16_t v) {
    v = htole16(v);
    std::memcpy(p, &v, 2);
}
// The ring indices are shared with the guest, which runs at the same time.
uint16_t loadIdx(const uint8_t* p) {
    return le16toh(__atomic_load_n(reinterpret_cast<const uint16_t*>(p), __ATOMIC_ACQUIRE));
}
void storeIdx(uint8_t* p, uint16_t v) {
    __atomic_store_n(reinterpret_cast<uint16_t*>(p), htole16(v), __ATOMIC_RELEASE);
}

std::string okReply(const std::string& output = "") {
    return nlohmann::json{{"ok", true}, {"output", output}}.dump() + "\n";
}
std::string errorReply(const std::string& error) {
    return nlohmann::json{{"ok", false}, {"error", error}}.dump() + "\n";
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

} // namespace

VhostUserRemote::VhostUserRemote(sd_event* event, Scheduler& scheduler, BehaviourSpec spec,
                                 bool nameService)
    : event_(event), scheduler_(scheduler), nameService_(nameService),
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

namespace {
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
} // namespace

bool VhostUserRemote::listen(const std::string& path, std::string& error) {
    listenFd_ = listenUnix(path, error);
    if (listenFd_ < 0) {
        return false;
    }
    socketPath_ = path;
    sd_event_add_io(event_, &listenSource_, listenFd_, EPOLLIN, onListen, this);
    return true;
}

bool VhostUserRemote::listenControl(const std::string& path, std::string& error) {
    controlListenFd_ = listenUnix(path, error);
    if (controlListenFd_ < 0) {
        return false;
    }
    controlPath_ = path;
    sd_event_add_io(event_, &controlListenSource_, controlListenFd_, EPOLLIN, onControlListen,
                    this);
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
        if (!need(8))
            return false;
        ackedFeatures_ = get64(body.data());
        if (!(ackedFeatures_ & FeatureVersion1)) {
            logLine("the driver did not accept VIRTIO_F_VERSION_1; rings are little-endian anyway");
        }
        break;
    case GetProtocolFeatures:
        return reply64(ProtocolReplyAck | ProtocolSlaveReq);
    case SetProtocolFeatures:
        if (!need(8))
            return false;
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
        if (!need(8))
            return false;
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
        if (!need(8))
            return false;
        Vring* vq = ringOf(get32(body.data()));
        if (!vq)
            return false;
        uint32_t num = get32(body.data() + 4);
        if (num == 0 || num > 32768 || (num & (num - 1))) {
            why = "vring size " + std::to_string(num) + " is not a power of 2 up to 32768";
            return false;
        }
        vq->num = num;
        break;
    }
    case SetVringBase: {
        if (!need(8))
            return false;
        Vring* vq = ringOf(get32(body.data()));
        if (!vq)
            return false;
        vq->lastAvail = uint16_t(get32(body.data() + 4));
        vq->usedIdx = vq->lastAvail;
        break;
    }
    case SetVringAddr: {
        if (!need(40))
            return false;
        Vring* vq = ringOf(get32(body.data()));
        if (!vq)
            return false;
        vq->descUser = get64(body.data() + 8);
        vq->usedUser = get64(body.data() + 16);
        vq->availUser = get64(body.data() + 24);
        if (!mapRing(*vq, why)) {
            return false;
        }
        break;
    }
    case GetVringBase: {
        if (!need(8))
            return false;
        uint32_t index = get32(body.data());
        Vring* vq = ringOf(index);
        if (!vq)
            return false;
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
        if (!need(8))
            return false;
        uint64_t u = get64(body.data());
        Vring* vq = ringOf(u & VringIndexMask);
        if (!vq)
            return false;
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
        if (!need(8))
            return false;
        uint32_t index = get32(body.data());
        Vring* vq = ringOf(index);
        if (!vq)
            return false;
        vq->enabled = get32(body.data() + 4) != 0;
        if (!vq->enabled && index == RxQueue && driverUp_) {
            logLine("the driver is going away (vring 0 disabled)");
        }
        break;
    }
    case GetConfig: {
        // virtio_rpmsg_bus never reads config space; answer with zeros of the asked size.
        if (!need(12))
            return false;
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

void VhostUserRemote::unmapAll() {
    for (auto& r : regions_) {
        munmap(r.base, r.mapLen);
    }
    regions_.clear();
    for (auto& vq : rings_) {
        vq.desc = vq.avail = vq.used = nullptr;
    }
}

uint8_t* VhostUserRemote::guestPtr(uint64_t addr, uint64_t len) {
    for (auto& r : regions_) {
        if (addr >= r.guestAddr && len <= r.size && addr - r.guestAddr <= r.size - len) {
            return r.base + r.mmapOffset + (addr - r.guestAddr);
        }
    }
    return nullptr;
}

uint8_t* VhostUserRemote::userPtr(uint64_t addr, uint64_t len) {
    for (auto& r : regions_) {
        if (addr >= r.userAddr && len <= r.size && addr - r.userAddr <= r.size - len) {
            return r.base + r.mmapOffset + (addr - r.userAddr);
        }
    }
    return nullptr;
}

bool VhostUserRemote::mapRing(Vring& vq, std::string& why) {
    if (regions_.empty()) {
        return true; // translated when SET_MEM_TABLE arrives
    }
    if (vq.num == 0) {
        why = "SET_VRING_ADDR before SET_VRING_NUM";
        return false;
    }
    vq.desc = userPtr(vq.descUser, 16ull * vq.num);
    vq.avail = userPtr(vq.availUser, 6 + 2ull * vq.num);
    vq.used = userPtr(vq.usedUser, 6 + 8ull * vq.num);
    if (!vq.desc || !vq.avail || !vq.used) {
        why = "a vring lies outside guest memory (desc " + hex(vq.descUser) + ", avail " +
              hex(vq.availUser) + ", used " + hex(vq.usedUser) + ")";
        return false;
    }
    return true;
}

bool VhostUserRemote::ringReady(const Vring& vq) const {
    return connFd_ >= 0 && vq.enabled && vq.desc && vq.avail && vq.used && vq.num;
}

void VhostUserRemote::resetRing(Vring& vq) {
    sd_event_source_disable_unref(vq.kickSource);
    if (vq.kickFd >= 0) {
        close(vq.kickFd);
    }
    if (vq.callFd >= 0) {
        close(vq.callFd);
    }
    vq = Vring{};
}

int VhostUserRemote::onKick(sd_event_source*, int fd, uint32_t, void* p) {
    auto* self = static_cast<VhostUserRemote*>(p);
    // An eventfd: one read takes the whole count. UML's is blocking, and it is readable now.
    uint64_t n;
    (void)!::read(fd, &n, sizeof n);
    if (fd == self->rings_[RxQueue].kickFd) {
        if (!self->driverUp_ && self->ringReady(self->rings_[RxQueue])) {
            // vhost-user has no device status: the first RX kick comes after
            // virtio_device_ready(), so the driver is up and the remote may talk.
            self->driverUp_ = true;
            logLine("driver up: " + std::to_string(self->rings_[RxQueue].num) + "-entry vrings");
            self->engine_->start();
        }
        self->flushPending();
    } else if (fd == self->rings_[TxQueue].kickFd) {
        self->processTx();
    }
    self->sendCalls();
    return 0;
}

void VhostUserRemote::processTx() {
    Vring& vq = rings_[TxQueue];
    if (!ringReady(vq)) {
        return;
    }
    const uint16_t availIdx = loadIdx(vq.avail + 2);
    while (vq.lastAvail != availIdx && connFd_ >= 0) {
        const uint16_t head = get16(vq.avail + 4 + 2 * (vq.lastAvail % vq.num));
        ++vq.lastAvail;
        std::vector<uint8_t> bytes;
        uint16_t i = head;
        bool bad = head >= vq.num;
        for (uint32_t hops = 0; !bad; ++hops) {
            const uint8_t* d = vq.desc + 16 * size_t(i);
            uint64_t addr = get64(d);
            uint32_t len = get32(d + 8);
            uint16_t dflags = get16(d + 12);
            const uint8_t* buf = guestPtr(addr, len);
            if (!buf || (dflags & (DescWrite | DescIndirect)) || hops >= vq.num ||
                bytes.size() + len > 65536) {
                bad = true;
                break;
            }
            bytes.insert(bytes.end(), buf, buf + len);
            if (!(dflags & DescNext)) {
                break;
            }
            i = get16(d + 14);
            bad = i >= vq.num;
        }
        if (bad || bytes.size() < RpmsgHeader) {
            logLine("dropping a malformed TX buffer (descriptor " + std::to_string(head) + ")");
            if (head < vq.num) {
                pushUsed(vq, head, 0);
            }
            continue;
        }
        ++fromLinux_;
        const uint32_t src = get32(bytes.data());
        const uint32_t dst = get32(bytes.data() + 4);
        const size_t len = std::min<size_t>(get16(bytes.data() + 12), bytes.size() - RpmsgHeader);
        engine_->receive(src, dst, std::span<const uint8_t>(bytes.data() + RpmsgHeader, len), head);
    }
}

void VhostUserRemote::releaseBuffer(uint64_t token) {
    Vring& vq = rings_[TxQueue];
    if (!ringReady(vq) || token >= vq.num) {
        return;
    }
    pushUsed(vq, uint16_t(token), 0);
    scheduleCalls();
}

void VhostUserRemote::sendToLinux(uint32_t src, uint32_t dst, std::span<const uint8_t> payload) {
    if (connFd_ < 0) {
        return;
    }
    Outgoing m{src, dst, std::vector<uint8_t>(payload.begin(), payload.end())};
    if (pending_.empty() && driverUp_ && deliver(m)) {
        scheduleCalls();
        return;
    }
    if (pending_.size() >= MaxPending) {
        if (dropped_++ % 1000 == 0) {
            logLine("Linux posts no RX buffers: dropping messages (" + std::to_string(dropped_) +
                    " so far)");
        }
        return;
    }
    pending_.push_back(std::move(m));
}

void VhostUserRemote::flushPending() {
    while (!pending_.empty() && deliver(pending_.front())) {
        pending_.pop_front();
    }
}

bool VhostUserRemote::deliver(const Outgoing& m) {
    Vring& vq = rings_[RxQueue];
    if (!driverUp_ || !ringReady(vq)) {
        return false;
    }
    const uint16_t availIdx = loadIdx(vq.avail + 2);
    if (vq.lastAvail == availIdx) {
        return false; // every RX buffer is in use: wait for the next kick
    }
    const uint16_t head = get16(vq.avail + 4 + 2 * (vq.lastAvail % vq.num));
    ++vq.lastAvail;
    const size_t total = RpmsgHeader + m.payload.size();
    uint8_t hdr[RpmsgHeader] = {};
    put32(hdr, m.src);
    put32(hdr + 4, m.dst);
    put16(hdr + 12, uint16_t(m.payload.size()));
    size_t written = 0;
    uint16_t i = head;
    bool bad = head >= vq.num;
    for (uint32_t hops = 0; !bad && written < total; ++hops) {
        const uint8_t* d = vq.desc + 16 * size_t(i);
        uint64_t addr = get64(d);
        uint32_t len = get32(d + 8);
        uint16_t dflags = get16(d + 12);
        uint8_t* buf = guestPtr(addr, len);
        if (!buf || !(dflags & DescWrite) || (dflags & DescIndirect) || hops >= vq.num) {
            bad = true;
            break;
        }
        for (uint32_t k = 0; k < len && written < total; ++k, ++written) {
            buf[k] = written < RpmsgHeader ? hdr[written] : m.payload[written - RpmsgHeader];
        }
        if (!(dflags & DescNext)) {
            break;
        }
        i = get16(d + 14);
        bad = i >= vq.num;
    }
    if (bad || written < total) {
        logLine("an RX buffer (descriptor " + std::to_string(head) + ") cannot hold a " +
                std::to_string(total) + "-byte message; the message is dropped");
        if (head < vq.num) {
            pushUsed(vq, head, 0);
        }
        return true;
    }
    ++toLinux_;
    pushUsed(vq, head, uint32_t(total));
    return true;
}

void VhostUserRemote::pushUsed(Vring& vq, uint16_t id, uint32_t len) {
    uint8_t* elem = vq.used + 4 + 8 * size_t(vq.usedIdx % vq.num);
    put32(elem, id);
    put32(elem + 4, len);
    ++vq.usedIdx;
    storeIdx(vq.used + 2, vq.usedIdx);
    vq.needCall = true;
}

void VhostUserRemote::scheduleCalls() {
    if (callsScheduled_) {
        return;
    }
    callsScheduled_ = true;
    scheduler_.post([this] { sendCalls(); });
}

void VhostUserRemote::sendCalls() {
    callsScheduled_ = false;
    // The used index is published before the driver's flags are read: a driver that enables
    // interrupts after we looked sees the new entries when it re-checks the ring.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (auto& vq : rings_) {
        if (!vq.needCall || !ringReady(vq)) {
            continue;
        }
        vq.needCall = false;
        if (loadIdx(vq.avail) & AvailNoInterrupt) {
            continue; // Linux suppresses TX-complete interrupts; the buffers are back anyway
        }
        if (vq.callFd >= 0) {
            // UML's call fd is a socketpair end, not an eventfd: it wants exactly 8 bytes.
            uint64_t one = 1;
            if (::write(vq.callFd, &one, sizeof one) < 0 && errno != EAGAIN) {
                logLine(std::string("signalling the guest: ") + strerror(errno));
            }
        }
    }
}

void VhostUserRemote::reportCrash(unsigned type) {
    // A transport without a remoteproc has nobody to recover it: the remote just stops.
    logLine("the firmware crashed (type " + std::to_string(type) +
            "); with no remoteproc to recover it, the remote stops answering");
    engine_->halt();
}

void VhostUserRemote::trace(const std::string& line) {
    logLine("trace: " + line);
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

// --- control ------------------------------------------------------------------------------

void VhostUserRemote::addControlStream(int fd) {
    auto s = std::make_unique<ControlStream>();
    s->fd = fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    // onControl finds the stream again by its fd.
    sd_event_add_io(event_, &s->source, fd, EPOLLIN, onControl, this);
    controls_.push_back(std::move(s));
}

int VhostUserRemote::onControlListen(sd_event_source*, int fd, uint32_t, void* p) {
    auto* self = static_cast<VhostUserRemote*>(p);
    int conn = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn >= 0) {
        self->addControlStream(conn);
    }
    return 0;
}

void VhostUserRemote::closeControl(ControlStream* s) {
    sd_event_source_disable_unref(s->source);
    close(s->fd);
    std::erase_if(controls_, [s](const auto& c) { return c.get() == s; });
    if (hungUp_ && controls_.empty() && controlListenFd_ < 0) {
        sd_event_exit(event_, 0); // hung up, and nobody is left to talk to
    }
}

int VhostUserRemote::onControl(sd_event_source*, int fd, uint32_t, void* p) {
    auto* self = static_cast<VhostUserRemote*>(p);
    ControlStream* s = nullptr;
    for (auto& c : self->controls_) {
        if (c->fd == fd) {
            s = c.get();
        }
    }
    if (!s) {
        return 0;
    }
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return 0;
    }
    if (n <= 0) {
        self->closeControl(s);
        return 0;
    }
    s->in.append(buf, size_t(n));
    size_t nl;
    while ((nl = s->in.find_first_of("\r\n")) != std::string::npos) {
        std::string line = s->in.substr(0, nl);
        s->in.erase(0, nl + 1);
        if (line.empty()) {
            continue;
        }
        std::string answer;
        std::vector<std::string> args;
        try {
            auto doc = nlohmann::json::parse(line);
            if (!doc.is_array() || doc.empty()) {
                throw std::runtime_error("expected a non-empty JSON array of strings");
            }
            for (const auto& a : doc) {
                if (!a.is_string()) {
                    throw std::runtime_error("expected a non-empty JSON array of strings");
                }
                args.push_back(a.get<std::string>());
            }
            answer = self->control(args);
        } catch (const std::exception& e) {
            answer = errorReply(std::string("bad request: ") + e.what());
        }
        if (!writeAll(fd, answer)) {
            self->closeControl(s);
            return 0;
        }
        if (!args.empty() && args[0] == "hangup" && self->connFd_ >= 0 &&
            answer.rfind("{\"ok\":true", 0) == 0) {
            // Answered first, so the test knows the hang-up is on its way.
            self->hungUp_ = true;
            self->disconnect(HungUpOnRequest);
        }
    }
    if (s->in.size() > 65536) {
        writeAll(fd, errorReply("request line longer than 65536 bytes"));
        s->in.clear();
    }
    return 0;
}

std::string VhostUserRemote::control(const std::vector<std::string>& args) {
    const std::string& cmd = args[0];
    auto usage = [&](size_t count, const char* text) -> std::optional<std::string> {
        if (args.size() - 1 != count) {
            return errorReply(std::string("usage: ") + text);
        }
        return std::nullopt;
    };
    auto alive = [&]() -> std::optional<std::string> {
        if (connFd_ < 0) {
            return errorReply(hungUp_ ? "the remote hung up" : "no guest is connected");
        }
        return std::nullopt;
    };
    if (cmd == "ping") {
        return okReply();
    }
    if (cmd == "status") {
        nlohmann::json j{{"connected", connFd_ >= 0},     {"driver_up", driverUp_},
                         {"stalled", engine_->stalled()}, {"held", engine_->heldBuffers()},
                         {"pending", pending_.size()},    {"from_linux", fromLinux_},
                         {"to_linux", toLinux_}};
        return okReply(j.dump());
    }
    // The commands the remote itself answers, as on the twin (RemoteEngine::control).
    static const std::map<std::string, std::pair<size_t, const char*>> remoteCommands = {
        {"stall", {0, "stall | resume"}},
        {"resume", {0, "stall | resume"}},
        {"announce", {2, "announce|destroy NAME ADDR"}},
        {"destroy", {2, "announce|destroy NAME ADDR"}},
        {"send", {3, "send SRC DST TEXT"}},
        {"peer", {1, "peer ADDR"}},
    };
    if (auto rc = remoteCommands.find(cmd); rc != remoteCommands.end()) {
        if (auto e = usage(rc->second.first, rc->second.second))
            return *e;
        if (cmd != "peer") {
            if (auto e = alive())
                return *e;
        }
        if ((cmd == "announce" || cmd == "destroy") && !nameService_) {
            return errorReply("the firmware's vdev has no VIRTIO_RPMSG_F_NS: no name service");
        }
        const auto r = engine_->control(args);
        sendCalls(); // what the command made the remote send or release
        return r.ok ? okReply(r.text) : errorReply(r.text);
    }
    if (cmd == "hangup") {
        if (auto e = usage(0, "hangup"))
            return *e;
        if (auto e = alive())
            return *e;
        return okReply(); // the caller disconnects once the answer is out
    }
    return errorReply("unknown command \"" + cmd +
                      "\" (ping, status, stall, resume, announce, destroy, send, peer, hangup)");
}

// --- command line -------------------------------------------------------------------------

namespace {

const char* const RemoteUsage =
    "Usage: rpmsg-sim remote --vhost-user SOCKET --firmware FW.elf [--control PATH]\n"
    "                        [--control-fd N]\n"
    "\n"
    "Plays the remote processor of a virtio-rpmsg device over vhost-user: listens on SOCKET for\n"
    "one front end (User-Mode Linux's virtio_uml.device=SOCKET:7), then runs the services of\n"
    "FW.elf (an image made by `rpmsg-sim mkfw`) on the guest's vrings. Prints `ready SOCKET` when\n"
    "listening. Ends when the guest goes away, or on SIGTERM/SIGINT.\n"
    "\n"
    "Control (one JSON array of strings per line in, one JSON object per line out):\n"
    "  --control PATH    accept control connections on a UNIX socket\n"
    "  --control-fd N    serve the inherited stream fd N (e.g. a guest serial line)\n"
    "Commands: ping | status | stall | resume | announce NAME ADDR | destroy NAME ADDR |\n"
    "  send SRC DST TEXT | peer ADDR | hangup\n";

} // namespace

int runRemote(int argc, char** argv) {
    std::string socketPath, firmware, controlPath;
    int controlFd = -1;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* opt) -> std::optional<std::string> {
            if (i + 1 >= argc) {
                std::cerr << "rpmsg-sim remote: " << opt << " needs a value\n";
                return std::nullopt;
            }
            return std::string(argv[++i]);
        };
        std::optional<std::string> v;
        if (a == "-h" || a == "--help") {
            std::cout << RemoteUsage;
            return 0;
        } else if (a == "--vhost-user") {
            if (!(v = value("--vhost-user")))
                return 2;
            socketPath = *v;
        } else if (a == "--firmware") {
            if (!(v = value("--firmware")))
                return 2;
            firmware = *v;
        } else if (a == "--control") {
            if (!(v = value("--control")))
                return 2;
            controlPath = *v;
        } else if (a == "--control-fd") {
            if (!(v = value("--control-fd")))
                return 2;
            uint32_t n = 0;
            if (!parseU32(*v, n) || n > 1024 || fcntl(int(n), F_GETFD) < 0) {
                std::cerr << "rpmsg-sim remote: --control-fd " << *v << " is not an open fd\n";
                return 2;
            }
            controlFd = int(n);
        } else {
            std::cerr << "rpmsg-sim remote: unexpected argument " << a << " (see --help)\n";
            return 2;
        }
    }
    if (socketPath.empty() || firmware.empty()) {
        std::cerr << "rpmsg-sim remote: --vhost-user SOCKET and --firmware FW.elf are required "
                     "(see --help)\n";
        return 2;
    }
    std::ifstream in(firmware, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        std::cerr << "rpmsg-sim remote: cannot read " << firmware << ": " << strerror(errno)
                  << "\n";
        return 1;
    }
    if (bytes.empty()) {
        std::cerr << "rpmsg-sim remote: " << firmware << " is missing or empty\n";
        return 1;
    }
    auto parsed = fw::parse(bytes);
    if (!parsed) {
        std::cerr << "rpmsg-sim remote: " << firmware << ": " << parsed.problem.message << "\n";
        return 1;
    }
    const fw::Resource* vdev = nullptr;
    for (const auto& r : parsed.image->resources) {
        if (r.type == fw::RscVdev && r.id == fw::VirtioIdRpmsg) {
            vdev = &r;
        }
    }
    if (!vdev) {
        std::cerr << "rpmsg-sim remote: " << firmware
                  << " has no virtio-rpmsg vdev in its resource table: nothing to serve\n";
        return 1;
    }
    BehaviourSpec spec;
    if (parsed.image->behaviour) {
        auto b = parseBehaviour(*parsed.image->behaviour);
        if (!b.ok) {
            std::cerr << "rpmsg-sim remote: " << firmware << ": .rpmsg_sim: " << b.error << "\n";
            return 1;
        }
        spec = b.spec;
    }

    signal(SIGPIPE, SIG_IGN);
    sd_event* event = nullptr;
    if (sd_event_new(&event) < 0) {
        std::cerr << "rpmsg-sim remote: cannot create the event loop\n";
        return 1;
    }
    sd_event_add_signal(event, nullptr, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, nullptr, nullptr);
    sd_event_add_signal(event, nullptr, SIGINT | SD_EVENT_SIGNAL_PROCMASK, nullptr, nullptr);
    int rc = 0;
    {
        Scheduler scheduler(event);
        VhostUserRemote remote(event, scheduler, spec, (vdev->dfeatures & fw::VirtioRpmsgFNs) != 0);
        std::string error;
        remote.onDisconnect([&](const std::string& why) {
            // The guest went away: nothing is left to serve. After a requested hang-up the
            // control streams stay up until their other ends close, or a signal comes.
            if (why != HungUpOnRequest) {
                sd_event_exit(event, 0);
            }
        });
        if (!remote.listen(socketPath, error) ||
            (!controlPath.empty() && !remote.listenControl(controlPath, error))) {
            std::cerr << "rpmsg-sim remote: " << error << "\n";
            rc = 1;
        } else {
            if (controlFd >= 0) {
                fcntl(controlFd, F_SETFD, FD_CLOEXEC);
                remote.addControlStream(controlFd);
            }
            std::cout << "ready " << socketPath << std::endl;
            int r = sd_event_loop(event);
            if (r < 0) {
                std::cerr << "rpmsg-sim remote: event loop failed: " << strerror(-r) << "\n";
                rc = 1;
            }
        }
    }
    sd_event_unref(event);
    return rc;
}

} // namespace rpmsgsim
