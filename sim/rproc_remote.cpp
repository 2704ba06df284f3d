// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The firmware of a virtual_rproc processor (rproc_remote.h). The device's protocol is described
// at the top of tests/uml/kernel/driver/virtual_rproc.c; the resource-table layout is
// include/linux/remoteproc.h's (struct fw_rsc_vdev and fw_rsc_vdev_vring), the vring layout
// the legacy one remoteproc_virtio.c asks vring_new_virtqueue() for (desc, avail, then used at
// the vring's alignment).

#include "rproc_remote.h"

#include "common/firmware_image.h"
#include "vhost_user_wire.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <sys/mman.h>
#include <unistd.h>

#include <systemd/sd-event.h>

namespace rpmsgsim {

namespace fw = rpmsgd::fw;
using namespace vhost;

namespace {

constexpr size_t MaxPending = 4096;       // messages waiting for Linux to post RX buffers
constexpr uint8_t StatusDriverOk = 4;     // VIRTIO_CONFIG_S_DRIVER_OK
constexpr uint64_t VdevStatusAt = 4 + 20; // fw_rsc_hdr, then status in struct fw_rsc_vdev
constexpr uint64_t VdevRingsAt = 4 + 24;
constexpr uint64_t VringEntry = 20;

std::string prefix;

void log(const std::string& s) {
    std::cerr << "rpmsg-sim remote" << prefix << ": " << s << std::endl;
}

uint64_t alignUp(uint64_t v, uint64_t a) {
    return (v + a - 1) / a * a;
}

// "key=value" fields of an event line; values are 0x-hex, "a,b" pairs split.
bool field(const std::string& args, const std::string& key, uint64_t& a, uint64_t* b = nullptr) {
    std::istringstream in(args);
    std::string word;
    while (in >> word) {
        if (word.rfind(key + "=", 0) != 0) {
            continue;
        }
        const std::string v = word.substr(key.size() + 1);
        char* end = nullptr;
        a = strtoull(v.c_str(), &end, 0);
        if (b) {
            if (*end != ',') {
                return false;
            }
            *b = strtoull(end + 1, &end, 0);
        }
        return *end == '\0';
    }
    return false;
}

} // namespace

RprocRemote::RprocRemote(sd_event* event, Scheduler& scheduler)
    : event_(event), scheduler_(scheduler),
      memory_([this](uint64_t addr, uint64_t len) { return physical(addr, len); }) {}

RprocRemote::~RprocRemote() {
    stop();
    sd_event_source_disable_unref(source_);
    if (fd_ >= 0) {
        close(fd_);
    }
}

bool RprocRemote::open(const std::string& path, std::string& error) {
    fd_ = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
        error = "cannot open " + path + ": " + strerror(errno) +
                (errno == EBUSY ? " (another firmware program serves this processor)" : "");
        return false;
    }
    path_ = path;
    const auto slash = path.rfind('/');
    prefix = " (" + path.substr(slash == std::string::npos ? 0 : slash + 1) + ")";
    sd_event_add_io(event_, &source_, fd_, EPOLLIN, onEvent, this);
    return true;
}

int RprocRemote::onEvent(sd_event_source*, int fd, uint32_t, void* p) {
    auto* self = static_cast<RprocRemote*>(p);
    for (;;) {
        char buf[256];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; // EAGAIN: all events taken
        }
        self->in_.append(buf, size_t(n));
        size_t nl;
        while ((nl = self->in_.find('\n')) != std::string::npos) {
            const std::string line = self->in_.substr(0, nl);
            self->in_.erase(0, nl + 1);
            self->handle(line);
        }
    }
    self->sendCalls();
    return 0;
}

void RprocRemote::handle(const std::string& line) {
    const auto space = line.find(' ');
    const std::string what = line.substr(0, space);
    const std::string args = space == std::string::npos ? "" : line.substr(space + 1);
    if (what == "start") {
        start(args);
    } else if (what == "stop") {
        stop();
        command("stopped");
    } else if (what == "kick") {
        uint32_t id = 0;
        if (parseU32(args, id)) {
            kicked(id);
        }
    } else {
        log("unknown event \"" + line + "\"");
    }
}

void RprocRemote::command(const std::string& line) {
    const std::string s = line + "\n";
    if (::write(fd_, s.data(), s.size()) < 0 && !(errno == ESRCH && line != "stopped")) {
        log("telling the kernel \"" + line + "\": " + strerror(errno));
    }
}

uint8_t* RprocRemote::physical(uint64_t pa, uint64_t len) const {
    if (!boot_ || pa > boot_->ramLen || len > boot_->ramLen - pa) {
        return nullptr;
    }
    return boot_->ram + pa;
}

uint8_t* RprocRemote::deviceMemory(uint64_t da, uint64_t len) const {
    if (!boot_ || da < boot_->memDa || len > boot_->memSize ||
        da - boot_->memDa > boot_->memSize - len) {
        return nullptr;
    }
    return physical(boot_->memPa + (da - boot_->memDa), len);
}

void RprocRemote::start(const std::string& args) {
    stop();
    uint64_t memPa = 0, memDa = 0, memSize = 0, imagePa = 0, imageSize = 0, ram = 0;
    if (!field(args, "mem", memPa) || !field(args, "da", memDa) || !field(args, "size", memSize) ||
        !field(args, "image", imagePa, &imageSize) || !field(args, "ram", ram)) {
        log("malformed start event \"" + args + "\"; the processor runs nothing");
        return;
    }
    auto boot = std::make_unique<Boot>();
    void* map = mmap(nullptr, ram, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (map == MAP_FAILED) {
        log(std::string("cannot map guest memory: ") + strerror(errno) +
            "; the processor runs nothing");
        return;
    }
    boot->ram = static_cast<uint8_t*>(map);
    boot->ramLen = ram;
    boot->memPa = memPa;
    boot->memDa = memDa;
    boot->memSize = memSize;
    boot_ = std::move(boot);
    Boot& b = *boot_;

    // The processor's flash: the image the kernel booted.
    const uint8_t* image = physical(imagePa, imageSize);
    if (!image || imageSize == 0) {
        log("the start event names no image inside guest memory (\"" + args +
            "\"); the processor runs nothing");
        return;
    }
    const std::vector<uint8_t> bytes(image, image + imageSize);
    const auto parsed = fw::parse(bytes);
    if (!parsed) {
        log("the booted image is not one we can play (" + parsed.problem.message +
            "); the processor runs nothing");
        return;
    }
    BehaviourSpec spec;
    if (parsed.image->behaviour) {
        auto p = parseBehaviour(*parsed.image->behaviour);
        if (!p.ok) {
            log(".rpmsg_sim: " + p.error + "; the processor runs nothing");
            return;
        }
        spec = p.spec;
    }
    b.table = deviceMemory(parsed.image->resourceTableAddr, parsed.image->resourceTableSize);
    if (!b.table) {
        log("the resource table (device address " + hex(parsed.image->resourceTableAddr) +
            ") is outside the processor's memory; the processor runs nothing");
        return;
    }
    b.tableSize = parsed.image->resourceTableSize;
    for (const auto& r : parsed.image->resources) {
        if (r.type == fw::RscVdev && r.id == fw::VirtioIdRpmsg && r.vrings.size() == 2 &&
            !b.hasVdev) {
            b.hasVdev = true;
            b.vdevOffset = r.offset;
        } else if (r.type == fw::RscTrace && !b.traceBuf) {
            b.traceBuf = deviceMemory(r.da, r.len);
            b.traceLen = b.traceBuf ? r.len : 0;
        }
    }
    log("released from reset: " + std::to_string(spec.services.size()) + " service(s), " +
        (b.hasVdev ? "virtio-rpmsg vdev" : "no vdev") + ", " +
        (b.traceBuf ? std::to_string(b.traceLen) + "-byte trace buffer" : "no trace buffer"));
    b.engine = std::make_unique<RemoteEngine>(std::move(spec), scheduler_, *this);
    // Like OpenAMP's remote, it waits for the driver's DRIVER_OK before it talks; Linux's
    // first kick (rpmsg_probe tells the remote its RX buffers are posted) comes after it.
    if (driverReady()) {
        b.engine->start();
    }
}

bool RprocRemote::driverReady() {
    if (!boot_ || !boot_->hasVdev) {
        return false;
    }
    Boot& b = *boot_;
    uint8_t* vdev = b.table + b.vdevOffset;
    const uint8_t status = __atomic_load_n(vdev + VdevStatusAt, __ATOMIC_ACQUIRE);
    if (!(status & StatusDriverOk)) {
        if (b.driverUp) {
            log("the virtio driver reset the device; the vrings are no longer ours");
            b.driverUp = false;
            b.rings[0] = b.rings[1] = SplitRing{};
        }
        return false;
    }
    if (b.driverUp) {
        return true;
    }
    for (int i = 0; i < 2; ++i) {
        const uint8_t* r = vdev + VdevRingsAt + i * VringEntry;
        const uint32_t da = get32(r), align = get32(r + 4), num = get32(r + 8);
        b.notifyId[i] = get32(r + 12);
        SplitRing ring;
        ring.num = num;
        ring.desc = physical(da, 16ull * num);
        ring.avail = physical(da + 16ull * num, 6 + 2ull * num);
        const uint64_t usedAt = alignUp(da + 16ull * num + 6 + 2ull * num, align ? align : 1);
        ring.used = physical(usedAt, 6 + 8ull * num);
        if (!num || !ring.desc || !ring.avail || !ring.used) {
            log("vring " + std::to_string(i) + " (device address " + hex(da) + ", " +
                std::to_string(num) + " entries) lies outside guest memory");
            return false;
        }
        b.rings[i] = ring;
    }
    b.driverUp = true;
    log("driver up: " + std::to_string(b.rings[0].num) + "-entry vrings at " +
        hex(get32(vdev + VdevRingsAt)) + " and " + hex(get32(vdev + VdevRingsAt + VringEntry)) +
        ", notify ids " + std::to_string(b.notifyId[0]) + " and " + std::to_string(b.notifyId[1]));
    return true;
}

void RprocRemote::stop() {
    if (!boot_) {
        return;
    }
    if (boot_->engine) {
        boot_->engine->halt();
    }
    boot_->engine.reset();
    munmap(boot_->ram, boot_->ramLen);
    boot_.reset();
    log("in reset");
}

void RprocRemote::kicked(uint32_t) {
    if (!boot_ || !boot_->engine || boot_->crashed) {
        return;
    }
    const bool wasUp = boot_->driverUp;
    if (!driverReady()) {
        return;
    }
    if (!wasUp) {
        boot_->engine->start();
    }
    // One kick may stand for several (the driver coalesces them): look at both rings.
    processTx();
    flushPending();
}

void RprocRemote::processTx() {
    while (boot_ && boot_->engine && driverReady()) {
        auto m = takeFromDriver(boot_->rings[TxQueue], memory_, log);
        if (!m) {
            break;
        }
        boot_->engine->receive(m->src, m->dst, m->payload, m->head);
    }
}

void RprocRemote::releaseBuffer(uint64_t token) {
    if (!driverReady() || token >= boot_->rings[TxQueue].num) {
        return;
    }
    pushUsed(boot_->rings[TxQueue], uint16_t(token), 0);
    sendCalls();
}

void RprocRemote::sendToLinux(uint32_t src, uint32_t dst, std::span<const uint8_t> payload) {
    if (!boot_) {
        return;
    }
    if (boot_->pending.size() >= MaxPending) {
        log("Linux posts no RX buffers: dropping a message");
        return;
    }
    boot_->pending.push_back({src, dst, std::vector<uint8_t>(payload.begin(), payload.end())});
    flushPending();
    sendCalls();
}

void RprocRemote::flushPending() {
    while (boot_ && !boot_->pending.empty() && driverReady()) {
        const Outgoing& m = boot_->pending.front();
        if (deliverToDriver(boot_->rings[RxQueue], memory_, m.src, m.dst, m.payload, log) ==
            Delivery::NoBuffer) {
            break;
        }
        boot_->pending.pop_front();
    }
}

void RprocRemote::sendCalls() {
    if (!boot_ || !boot_->driverUp) {
        return;
    }
    // The used index is published before the driver's flags are read (see sendCalls() of the
    // vhost-user remote).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (int i = 0; i < 2 && boot_ && boot_->driverUp; ++i) {
        SplitRing& vq = boot_->rings[i];
        if (!vq.needCall) {
            continue;
        }
        vq.needCall = false;
        if (driverWantsCall(vq)) {
            // The kernel runs the vring's callback inside this write, and may kick us back.
            command("kick " + std::to_string(boot_->notifyId[i]));
        }
    }
}

void RprocRemote::reportCrash(unsigned type) {
    if (!boot_ || boot_->crashed) {
        return;
    }
    log("the firmware crashed (type " + std::to_string(type) + "); reporting it to the kernel");
    boot_->crashed = true;
    if (boot_->engine) {
        boot_->engine->halt();
    }
    command("crash " + std::to_string(type));
}

void RprocRemote::trace(const std::string& line) {
    if (!boot_ || !boot_->traceBuf) {
        return;
    }
    Boot& b = *boot_;
    // A NUL-terminated text, as rproc_trace_read() reads it (strnlen up to the length); a ring
    // once full (writeTraceRing).
    writeTraceRing(b.traceBuf, b.traceLen, b.traceUsed, line + "\n");
}

int runRprocRemote(const std::string& device) {
    sd_event* event = newCommandLoop();
    if (!event) {
        std::cerr << "rpmsg-sim remote: cannot create the event loop\n";
        return 1;
    }
    int rc = 0;
    {
        Scheduler scheduler(event);
        RprocRemote remote(event, scheduler);
        std::string error;
        if (!remote.open(device, error)) {
            std::cerr << "rpmsg-sim remote: " << error << "\n";
            rc = 1;
        } else {
            rc = serveReady(event, device);
        }
    }
    sd_event_unref(event);
    return rc;
}

} // namespace rpmsgsim
