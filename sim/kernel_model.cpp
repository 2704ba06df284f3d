#include "kernel_model.h"

#include "behaviour_spec.h"
#include "common/firmware_image.h"
#include "remote.h"
#include "uevent.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <poll.h>
#include <set>
#include <sstream>

#include <linux/rpmsg.h>
#include <nlohmann/json.hpp>

// GCC 12 warns about members left out of C++20 designated initializers (GCC bug 96868, fixed
// in GCC 13); AttrOps is meant to be initialised that way.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace rpmsgsim {

namespace fw = rpmsgd::fw;
using nlohmann::json;

namespace {

// uapi values (kernel-abi.md §6.2); defined here too for headers older than the feature.
constexpr unsigned IoctlCreateEpt = 0x4028B501;
constexpr unsigned IoctlDestroyEpt = 0x0000B502;
constexpr unsigned IoctlCreateDev = 0x4028B503;
constexpr unsigned IoctlReleaseDev = 0x4028B504;
constexpr unsigned IoctlGetOutgoingFlow = 0x8004B505;
constexpr unsigned IoctlSetIncomingFlow = 0x8004B506;
static_assert(sizeof(rpmsg_endpoint_info) == 40, "uapi struct rpmsg_endpoint_info is 40 bytes");
static_assert(RPMSG_CREATE_EPT_IOCTL == IoctlCreateEpt, "uapi number");
static_assert(RPMSG_DESTROY_EPT_IOCTL == IoctlDestroyEpt, "uapi number");

constexpr uint32_t AddrAny = 0xFFFFFFFFu;
constexpr uint32_t ReservedAddresses = 1024;
constexpr size_t MaxPayload = 496; // 512-byte buffers minus the 16-byte rpmsg header
constexpr size_t MaxQueuedPerEndpoint = 65536;
constexpr int CtrlMajor = 245;
constexpr int EptMajor = 244;

enum class RState { Offline, Suspended, Running, Crashed, Deleted, Detached, Attached };

const char* stateWord(RState s) {
    switch (s) {
    case RState::Offline:
        return "offline";
    case RState::Suspended:
        return "suspended";
    case RState::Running:
        return "running";
    case RState::Crashed:
        return "crashed";
    case RState::Deleted:
        return "deleted";
    case RState::Detached:
        return "detached";
    case RState::Attached:
        return "attached";
    }
    return "invalid";
}

enum class CoredumpMode { Disabled, Enabled, Inline };

const char* coredumpWord(CoredumpMode m) {
    switch (m) {
    case CoredumpMode::Disabled:
        return "disabled";
    case CoredumpMode::Enabled:
        return "enabled";
    case CoredumpMode::Inline:
        return "inline";
    }
    return "disabled";
}

const char* crashTypeName(unsigned type) {
    switch (type) {
    case 0:
        return "mmufault";
    case 1:
        return "watchdog";
    case 2:
        return "fatal error";
    default:
        return "unknown";
    }
}

/// The kernel's differences by version (kernel-abi.md §8).
struct Profile {
    std::string version;
    bool startBusyWhenRunning = false; // 5.15: EBUSY; 5.19+: refcount quirk
    int fullNonblockErrno = EAGAIN;    // 5.18+: EAGAIN; older: ENOMEM
    bool createDev = true;             // CREATE_DEV / RELEASE_DEV (5.18+)
    bool flowControl = true;           // 6.6+
    bool rpmsgRaw = true;              // rpmsg_char binds rpmsg-raw (5.18+)
    bool platformVdev = true;          // rproc-virtio.M.auto (6.1+) vs remoteprocN#vdevMbuffer
    int staleOpenErrno = ENETRESET;    // 6.3+
    std::string ctrlBusName = "rpmsg_ctrl";
};

Profile profileFor(const std::string& version) {
    Profile p;
    p.version = version;
    if (version == "5.15") {
        p.startBusyWhenRunning = true;
        p.fullNonblockErrno = ENOMEM;
        p.createDev = false;
        p.flowControl = false;
        p.rpmsgRaw = false;
        p.platformVdev = false;
        p.staleOpenErrno = ENODEV;
        p.ctrlBusName = "rpmsg_chrdev";
    } else if (version == "6.1") {
        // As 6.6 but without the flow-control ioctls (6.6). ENETRESET at open stays: the 6.3
        // commit is in 6.1-stable (rpmsg_char.c of 6.1.192, the real-kernel lane's kernel).
        p.flowControl = false;
    }
    return p;
}

/// Lowest-free index allocator (the kernel's IDA).
class Ida {
public:
    explicit Ida(int first = 0) : first_(first) {}
    int alloc() {
        int i = first_;
        while (used_.count(i)) {
            ++i;
        }
        used_.insert(i);
        return i;
    }
    void release(int i) { used_.erase(i); }

private:
    int first_;
    std::set<int> used_;
};

/// sysfs_streq(): equal, allowing one trailing newline on the written text. The store sees a
/// NUL-terminated buffer, so anything after a NUL byte does not count.
bool streq(std::string_view buf, std::string_view word) {
    size_t nul = buf.find('\0');
    if (nul != std::string_view::npos) {
        buf = buf.substr(0, nul);
    }
    if (!buf.empty() && buf.back() == '\n') {
        buf.remove_suffix(1);
    }
    return buf == word;
}

/// The debugfs word match: the trailing newline becomes a NUL but `count` is not reduced, then
/// strncmp(buf, word, count) — so "en" matches "enabled" but "en\n" does not.
bool debugfsMatch(std::string_view data, const char* word) {
    std::string buf(data);
    if (!buf.empty() && buf.back() == '\n') {
        buf.back() = '\0';
    }
    return strncmp(buf.c_str(), word, buf.size()) == 0;
}

std::string hex(uint32_t v) {
    char b[16];
    snprintf(b, sizeof b, "0x%x", v);
    return b;
}

std::string signedDec(uint32_t v) {
    return std::to_string(int32_t(v));
}

std::string sanitizeDevName(std::string name) {
    // kobject names cannot hold '/': the driver core turns it into '!'.
    std::replace(name.begin(), name.end(), '/', '!');
    return name;
}

/// rpmsg_device_match(): src and dst of ANY match everything; the name must be equal.
bool channelMatches(const std::string& devName, uint32_t devSrc, uint32_t devDst,
                    const std::string& name, uint32_t src, uint32_t dst) {
    return (src == 0xFFFFFFFFu || src == devSrc) && (dst == 0xFFFFFFFFu || dst == devDst) &&
           devName == name;
}

std::string cstrName(const char* p, size_t max) {
    size_t n = strnlen(p, max);
    return std::string(p, n);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Model objects

struct Processor;
struct Vdev;
struct Eptdev;
struct CtrlDev;
struct Devcd;

/// A device's uevent identity.
struct DeviceInfo {
    std::string subsystem;
    std::vector<std::pair<std::string, std::string>> vars;
};

struct PendingRead {
    uint64_t id;
    RequestPtr req;
    size_t size;
};

struct Eptdev : std::enable_shared_from_this<Eptdev> {
    int index = -1;
    std::string name;
    uint32_t src = AddrAny, dst = AddrAny;
    bool defaultEndpoint = false; // bound to a channel (rpmsg-raw): endpoint lives from probe
    std::weak_ptr<Vdev> vdev;
    std::string processorId;
    NodePtr dir, classLink, devNode;
    DeviceInfo info;
    bool alive = true;         // the device exists (not destroyed/torn down)
    bool endpointGone = false; // eptdev->ept == NULL: reads/writes give EPIPE
    bool isOpen = false;
    int handles = 0;              // open files referencing it (index kept while > 0)
    std::optional<uint32_t> addr; // bound address while an endpoint exists
    std::deque<std::vector<uint8_t>> rxq;
    std::deque<PendingRead> readers;
    PollWaiterPtr pollWaiter;
    uint64_t dropped = 0;
};

struct CtrlDev {
    int index = -1;
    std::weak_ptr<Vdev> vdev;
    NodePtr dir, classLink, devNode;
    DeviceInfo info;
    bool alive = true;
    int handles = 0;
};

struct BusDevice {
    std::string devName; // virtio0.rpmsg-echo.-1.1024
    std::string name;
    uint32_t src = AddrAny, dst = AddrAny;
    bool announce = false;
    std::string driverOverride; // empty = (null)
    enum Kind { Ctrl, Ns, Channel } kind = Channel;
    NodePtr dir, busLink;
    DeviceInfo info;
    std::shared_ptr<Eptdev> rawEptdev; // rpmsg-raw bound to rpmsg_char
};

struct ParkedWrite {
    uint64_t id;
    RequestPtr req;
    std::weak_ptr<Eptdev> ept;
    std::vector<uint8_t> data;
    Timer timeout;
};

struct Devcd {
    int index = 0;
    std::vector<uint8_t> data;
    std::string processorId;
    NodePtr dir, classLink, procLink;
    DeviceInfo info;
    Timer timeout;
    std::function<void()> onFree; // an inline dump's waiting recovery
    bool freed = false;
};

struct Vdev : RemoteTransport, std::enable_shared_from_this<Vdev> {
    Simulator::Impl* sim = nullptr;
    std::weak_ptr<Processor> proc;
    int virtioIndex = -1;
    int platformId = -1;
    NodePtr vdevDir, virtioDir;
    DeviceInfo vdevInfo, virtioInfo;
    bool nameService = false;
    bool alive = true;
    std::vector<std::shared_ptr<BusDevice>> busDevices;
    std::shared_ptr<CtrlDev> ctrl;
    std::vector<std::weak_ptr<Eptdev>> eptdevs;          // CREATE_EPT ones
    std::map<uint32_t, std::weak_ptr<Eptdev>> endpoints; // Linux-side addresses (53 = NS)
    int txTotal = 256;
    int txFree = 256;
    uint64_t nextToken = 1;
    std::deque<ParkedWrite> parked; // writers waiting for a TX buffer, in order
    std::unique_ptr<RemoteEngine> engine;

    void sendToLinux(uint32_t src, uint32_t dst, std::span<const uint8_t> payload) override;
    void releaseBuffer(uint64_t token) override;
    void reportCrash(unsigned type) override;
    void trace(const std::string& line) override;
};

struct Processor : std::enable_shared_from_this<Processor> {
    int index = -1;
    std::string id, name, firmware;
    RState state = RState::Offline;
    bool recoveryDisabled = false;
    CoredumpMode coredump = CoredumpMode::Disabled;
    int power = 0;
    uint32_t crashCount = 0;
    bool canDetach = false;
    bool sysfsReadOnly = false;
    bool bare = false; // a virtio transport with no remoteproc: no sysfs/debugfs of its own
    NodePtr platformDir, dir, classLink, debugDir, traceNode;
    DeviceInfo info;
    std::optional<fw::Image> image;  // the resource table in effect (table_ptr)
    std::vector<uint8_t> imageBytes; // the loaded firmware (for coredumps)
    BehaviourSpec behaviour;
    std::string traceBuf;
    uint32_t traceLen = 0;
    std::shared_ptr<Vdev> vdev;
    std::weak_ptr<Devcd> pendingDump;
    bool stalled = false;
};

// ---------------------------------------------------------------------------------------------

struct Simulator::Impl {
    Vfs& vfs;
    Scheduler& sched;
    SimConfig config;
    Profile profile;
    std::string firmwareDir;
    UeventSender* uevents;

    std::vector<std::shared_ptr<Processor>> processors;
    Ida rprocIda{0}, virtioIda{0}, platformIda{0}, ctrlIda{0}, eptIda{0};
    int nextDevcd = 1;
    bool devcdDisabled = false;
    std::vector<std::shared_ptr<Devcd>> devcds;
    std::vector<std::shared_ptr<Vdev>> dyingVdevs; // torn down, writers still waiting (TX)
    std::vector<std::shared_ptr<Eptdev>> eptdevs;  // every eptdev whose index is held
    std::vector<std::shared_ptr<CtrlDev>> ctrls;
    uint64_t nextWaitId = 1;
    uint64_t statToRemote = 0, statToLinux = 0, statDropped = 0;

    NodePtr sysClassRemoteproc, sysClassRpmsg, sysBusRpmsgDevices, sysClassDevcd, debugRemoteproc,
        devDir, virtualDevcd;

    Impl(Vfs& v, Scheduler& s, SimConfig c, std::string fwdir, UeventSender* u)
        : vfs(v), sched(s), config(std::move(c)), profile(profileFor(config.kernel)),
          firmwareDir(std::move(fwdir)), uevents(u) {}

    void log(const std::string& line) { std::cerr << "rpmsg-sim: " << line << std::endl; }

    // --- tree helpers --------------------------------------------------------------------
    void emit(const std::string& action, const NodePtr& dir, const DeviceInfo& info) {
        if (!uevents || !dir || info.subsystem.empty()) {
            return;
        }
        std::string path = dir->path();
        if (path.rfind("/sys", 0) == 0) {
            path = path.substr(4);
        }
        uevents->send(action, path, info.subsystem, info.vars);
    }

    std::string ueventText(const DeviceInfo& info) {
        std::string s;
        for (const auto& [k, v] : info.vars) {
            s += k + "=" + v + "\n";
        }
        return s;
    }

    /// The files every device has: `uevent` (writable: synthetic events) and `subsystem`.
    void deviceFiles(const NodePtr& dir, const std::string& subsystemPath,
                     std::shared_ptr<DeviceInfo> info) {
        std::weak_ptr<Node> weakDir = dir;
        vfs.attr(dir, "uevent", 0644,
                 AttrOps{.show = [this, info] { return ueventText(*info); },
                         .store = [this, info, weakDir](std::string_view buf) -> long {
                             std::string word(buf.substr(0, buf.find_first_of(" \n")));
                             static const std::set<std::string> actions = {
                                 "add",    "remove",  "change", "move",
                                 "online", "offline", "bind",   "unbind"};
                             if (!actions.count(word)) {
                                 return -EINVAL;
                             }
                             emit(word, weakDir.lock(), *info);
                             return long(buf.size());
                         }});
        vfs.symlink(dir, "subsystem", subsystemPath);
    }

    NodePtr roAttr(const NodePtr& dir, const std::string& name, std::function<std::string()> show) {
        return vfs.attr(dir, name, 0444, AttrOps{.show = std::move(show)});
    }

    void start();
    void shutdown();

    // --- processors ----------------------------------------------------------------------
    std::shared_ptr<Processor> addProcessor(const ProcessorConfig& pc, bool hotplug);
    void removeProcessor(const std::shared_ptr<Processor>& p);
    std::shared_ptr<Processor> findProcessor(const std::string& key);
    void buildProcessorTree(const std::shared_ptr<Processor>& p);
    void buildDebugfs(const std::shared_ptr<Processor>& p);
    /// `recovery` in sysfs (sysfs_streq) and in debugfs (strncmp, at most 10 bytes).
    AttrOps recoveryAttr(std::weak_ptr<Processor> weak, bool debugfs);

    long storeState(const std::shared_ptr<Processor>& p, std::string_view buf);
    long storeFirmware(const std::shared_ptr<Processor>& p, std::string_view buf);
    long storeCoredump(const std::shared_ptr<Processor>& p, std::string_view buf);
    void storeRecovery(const std::shared_ptr<Processor>& p, std::string_view buf, RequestPtr req,
                       bool debugfs);

    int boot(const std::shared_ptr<Processor>& p);
    int shutdownProc(const std::shared_ptr<Processor>& p);
    int detach(const std::shared_ptr<Processor>& p);
    int loadFirmware(const std::shared_ptr<Processor>& p, std::vector<uint8_t>& bytes,
                     std::optional<fw::Image>& image);
    void startWith(const std::shared_ptr<Processor>& p, std::vector<uint8_t> bytes, fw::Image image,
                   RState newState);
    void stopProc(const std::shared_ptr<Processor>& p);
    void cleanupResources(const std::shared_ptr<Processor>& p);
    void reportCrash(const std::shared_ptr<Processor>& p, unsigned type);
    void crashHandler(const std::shared_ptr<Processor>& p, unsigned type);
    void triggerRecovery(const std::shared_ptr<Processor>& p, std::function<void()> done);
    void coredumpThen(const std::shared_ptr<Processor>& p, std::function<void()> next);

    // --- virtio / rpmsg ------------------------------------------------------------------
    void startSubdevices(const std::shared_ptr<Processor>& p);
    void stopSubdevices(const std::shared_ptr<Processor>& p);
    std::shared_ptr<BusDevice> addBusDevice(const std::shared_ptr<Vdev>& v, BusDevice::Kind kind,
                                            const std::string& name, uint32_t src, uint32_t dst,
                                            const std::string& driverOverride, bool announce);
    void removeBusDevice(const std::shared_ptr<Vdev>& v, const std::shared_ptr<BusDevice>& b);
    void addCtrl(const std::shared_ptr<Vdev>& v, const std::shared_ptr<BusDevice>& bus);
    std::shared_ptr<Eptdev> addEptdev(const std::shared_ptr<Vdev>& v, const NodePtr& parentDir,
                                      const rpmsg_endpoint_info& info, bool defaultEndpoint);
    void destroyEptdev(const std::shared_ptr<Eptdev>& e);
    void maybeReleaseEptIndex(const std::shared_ptr<Eptdev>& e);
    void maybeReleaseCtrlIndex(const std::shared_ptr<CtrlDev>& c);
    std::optional<uint32_t> claimAddress(const std::shared_ptr<Vdev>& v, uint32_t want,
                                         const std::shared_ptr<Eptdev>& e);
    void releaseAddress(const std::shared_ptr<Eptdev>& e);
    void nsMessage(const std::shared_ptr<Vdev>& v, std::span<const uint8_t> payload);
    void deliver(const std::shared_ptr<Eptdev>& e, std::span<const uint8_t> payload);
    void wakeReaders(const std::shared_ptr<Eptdev>& e);
    void notifyPoll(const std::shared_ptr<Eptdev>& e);
    void eptRead(const std::shared_ptr<Eptdev>& e, RequestPtr req, size_t size, bool nonblock);
    void eptWrite(const std::shared_ptr<Eptdev>& e, RequestPtr req, std::vector<uint8_t> data,
                  bool nonblock);
    void sendToRemote(const std::shared_ptr<Vdev>& v, const std::shared_ptr<Eptdev>& e,
                      std::vector<uint8_t> data);
    void serviceParked(const std::shared_ptr<Vdev>& v);
    void keepParkedUntilTimeout(const std::shared_ptr<Vdev>& v);

    // --- devcoredump ---------------------------------------------------------------------
    std::shared_ptr<Devcd> createDevcd(const std::shared_ptr<Processor>& p,
                                       std::vector<uint8_t> data);
    void freeDevcd(const std::shared_ptr<Devcd>& d);
    std::vector<uint8_t> buildCore(const Processor& p);

    Simulator::ControlResult control(const std::vector<std::string>& args);
    json dump();
};

// ---------------------------------------------------------------------------------------------
// Tree and processors

void Simulator::Impl::start() {
    auto root = vfs.root();
    sysClassRemoteproc = vfs.mkdirs("/sys/class/remoteproc");
    sysClassRpmsg = vfs.mkdirs("/sys/class/rpmsg");
    sysBusRpmsgDevices = vfs.mkdirs("/sys/bus/rpmsg/devices");
    auto drivers = vfs.mkdirs("/sys/bus/rpmsg/drivers");
    if (profile.version != "5.15") {
        vfs.dir(drivers, "rpmsg_ctrl");
    }
    vfs.dir(drivers, "rpmsg_ns");
    vfs.dir(drivers, "rpmsg_chrdev");
    vfs.mkdirs("/sys/bus/virtio/devices");
    vfs.mkdirs("/sys/bus/platform/devices");
    vfs.mkdirs("/sys/devices/platform");
    sysClassDevcd = vfs.mkdirs("/sys/class/devcoredump");
    virtualDevcd = vfs.mkdirs("/sys/devices/virtual/devcoredump");
    vfs.attr(sysClassDevcd, "disabled", 0644,
             AttrOps{.show = [this] { return std::string(devcdDisabled ? "1\n" : "0\n"); },
                     .store = [this](std::string_view buf) -> long {
                         // simple_strtol: leading digits count, the rest is ignored.
                         std::string s(buf.substr(0, buf.find('\0')));
                         long v = strtol(s.c_str(), nullptr, 10);
                         if (v != 1) {
                             return -EINVAL;
                         }
                         devcdDisabled = true; // write-once, as in the kernel
                         auto all = devcds;
                         for (auto& d : all) {
                             freeDevcd(d);
                         }
                         return long(buf.size());
                     }});
    debugRemoteproc = vfs.mkdirs("/sys/kernel/debug/remoteproc");
    devDir = vfs.dir(root, "dev");
    for (const auto& pc : config.processors) {
        addProcessor(pc, false);
    }
    for (size_t i = 0; i < config.processors.size() && i < processors.size(); ++i) {
        if (processors[i]->bare) {
            // The transport probes at registration: the remote is there from the start.
            std::weak_ptr<Processor> weak = processors[i];
            sched.post([this, weak] {
                auto p = weak.lock();
                if (!p) {
                    return;
                }
                std::vector<uint8_t> bytes;
                std::optional<fw::Image> image;
                if (int r = loadFirmware(p, bytes, image)) {
                    log(p->id + ": transport has no remote: " + strerror(r));
                    return;
                }
                p->power = 1;
                startWith(p, std::move(bytes), std::move(*image), RState::Attached);
            });
            continue;
        }
        if (config.processors[i].autoBoot) {
            // auto_boot boots asynchronously at registration (request_firmware_nowait).
            std::weak_ptr<Processor> weak = processors[i];
            sched.post([this, weak] {
                if (auto p = weak.lock()) {
                    int r = boot(p);
                    if (r) {
                        log(p->id + ": auto boot failed: " + strerror(r));
                    }
                }
            });
        }
    }
}

std::shared_ptr<Processor> Simulator::Impl::addProcessor(const ProcessorConfig& pc, bool hotplug) {
    auto p = std::make_shared<Processor>();
    p->bare = !pc.remoteproc;
    if (!p->bare) {
        p->index = rprocIda.alloc();
        p->id = "remoteproc" + std::to_string(p->index);
    } else {
        p->id = pc.name; // no remoteproc index; the kernel names nothing after it
    }
    p->name = pc.name;
    p->firmware = pc.firmware.empty() ? "rproc-" + pc.name + "-fw" : pc.firmware;
    p->recoveryDisabled = !pc.recovery;
    p->coredump = pc.coredump == "enabled"  ? CoredumpMode::Enabled
                  : pc.coredump == "inline" ? CoredumpMode::Inline
                                            : CoredumpMode::Disabled;
    p->canDetach = pc.detached;
    p->state = pc.detached ? RState::Detached : RState::Offline;
    p->sysfsReadOnly = pc.sysfsReadOnly;
    processors.push_back(p);
    if (p->bare) {
        // Like a virtio-mmio platform device: the virtio device sits right under it.
        p->platformDir = vfs.mkdirs("/sys/devices/platform/sim-" + p->name);
        p->dir = p->platformDir;
        p->info = DeviceInfo{"platform", {{"DRIVER", "virtio-mmio"}}};
        deviceFiles(p->dir, "/sys/bus/platform", std::make_shared<DeviceInfo>(p->info));
        emit("add", p->dir, p->info);
    } else {
        buildProcessorTree(p);
    }
    if (hotplug) {
        log("hot-plugged " + p->id + " (" + p->name + ")");
    }
    return p;
}

std::shared_ptr<Processor> Simulator::Impl::findProcessor(const std::string& key) {
    for (auto& p : processors) {
        if (p->id == key) {
            return p;
        }
    }
    for (auto& p : processors) {
        if (p->name == key) {
            return p;
        }
    }
    return nullptr;
}

void Simulator::Impl::buildProcessorTree(const std::shared_ptr<Processor>& p) {
    std::weak_ptr<Processor> weak = p;
    p->platformDir = vfs.mkdirs("/sys/devices/platform/sim-" + p->name);
    p->dir = vfs.dir(vfs.dir(p->platformDir, "remoteproc"), p->id);
    auto info = std::make_shared<DeviceInfo>(DeviceInfo{"remoteproc", {}});
    p->info = *info;
    uint32_t rw = p->sysfsReadOnly ? 0444 : 0644;

    vfs.attr(p->dir, "name", 0444, AttrOps{.show = [weak] {
                 auto sp = weak.lock();
                 return sp ? sp->name + "\n" : std::string();
             }});
    vfs.attr(p->dir, "firmware", rw,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             if (!sp) {
                                 return std::string();
                             }
                             // Another entity loaded what runs now: the name is not known.
                             return sp->state == RState::Attached ? std::string("unknown\n")
                                                                  : sp->firmware + "\n";
                         },
                     .store = [this, weak](std::string_view buf) -> long {
                         auto sp = weak.lock();
                         return sp ? storeFirmware(sp, buf) : -ENODEV;
                     }});
    vfs.attr(p->dir, "state", rw,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             return sp ? std::string(stateWord(sp->state)) + "\n" : std::string();
                         },
                     .store = [this, weak](std::string_view buf) -> long {
                         auto sp = weak.lock();
                         return sp ? storeState(sp, buf) : -ENODEV;
                     }});
    vfs.attr(p->dir, "recovery", rw, recoveryAttr(weak, false));
    vfs.attr(p->dir, "coredump", rw,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             return sp ? std::string(coredumpWord(sp->coredump)) + "\n"
                                       : std::string();
                         },
                     .store = [this, weak](std::string_view buf) -> long {
                         auto sp = weak.lock();
                         return sp ? storeCoredump(sp, buf) : -ENODEV;
                     }});
    deviceFiles(p->dir, "/sys/class/remoteproc", info);
    vfs.symlink(p->dir, "device", p->platformDir->path());
    p->classLink = vfs.symlink(sysClassRemoteproc, p->id, p->dir->path());
    buildDebugfs(p);
    emit("add", p->dir, p->info);
}

AttrOps Simulator::Impl::recoveryAttr(std::weak_ptr<Processor> weak, bool debugfs) {
    return AttrOps{.show =
                       [weak] {
                           auto sp = weak.lock();
                           return std::string(sp && sp->recoveryDisabled ? "disabled\n"
                                                                         : "enabled\n");
                       },
                   .storeAsync =
                       [this, weak, debugfs](std::string_view buf, RequestPtr req) {
                           auto sp = weak.lock();
                           if (!sp) {
                               return req->replyError(ENODEV);
                           }
                           storeRecovery(sp, buf, std::move(req), debugfs);
                       },
                   .maxWrite = debugfs ? size_t(10) : size_t(4096),
                   .debugfs = debugfs};
}

void Simulator::Impl::buildDebugfs(const std::shared_ptr<Processor>& p) {
    std::weak_ptr<Processor> weak = p;
    p->debugDir = vfs.dir(debugRemoteproc, p->id);
    vfs.attr(p->debugDir, "name", 0400,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             return sp ? sp->name.substr(0, 98) + "\n" : std::string();
                         },
                     .debugfs = true});
    vfs.attr(p->debugDir, "crash", 0200,
             AttrOps{.store = [this, weak](std::string_view buf) -> long {
                         auto sp = weak.lock();
                         if (!sp) {
                             return -ENODEV;
                         }
                         // kstrtouint(base 0): one trailing newline allowed.
                         std::string s(buf);
                         if (!s.empty() && s.back() == '\n') {
                             s.pop_back();
                         }
                         if (s.empty() || s[0] == '-' || s[0] == '+' ||
                             s.find_first_of(" \t\n") != std::string::npos ||
                             s.find('\0') != std::string::npos) {
                             return -EINVAL;
                         }
                         errno = 0;
                         char* end = nullptr;
                         unsigned long long v = strtoull(s.c_str(), &end, 0);
                         if (!end || *end != '\0') {
                             return -EINVAL;
                         }
                         if (errno == ERANGE || v > UINT_MAX) {
                             return -ERANGE;
                         }
                         reportCrash(sp, unsigned(v));
                         return long(buf.size());
                     },
                     .maxWrite = 4096,
                     .debugfs = true});
    vfs.attr(p->debugDir, "recovery", 0600, recoveryAttr(weak, true));
    vfs.attr(p->debugDir, "coredump", 0600,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             return sp ? std::string(coredumpWord(sp->coredump)) + "\n"
                                       : std::string();
                         },
                     .store = [weak](std::string_view buf) -> long {
                         auto sp = weak.lock();
                         if (!sp) {
                             return -ENODEV;
                         }
                         if (sp->state == RState::Crashed) {
                             return -EBUSY;
                         }
                         if (debugfsMatch(buf, "disabled")) {
                             sp->coredump = CoredumpMode::Disabled;
                         } else if (debugfsMatch(buf, "enabled")) {
                             sp->coredump = CoredumpMode::Enabled;
                         } else if (debugfsMatch(buf, "inline")) {
                             sp->coredump = CoredumpMode::Inline;
                         } else {
                             return -EINVAL;
                         }
                         return long(buf.size());
                     },
                     .maxWrite = 20,
                     .debugfs = true});
    vfs.attr(p->debugDir, "resource_table", 0400,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             return fw::describeResourceTable(sp && sp->image ? &*sp->image
                                                                              : nullptr);
                         },
                     .debugfs = true});
    vfs.attr(p->debugDir, "carveout_memories", 0400,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             std::string s;
                             if (!sp || !sp->image) {
                                 return s;
                             }
                             for (const auto& r : sp->image->resources) {
                                 if (r.type != fw::RscCarveout) {
                                     continue;
                                 }
                                 char b[256];
                                 snprintf(b, sizeof b,
                                          "Carveout memory entry:\n\tName: %s\n\tVirtual address: "
                                          "0000000000000000\n\tDMA address: 0x%08x\n\tDevice "
                                          "address: 0x%08x\n\tLength: 0x%x Bytes\n\n",
                                          r.name.c_str(), r.pa, r.da, r.len);
                                 s += b;
                             }
                             return s;
                         },
                     .debugfs = true});
}

void Simulator::Impl::removeProcessor(const std::shared_ptr<Processor>& p) {
    // rproc_del: shut down, mark deleted, then the device goes.
    if (p->state == RState::Running || p->state == RState::Attached ||
        p->state == RState::Crashed) {
        stopProc(p);
        cleanupResources(p);
    }
    p->power = 0;
    p->state = RState::Deleted;
    vfs.remove(p->debugDir);
    processors.erase(std::remove(processors.begin(), processors.end(), p), processors.end());
    // The device goes at once; an attribute opened before now answers ENODEV.
    emit("remove", p->dir, p->info);
    vfs.remove(p->classLink);
    vfs.remove(p->platformDir);
    if (!p->bare) {
        rprocIda.release(p->index);
    }
    log("removed " + p->id + " (" + p->name + ")");
}

// --- sysfs stores ------------------------------------------------------------------------

long Simulator::Impl::storeState(const std::shared_ptr<Processor>& p, std::string_view buf) {
    int r = 0;
    if (streq(buf, "start")) {
        if (profile.startBusyWhenRunning &&
            (p->state == RState::Running || p->state == RState::Attached)) {
            return -EBUSY;
        }
        r = boot(p);
    } else if (streq(buf, "stop")) {
        if (p->state != RState::Running && p->state != RState::Attached) {
            return -EINVAL;
        }
        r = shutdownProc(p);
        if (profile.version == "5.15") {
            r = 0; // 5.13-5.18 sysfs ignores the shutdown result
        }
    } else if (streq(buf, "detach")) {
        r = detach(p);
    } else {
        log(p->id + ": Unrecognised option: " + std::string(buf));
        r = EINVAL;
    }
    return r ? -r : long(buf.size());
}

long Simulator::Impl::storeFirmware(const std::shared_ptr<Processor>& p, std::string_view buf) {
    if (p->state != RState::Offline) {
        log(p->id + ": can't change firmware while running");
        return -EBUSY;
    }
    std::string s(buf.substr(0, buf.find('\0')));
    size_t len = s.find('\n');
    if (len == std::string::npos) {
        len = s.size();
    }
    if (len == 0) {
        log(p->id + ": can't provide empty string for firmware name");
        return -EINVAL;
    }
    p->firmware = s.substr(0, len);
    return long(buf.size());
}

long Simulator::Impl::storeCoredump(const std::shared_ptr<Processor>& p, std::string_view buf) {
    if (p->state == RState::Crashed) {
        log(p->id + ": can't change coredump configuration");
        return -EBUSY;
    }
    if (streq(buf, "disabled")) {
        p->coredump = CoredumpMode::Disabled;
    } else if (streq(buf, "enabled")) {
        p->coredump = CoredumpMode::Enabled;
    } else if (streq(buf, "inline")) {
        p->coredump = CoredumpMode::Inline;
    } else {
        return -EINVAL;
    }
    return long(buf.size());
}

void Simulator::Impl::storeRecovery(const std::shared_ptr<Processor>& p, std::string_view buf,
                                    RequestPtr req, bool debugfs) {
    size_t count = buf.size();
    auto match = [&](const char* word) {
        return debugfs ? debugfsMatch(buf, word) : streq(buf, word);
    };
    // The write returns when recovery is over; with an inline coredump that is after the dump
    // was read and dismissed (the kernel waits uninterruptibly there too).
    auto shared = std::make_shared<RequestPtr>(std::move(req));
    auto done = [shared, count] {
        if (*shared) {
            (*shared)->replyWritten(count);
            shared->reset();
        }
    };
    if (match("enabled")) {
        p->recoveryDisabled = false;
        triggerRecovery(p, done);
    } else if (match("disabled")) {
        p->recoveryDisabled = true;
        done();
    } else if (match("recover")) {
        triggerRecovery(p, done);
    } else {
        (*shared)->replyError(EINVAL);
    }
}

// --- lifecycle ----------------------------------------------------------------------------

int Simulator::Impl::loadFirmware(const std::shared_ptr<Processor>& p, std::vector<uint8_t>& bytes,
                                  std::optional<fw::Image>& image) {
    // request_firmware(): any failure to read a non-empty regular file ends as ENOENT.
    std::string path = firmwareDir + "/" + p->firmware;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        log(p->id + ": Direct firmware load for " + p->firmware + " failed with error -2");
        return ENOENT;
    }
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad() || bytes.empty()) {
        log(p->id + ": Direct firmware load for " + p->firmware + " failed with error -2");
        return ENOENT;
    }
    auto parsed = fw::parse(bytes);
    if (!parsed) {
        log(p->id + ": " + p->firmware + ": " + parsed.problem.message);
        return parsed.problem.error ? parsed.problem.error : EINVAL;
    }
    image = std::move(parsed.image);
    return 0;
}

int Simulator::Impl::boot(const std::shared_ptr<Processor>& p) {
    if (p->state == RState::Deleted) {
        return ENODEV;
    }
    // Skip the boot when already powered up: this is the refcount quirk of kernel-abi.md §1.1.
    if (++p->power > 1) {
        return 0;
    }
    std::vector<uint8_t> bytes;
    std::optional<fw::Image> image;
    RState target = p->state == RState::Detached ? RState::Attached : RState::Running;
    if (target == RState::Running) {
        log(p->id + ": powering up " + p->name);
    }
    int r = loadFirmware(p, bytes, image);
    if (r) {
        --p->power;
        return r;
    }
    startWith(p, std::move(bytes), std::move(*image), target);
    return 0;
}

void Simulator::Impl::startWith(const std::shared_ptr<Processor>& p, std::vector<uint8_t> bytes,
                                fw::Image image, RState newState) {
    p->imageBytes = std::move(bytes);
    p->behaviour = BehaviourSpec{};
    if (image.behaviour) {
        auto parsed = parseBehaviour(*image.behaviour);
        if (parsed.ok) {
            p->behaviour = parsed.spec;
        } else {
            log(p->id + ": firmware behaviour section ignored: " + parsed.error);
        }
    }
    // Resources: a trace entry gives debugfs trace0 (kept through recovery).
    p->traceLen = 0;
    for (const auto& r : image.resources) {
        if (r.type == fw::RscTrace && p->traceLen == 0) {
            p->traceLen = r.len;
        }
    }
    p->traceBuf.clear();
    p->image = std::move(image);
    if (p->traceLen && !p->traceNode && p->debugDir) {
        std::weak_ptr<Processor> weak = p;
        p->traceNode = vfs.attr(p->debugDir, "trace0", 0400,
                                AttrOps{.show =
                                            [weak] {
                                                auto sp = weak.lock();
                                                return sp ? sp->traceBuf : std::string();
                                            },
                                        .debugfs = true});
    }
    p->state = newState;
    p->stalled = false;
    startSubdevices(p);
    log("remote processor " + p->name + " is now " +
        (newState == RState::Attached ? "attached" : "up"));
}

void Simulator::Impl::stopProc(const std::shared_ptr<Processor>& p) {
    stopSubdevices(p);
    p->state = RState::Offline;
    log("stopped remote processor " + p->name);
}

void Simulator::Impl::cleanupResources(const std::shared_ptr<Processor>& p) {
    vfs.remove(p->traceNode);
    p->traceNode.reset();
    p->traceBuf.clear();
    p->image.reset();
    p->imageBytes.clear();
}

int Simulator::Impl::shutdownProc(const std::shared_ptr<Processor>& p) {
    if (p->state != RState::Running && p->state != RState::Attached) {
        return EINVAL;
    }
    // If the remote processor is still needed (power > 1), only drop the reference.
    if (--p->power > 0) {
        return 0;
    }
    p->power = 0;
    stopProc(p);
    cleanupResources(p);
    return 0;
}

int Simulator::Impl::detach(const std::shared_ptr<Processor>& p) {
    if (p->state != RState::Attached) {
        return EINVAL;
    }
    if (--p->power > 0) {
        return 0;
    }
    if (!p->canDetach) {
        ++p->power; // no ops->detach
        return EINVAL;
    }
    p->power = 0;
    stopSubdevices(p);
    cleanupResources(p);
    p->state = RState::Detached;
    log("detached remote processor " + p->name);
    return 0;
}

void Simulator::Impl::reportCrash(const std::shared_ptr<Processor>& p, unsigned type) {
    // rproc_report_crash() may run in IRQ context: the handler runs later, from a work item.
    std::weak_ptr<Processor> weak = p;
    sched.post([this, weak, type] {
        if (auto sp = weak.lock()) {
            crashHandler(sp, type);
        }
    });
}

void Simulator::Impl::crashHandler(const std::shared_ptr<Processor>& p, unsigned type) {
    if (p->state == RState::Crashed || p->state == RState::Offline ||
        p->state == RState::Detached || p->state == RState::Deleted) {
        return; // only the first crash counts; an offline processor cannot crash
    }
    p->state = RState::Crashed;
    ++p->crashCount;
    log("crash detected in " + p->name + ": type " + crashTypeName(type));
    if (p->vdev && p->vdev->engine) {
        p->vdev->engine->halt();
    }
    if (!p->recoveryDisabled) {
        triggerRecovery(p, [] {});
    }
}

void Simulator::Impl::triggerRecovery(const std::shared_ptr<Processor>& p,
                                      std::function<void()> done) {
    if (p->state != RState::Crashed) {
        return done(); // a no-op unless crashed; sysfs ignores the result
    }
    log("recovering " + p->name);
    // rproc_boot_recovery: stop (tears every rpmsg device down), coredump, reload, start.
    stopProc(p);
    std::weak_ptr<Processor> weak = p;
    coredumpThen(p, [this, weak, done] {
        auto sp = weak.lock();
        if (!sp || sp->state != RState::Offline) {
            return done();
        }
        std::vector<uint8_t> bytes;
        std::optional<fw::Image> image;
        if (loadFirmware(sp, bytes, image)) {
            // The processor stays offline with its power reference held, as in the kernel.
            log(sp->id + ": request_firmware failed during recovery");
            return done();
        }
        startWith(sp, std::move(bytes), std::move(*image), RState::Running);
        done();
    });
}

void Simulator::Impl::coredumpThen(const std::shared_ptr<Processor>& p,
                                   std::function<void()> next) {
    if (p->coredump == CoredumpMode::Disabled || devcdDisabled || p->imageBytes.empty()) {
        return next();
    }
    if (auto pending = p->pendingDump.lock(); pending && !pending->freed) {
        return next(); // one pending dump per device: the new one is dropped at once
    }
    auto d = createDevcd(p, buildCore(*p));
    if (p->coredump == CoredumpMode::Inline) {
        d->onFree = std::move(next); // recovery waits until the dump is dismissed
        return;
    }
    next();
}

// ---------------------------------------------------------------------------------------------
// virtio-rpmsg

void Simulator::Impl::startSubdevices(const std::shared_ptr<Processor>& p) {
    const fw::Resource* vdevRsc = nullptr;
    for (const auto& r : p->image->resources) {
        if (r.type == fw::RscVdev && r.id == fw::VirtioIdRpmsg && r.vrings.size() == 2) {
            vdevRsc = &r;
            break;
        }
    }
    if (!vdevRsc) {
        return; // no rpmsg vdev: the remote runs, but there is no messaging
    }
    auto v = std::make_shared<Vdev>();
    v->sim = this;
    v->proc = p;
    v->nameService = (vdevRsc->dfeatures & fw::VirtioRpmsgFNs) != 0;
    uint32_t num = vdevRsc->vrings[0].num;
    int bufs = num < 256 ? int(2 * num) : 512;
    v->txTotal = v->txFree = bufs / 2;
    v->virtioIndex = virtioIda.alloc();
    if (p->bare) {
        v->vdevDir = nullptr; // the transport's own device is the virtio device's parent
    } else if (profile.platformVdev) {
        v->platformId = platformIda.alloc();
        v->vdevDir = vfs.dir(p->dir, "rproc-virtio." + std::to_string(v->platformId) + ".auto");
        v->vdevInfo = {"platform",
                       {{"DRIVER", "rproc-virtio"}, {"MODALIAS", "platform:rproc-virtio"}}};
        deviceFiles(v->vdevDir, "/sys/bus/platform", std::make_shared<DeviceInfo>(v->vdevInfo));
    } else {
        v->vdevDir = vfs.dir(p->dir, p->id + "#vdev0buffer");
        v->vdevInfo = {"", {}};
        vfs.attr(v->vdevDir, "uevent", 0644, AttrOps{.show = [] {
                     return std::string();
                 }});
    }
    emit("add", v->vdevDir, v->vdevInfo);
    std::string virtioName = "virtio" + std::to_string(v->virtioIndex);
    v->virtioDir = vfs.dir(p->bare ? p->dir : v->vdevDir, virtioName);
    v->virtioInfo = {"virtio",
                     {{"DRIVER", "virtio_rpmsg_bus"}, {"MODALIAS", "virtio:d00000007v00000000"}}};
    deviceFiles(v->virtioDir, "/sys/bus/virtio", std::make_shared<DeviceInfo>(v->virtioInfo));
    vfs.attr(v->virtioDir, "device", 0444, AttrOps{.show = [] {
                 return std::string("0x0007\n");
             }});
    vfs.attr(v->virtioDir, "vendor", 0444, AttrOps{.show = [] {
                 return std::string("0x0000\n");
             }});
    vfs.attr(v->virtioDir, "features", 0444, AttrOps{.show = [v] {
                 std::string f(64, '0');
                 if (v->nameService) {
                     f[0] = '1';
                 }
                 f[32] = '1'; // VIRTIO_F_VERSION_1
                 return f + "\n";
             }});
    vfs.symlink(vfs.mkdirs("/sys/bus/virtio/devices"), virtioName, v->virtioDir->path());
    emit("add", v->virtioDir, v->virtioInfo);
    p->vdev = v;

    // virtio_rpmsg_probe: the ctrl device first (5.13+), then the name-service device.
    auto ctrlBus =
        addBusDevice(v, BusDevice::Ctrl, profile.ctrlBusName, 0, 0, profile.ctrlBusName, false);
    addCtrl(v, ctrlBus);
    if (v->nameService) {
        addBusDevice(v, BusDevice::Ns, "rpmsg_ns", 53, 53, "rpmsg_ns", false);
        v->endpoints[53] = std::weak_ptr<Eptdev>();
    }
    v->engine = std::make_unique<RemoteEngine>(p->behaviour, sched, *v);
    v->engine->start();
}

void Simulator::Impl::stopSubdevices(const std::shared_ptr<Processor>& p) {
    auto v = p->vdev;
    if (!v) {
        return;
    }
    p->vdev.reset();
    v->alive = false;
    v->engine.reset();
    keepParkedUntilTimeout(v);
    // Every eptdev, the ctrl device and every rpmsg bus device goes (rpmsg_ctrldev_remove,
    // device_for_each_child(rpmsg_remove_device)), children before parents.
    auto eptdevs = v->eptdevs; // destroyEptdev() edits the list
    for (auto& weak : eptdevs) {
        if (auto e = weak.lock()) {
            destroyEptdev(e);
        }
    }
    v->eptdevs.clear();
    if (v->ctrl) {
        auto c = v->ctrl;
        c->alive = false;
        emit("remove", c->dir, c->info);
        vfs.remove(c->devNode);
        vfs.remove(c->classLink);
        vfs.remove(c->dir);
        maybeReleaseCtrlIndex(c);
        v->ctrl.reset();
    }
    auto buses = v->busDevices;
    for (auto it = buses.rbegin(); it != buses.rend(); ++it) {
        removeBusDevice(v, *it);
    }
    v->endpoints.clear();
    emit("remove", v->virtioDir, v->virtioInfo);
    vfs.removeChild(vfs.at("/sys/bus/virtio/devices"), "virtio" + std::to_string(v->virtioIndex));
    vfs.remove(v->virtioDir);
    emit("remove", v->vdevDir, v->vdevInfo);
    vfs.remove(v->vdevDir);
    virtioIda.release(v->virtioIndex);
    if (v->platformId >= 0) {
        platformIda.release(v->platformId);
    }
}

std::shared_ptr<BusDevice>
Simulator::Impl::addBusDevice(const std::shared_ptr<Vdev>& v, BusDevice::Kind kind,
                              const std::string& name, uint32_t src, uint32_t dst,
                              const std::string& driverOverride, bool announce) {
    auto b = std::make_shared<BusDevice>();
    b->kind = kind;
    b->name = name;
    b->src = src;
    b->dst = dst;
    b->announce = announce;
    b->driverOverride = driverOverride;
    b->devName = sanitizeDevName("virtio" + std::to_string(v->virtioIndex) + "." + name + "." +
                                 signedDec(src) + "." + signedDec(dst));
    b->dir = vfs.dir(v->virtioDir, b->devName);
    b->info = {"rpmsg", {{"MODALIAS", "rpmsg:" + name}}};
    std::weak_ptr<BusDevice> weak = b;
    roAttr(b->dir, "name", [weak] {
        auto sb = weak.lock();
        return sb ? sb->name + "\n" : std::string();
    });
    roAttr(b->dir, "src", [weak] {
        auto sb = weak.lock();
        return sb ? hex(sb->src) + "\n" : std::string();
    });
    roAttr(b->dir, "dst", [weak] {
        auto sb = weak.lock();
        return sb ? hex(sb->dst) + "\n" : std::string();
    });
    roAttr(b->dir, "announce", [weak] {
        auto sb = weak.lock();
        return std::string(sb && sb->announce ? "true\n" : "false\n");
    });
    roAttr(b->dir, "modalias", [weak] {
        auto sb = weak.lock();
        return sb ? "rpmsg:" + sb->name + "\n" : std::string();
    });
    vfs.attr(b->dir, "driver_override", 0644,
             AttrOps{.show =
                         [weak] {
                             auto sb = weak.lock();
                             if (!sb) {
                                 return std::string();
                             }
                             return (sb->driverOverride.empty() ? std::string("(null)")
                                                                : sb->driverOverride) +
                                    "\n";
                         },
                     .store = [weak](std::string_view buf) -> long {
                         auto sb = weak.lock();
                         if (!sb) {
                             return -ENODEV;
                         }
                         // driver_set_override: cut at the first newline; empty clears. It does
                         // not rebind (kernel-abi.md §5).
                         std::string s(buf.substr(0, buf.find('\0')));
                         s = s.substr(0, s.find('\n'));
                         sb->driverOverride = s;
                         return long(buf.size());
                     }});
    deviceFiles(b->dir, "/sys/bus/rpmsg", std::make_shared<DeviceInfo>(b->info));
    const char* driver = kind == BusDevice::Ctrl ? profile.ctrlBusName.c_str()
                         : kind == BusDevice::Ns ? "rpmsg_ns"
                                                 : nullptr;
    if (driver) {
        vfs.symlink(b->dir, "driver", "/sys/bus/rpmsg/drivers/" + std::string(driver));
    }
    b->busLink = vfs.symlink(sysBusRpmsgDevices, b->devName, b->dir->path());
    v->busDevices.push_back(b);
    emit("add", b->dir, b->info);
    return b;
}

void Simulator::Impl::removeBusDevice(const std::shared_ptr<Vdev>& v,
                                      const std::shared_ptr<BusDevice>& b) {
    if (b->rawEptdev) {
        destroyEptdev(b->rawEptdev);
        b->rawEptdev.reset();
    }
    emit("remove", b->dir, b->info);
    vfs.remove(b->busLink);
    vfs.remove(b->dir);
    v->busDevices.erase(std::remove(v->busDevices.begin(), v->busDevices.end(), b),
                        v->busDevices.end());
}

void Simulator::Impl::maybeReleaseCtrlIndex(const std::shared_ptr<CtrlDev>& c) {
    if (!c->alive && c->handles == 0 && c->index >= 0) {
        ctrlIda.release(c->index);
        c->index = -1;
        ctrls.erase(std::remove(ctrls.begin(), ctrls.end(), c), ctrls.end());
    }
}

void Simulator::Impl::maybeReleaseEptIndex(const std::shared_ptr<Eptdev>& e) {
    // The index is freed at device release, i.e. after the last fd closes.
    if (!e->alive && e->handles == 0 && e->index >= 0) {
        eptIda.release(e->index);
        e->index = -1;
        eptdevs.erase(std::remove(eptdevs.begin(), eptdevs.end(), e), eptdevs.end());
    }
}

// --- ctrl device ------------------------------------------------------------------------------

namespace {

class CtrlHandle : public FileHandle {
public:
    CtrlHandle(Simulator::Impl* sim, std::shared_ptr<CtrlDev> c) : sim_(sim), c_(std::move(c)) {}
    void ioctl(RequestPtr req, unsigned cmd, void* arg, std::span<const uint8_t> in,
               size_t outSize) override;
    void release() override;

private:
    Simulator::Impl* sim_;
    std::shared_ptr<CtrlDev> c_;
};

class EptHandle : public FileHandle {
public:
    EptHandle(Simulator::Impl* sim, std::shared_ptr<Eptdev> e) : sim_(sim), e_(std::move(e)) {}
    void read(RequestPtr req, size_t size, uint64_t offset, int flags) override;
    void write(RequestPtr req, std::span<const uint8_t> data, uint64_t offset, int flags) override;
    void ioctl(RequestPtr req, unsigned cmd, void* arg, std::span<const uint8_t> in,
               size_t outSize) override;
    void poll(RequestPtr req, PollWaiterPtr waiter) override;
    void release() override;

private:
    Simulator::Impl* sim_;
    std::shared_ptr<Eptdev> e_;
};

} // namespace

void Simulator::Impl::addCtrl(const std::shared_ptr<Vdev>& v,
                              const std::shared_ptr<BusDevice>& bus) {
    auto c = std::make_shared<CtrlDev>();
    c->index = ctrlIda.alloc();
    c->vdev = v;
    std::string name = "rpmsg_ctrl" + std::to_string(c->index);
    c->dir = vfs.dir(vfs.dir(bus->dir, "rpmsg"), name);
    std::string devnum = std::to_string(CtrlMajor) + ":" + std::to_string(c->index);
    c->info = {"rpmsg",
               {{"MAJOR", std::to_string(CtrlMajor)},
                {"MINOR", std::to_string(c->index)},
                {"DEVNAME", name}}};
    roAttr(c->dir, "dev", [devnum] { return devnum + "\n"; });
    deviceFiles(c->dir, "/sys/class/rpmsg", std::make_shared<DeviceInfo>(c->info));
    vfs.symlink(c->dir, "device", bus->dir->path());
    c->classLink = vfs.symlink(sysClassRpmsg, name, c->dir->path());
    std::weak_ptr<CtrlDev> weak = c;
    c->devNode = vfs.file(devDir, name, 0600, 0,
                          [this, weak](int, uint32_t, std::unique_ptr<FileHandle>& out) -> int {
                              auto sc = weak.lock();
                              if (!sc || !sc->alive) {
                                  return ENODEV;
                              }
                              ++sc->handles;
                              out = std::make_unique<CtrlHandle>(this, sc);
                              return 0;
                          });
    v->ctrl = c;
    ctrls.push_back(c);
    emit("add", c->dir, c->info);
}

void CtrlHandle::release() {
    --c_->handles;
    sim_->maybeReleaseCtrlIndex(c_);
}

void CtrlHandle::ioctl(RequestPtr req, unsigned cmd, void* arg, std::span<const uint8_t> in,
                       size_t) {
    auto v = c_->vdev.lock();
    if (!c_->alive || !v || !v->alive) {
        return req->replyError(ENODEV);
    }
    const Profile& prof = sim_->profile;
    bool known = cmd == IoctlCreateEpt ||
                 (prof.createDev && (cmd == IoctlCreateDev || cmd == IoctlReleaseDev));
    if (!known) {
        // 6.x copies the argument before looking at the command: a bad pointer is EFAULT.
        // FUSE cannot copy for an unknown command, so only NULL is recognised as bad.
        return req->replyError(prof.version != "5.15" && arg == nullptr ? EFAULT : EINVAL);
    }
    if (in.size() < sizeof(rpmsg_endpoint_info)) {
        return req->replyError(EFAULT);
    }
    rpmsg_endpoint_info info{};
    std::memcpy(&info, in.data(), sizeof info);
    info.name[sizeof info.name - 1] = '\0';
    if (cmd == IoctlCreateEpt) {
        auto e = sim_->addEptdev(v, c_->dir, info, false);
        v->eptdevs.push_back(e);
        return req->replyIoctl(0, nullptr, 0);
    }
    std::string name = cstrName(info.name, sizeof info.name);
    if (cmd == IoctlCreateDev) {
        for (const auto& b : v->busDevices) {
            if (b->kind == BusDevice::Channel &&
                channelMatches(b->name, b->src, b->dst, name, info.src, info.dst)) {
                return req->replyError(ENXIO); // rpmsg_create_channel found a duplicate
            }
        }
        bool announce = info.src != AddrAny;
        auto b = sim_->addBusDevice(v, BusDevice::Channel, name, info.src, info.dst, "", announce);
        if (prof.rpmsgRaw && name == "rpmsg-raw") {
            rpmsg_endpoint_info chinfo{};
            std::memcpy(chinfo.name, info.name, sizeof chinfo.name);
            chinfo.src = info.src;
            chinfo.dst = info.dst;
            b->rawEptdev = sim_->addEptdev(v, sim_->vfs.dir(b->dir, "rpmsg"), chinfo, true);
            if (b->rawEptdev->addr) {
                b->src = *b->rawEptdev->addr;
            }
        }
        return req->replyIoctl(0, nullptr, 0);
    }
    // RELEASE_DEV: match by name, src unless ANY, dst unless ANY.
    for (const auto& b : v->busDevices) {
        if (b->kind == BusDevice::Channel &&
            channelMatches(b->name, b->src, b->dst, name, info.src, info.dst)) {
            sim_->removeBusDevice(v, b);
            return req->replyIoctl(0, nullptr, 0);
        }
    }
    req->replyError(EINVAL);
}

// --- endpoint devices --------------------------------------------------------------------

std::optional<uint32_t> Simulator::Impl::claimAddress(const std::shared_ptr<Vdev>& v, uint32_t want,
                                                      const std::shared_ptr<Eptdev>& e) {
    if (want == AddrAny) {
        for (uint32_t a = ReservedAddresses; a < AddrAny; ++a) {
            if (!v->endpoints.count(a)) {
                v->endpoints[a] = e;
                return a;
            }
        }
        return std::nullopt;
    }
    if (v->endpoints.count(want)) {
        return std::nullopt;
    }
    v->endpoints[want] = e;
    return want;
}

void Simulator::Impl::releaseAddress(const std::shared_ptr<Eptdev>& e) {
    if (!e->addr) {
        return;
    }
    if (auto v = e->vdev.lock()) {
        auto it = v->endpoints.find(*e->addr);
        if (it != v->endpoints.end() && it->second.lock() == e) {
            v->endpoints.erase(it);
        }
    }
    e->addr.reset();
}

std::shared_ptr<Eptdev> Simulator::Impl::addEptdev(const std::shared_ptr<Vdev>& v,
                                                   const NodePtr& parentDir,
                                                   const rpmsg_endpoint_info& chinfo,
                                                   bool defaultEndpoint) {
    auto e = std::make_shared<Eptdev>();
    e->index = eptIda.alloc();
    e->name = cstrName(chinfo.name, sizeof chinfo.name);
    e->src = chinfo.src;
    e->dst = chinfo.dst;
    e->defaultEndpoint = defaultEndpoint;
    e->vdev = v;
    if (auto p = v->proc.lock()) {
        e->processorId = p->id;
    }
    std::string name = "rpmsg" + std::to_string(e->index);
    e->dir = vfs.dir(parentDir, name);
    e->info = {"rpmsg",
               {{"MAJOR", std::to_string(EptMajor)},
                {"MINOR", std::to_string(e->index)},
                {"DEVNAME", name}}};
    std::string devnum = std::to_string(EptMajor) + ":" + std::to_string(e->index);
    std::weak_ptr<Eptdev> weak = e;
    // Class attributes show the requested chinfo in signed decimal, not the bound address.
    roAttr(e->dir, "name", [weak] {
        auto se = weak.lock();
        return se ? se->name + "\n" : std::string();
    });
    roAttr(e->dir, "src", [weak] {
        auto se = weak.lock();
        return se ? signedDec(se->src) + "\n" : std::string();
    });
    roAttr(e->dir, "dst", [weak] {
        auto se = weak.lock();
        return se ? signedDec(se->dst) + "\n" : std::string();
    });
    roAttr(e->dir, "dev", [devnum] { return devnum + "\n"; });
    deviceFiles(e->dir, "/sys/class/rpmsg", std::make_shared<DeviceInfo>(e->info));
    vfs.symlink(e->dir, "device", parentDir->path());
    e->classLink = vfs.symlink(sysClassRpmsg, name, e->dir->path());
    e->devNode = vfs.file(devDir, name, 0600, 0,
                          [this, weak](int, uint32_t, std::unique_ptr<FileHandle>& out) -> int {
                              auto se = weak.lock();
                              if (!se || !se->alive || se->endpointGone) {
                                  return profile.staleOpenErrno;
                              }
                              if (se->isOpen) {
                                  return EBUSY;
                              }
                              auto v = se->vdev.lock();
                              if (!v || !v->alive) {
                                  return profile.staleOpenErrno;
                              }
                              if (!se->defaultEndpoint) {
                                  // The endpoint is created at open, at chinfo.src (ANY: lowest >=
                                  // 1024).
                                  auto a = claimAddress(v, se->src, se);
                                  if (!a) {
                                      log(se->dir->name + ": failed to open: address in use");
                                      return EINVAL;
                                  }
                                  se->addr = *a;
                              }
                              se->isOpen = true;
                              ++se->handles;
                              out = std::make_unique<EptHandle>(this, se);
                              return 0;
                          });
    if (defaultEndpoint) {
        // rpmsg_dev_probe() creates the channel's endpoint before rpmsg_chrdev_probe() copies
        // rpdev->src into chinfo, so the class `src` shows the allocated address.
        auto a = claimAddress(v, chinfo.src, e);
        if (a) {
            e->addr = *a;
            e->src = *a;
        }
    }
    eptdevs.push_back(e);
    emit("add", e->dir, e->info);
    return e;
}

void Simulator::Impl::destroyEptdev(const std::shared_ptr<Eptdev>& e) {
    if (!e->alive) {
        return;
    }
    e->alive = false;
    e->endpointGone = true;
    releaseAddress(e);
    e->rxq.clear();
    // Readers see EPIPE, pollers EPOLLERR; the device and its node go at once.
    wakeReaders(e);
    notifyPoll(e);
    emit("remove", e->dir, e->info);
    vfs.remove(e->devNode);
    vfs.remove(e->classLink);
    vfs.remove(e->dir);
    if (auto v = e->vdev.lock()) {
        auto& list = v->eptdevs;
        list.erase(std::remove_if(list.begin(), list.end(),
                                  [&](const std::weak_ptr<Eptdev>& w) { return w.lock() == e; }),
                   list.end());
    }
    maybeReleaseEptIndex(e);
}

void Simulator::Impl::wakeReaders(const std::shared_ptr<Eptdev>& e) {
    while (!e->readers.empty()) {
        if (e->endpointGone) {
            auto r = std::move(e->readers.front());
            e->readers.pop_front();
            r.req->replyError(EPIPE);
            continue;
        }
        if (e->rxq.empty()) {
            break;
        }
        auto r = std::move(e->readers.front());
        e->readers.pop_front();
        auto msg = std::move(e->rxq.front());
        e->rxq.pop_front();
        r.req->replyData(msg.data(), std::min(r.size, msg.size()));
    }
}

void Simulator::Impl::notifyPoll(const std::shared_ptr<Eptdev>& e) {
    if (e->pollWaiter) {
        auto w = std::move(e->pollWaiter);
        w->notify();
    }
}

void Simulator::Impl::deliver(const std::shared_ptr<Eptdev>& e, std::span<const uint8_t> payload) {
    if (e->rxq.size() >= MaxQueuedPerEndpoint) {
        ++e->dropped; // the kernel's queue is unbounded; ours keeps the sim's memory in check
        ++statDropped;
        return;
    }
    e->rxq.emplace_back(payload.begin(), payload.end());
    wakeReaders(e);
    notifyPoll(e);
}

void Simulator::Impl::eptRead(const std::shared_ptr<Eptdev>& e, RequestPtr req, size_t size,
                              bool nonblock) {
    if (e->endpointGone || !e->addr) {
        return req->replyError(EPIPE);
    }
    if (e->rxq.empty() || !e->readers.empty()) {
        if (nonblock && e->rxq.empty()) {
            return req->replyError(EAGAIN);
        }
        // Sleep until a message arrives or the endpoint goes, without holding a FUSE thread.
        uint64_t id = nextWaitId++;
        std::weak_ptr<Eptdev> weak = e;
        Request* raw = req.get();
        e->readers.push_back(PendingRead{id, std::move(req), size});
        raw->onInterrupt([weak, id] {
            auto se = weak.lock();
            if (!se) {
                return;
            }
            for (auto it = se->readers.begin(); it != se->readers.end(); ++it) {
                if (it->id == id) {
                    auto r = std::move(*it);
                    se->readers.erase(it);
                    r.req->replyError(EINTR);
                    return;
                }
            }
        });
        return wakeReaders(e);
    }
    auto msg = std::move(e->rxq.front());
    e->rxq.pop_front();
    // One message per read; a short buffer truncates and the rest is gone.
    req->replyData(msg.data(), std::min(size, msg.size()));
}

void Simulator::Impl::eptWrite(const std::shared_ptr<Eptdev>& e, RequestPtr req,
                               std::vector<uint8_t> data, bool nonblock) {
    auto v = e->vdev.lock();
    if (e->endpointGone || !e->addr || !v || !v->alive) {
        return req->replyError(EPIPE);
    }
    if (*e->addr == AddrAny || e->dst == AddrAny) {
        return req->replyError(EINVAL); // broadcasting isn't allowed
    }
    if (data.size() > MaxPayload) {
        return req->replyError(EMSGSIZE);
    }
    if (v->txFree > 0 && v->parked.empty()) {
        size_t n = data.size();
        sendToRemote(v, e, std::move(data));
        return req->replyWritten(n);
    }
    if (nonblock) {
        return req->replyError(profile.fullNonblockErrno);
    }
    // Wait for a TX buffer (the kernel gives up after 15 s; configurable here).
    uint64_t id = nextWaitId++;
    Request* raw = req.get();
    std::weak_ptr<Vdev> weakV = v;
    auto cancel = [this, weakV, id](int error) {
        auto sv = weakV.lock();
        if (!sv) {
            return;
        }
        for (auto it = sv->parked.begin(); it != sv->parked.end(); ++it) {
            if (it->id == id) {
                auto w = std::move(*it);
                sv->parked.erase(it);
                if (error == ETIMEDOUT) {
                    log("timeout waiting for a tx buffer");
                }
                w.req->replyError(error);
                if (!sv->alive && sv->parked.empty()) {
                    std::erase(dyingVdevs, sv);
                }
                return;
            }
        }
    };
    ParkedWrite pw{id, std::move(req), e, std::move(data), Timer()};
    pw.timeout = sched.after(config.txTimeoutMs, [cancel] { cancel(ETIMEDOUT); });
    v->parked.push_back(std::move(pw));
    // virtio_rpmsg_bus retries its wait when a signal cuts it short, and with the signal still
    // pending every retry returns at once: the write ends only when a buffer frees, and its
    // 15 s timeout never comes (seen on Linux 6.1 in the real-kernel lane, where the spinning
    // writer livelocks the uniprocessor guest). So a signal stops the clock, nothing more.
    raw->onInterrupt([weakV, id] {
        if (auto sv = weakV.lock()) {
            for (auto& w : sv->parked) {
                if (w.id == id) {
                    w.timeout.cancel();
                }
            }
        }
    });
}

void Simulator::Impl::sendToRemote(const std::shared_ptr<Vdev>& v, const std::shared_ptr<Eptdev>& e,
                                   std::vector<uint8_t> data) {
    --v->txFree;
    ++statToRemote;
    uint64_t token = v->nextToken++;
    if (v->engine) {
        v->engine->receive(*e->addr, e->dst, data, token);
    }
}

void Simulator::Impl::serviceParked(const std::shared_ptr<Vdev>& v) {
    while (!v->parked.empty() && v->alive) {
        auto& front = v->parked.front();
        auto e = front.ept.lock();
        if (!e || e->endpointGone || !e->addr) {
            auto w = std::move(front);
            v->parked.pop_front();
            w.req->replyError(EPIPE);
            continue;
        }
        if (v->txFree <= 0) {
            return;
        }
        auto w = std::move(front);
        v->parked.pop_front();
        size_t n = w.data.size();
        sendToRemote(v, e, std::move(w.data));
        w.req->replyWritten(n);
    }
}

void Simulator::Impl::keepParkedUntilTimeout(const std::shared_ptr<Vdev>& v) {
    // rpmsg_remove() does not wake a writer sleeping for a TX buffer, and none will come back
    // from a dead device: the writer gives up at its own 15 s timeout (the kernel returns
    // -ERESTARTSYS, errno 512, which FUSE cannot: ETIMEDOUT here). Seen on Linux 6.1 in the
    // real-kernel lane (RemoteHangUp.LeavesABlockedWriterToItsTimeout). The torn-down vdev is
    // kept until its last such writer has given up.
    if (!v->parked.empty()) {
        dyingVdevs.push_back(v);
    }
}

// --- the remote's side of the bus ---------------------------------------------------------

void Vdev::sendToLinux(uint32_t src, uint32_t dst, std::span<const uint8_t> payload) {
    if (!alive) {
        return;
    }
    ++sim->statToLinux;
    if (dst == 53 && nameService) {
        return sim->nsMessage(shared_from_this(), payload);
    }
    (void)src;
    auto it = endpoints.find(dst);
    auto e = it == endpoints.end() ? nullptr : it->second.lock();
    if (!e || e->endpointGone) {
        ++sim->statDropped; // "msg received with no recipient"
        return;
    }
    sim->deliver(e, payload);
}

void Vdev::releaseBuffer(uint64_t) {
    if (!alive) {
        return;
    }
    ++txFree;
    if (!parked.empty()) {
        // Wake the next writer from the loop, not from inside the remote's processing.
        std::weak_ptr<Vdev> weak = shared_from_this();
        sim->sched.post([weak] {
            if (auto v = weak.lock()) {
                v->sim->serviceParked(v);
            }
        });
    }
}

void Vdev::reportCrash(unsigned type) {
    if (auto p = proc.lock()) {
        sim->reportCrash(p, type);
    }
}

void Vdev::trace(const std::string& line) {
    auto p = proc.lock();
    if (!p || !p->traceLen) {
        return;
    }
    std::string add = line + "\n";
    if (p->traceBuf.size() + add.size() > p->traceLen) {
        add.resize(p->traceLen > p->traceBuf.size() ? p->traceLen - p->traceBuf.size() : 0);
    }
    p->traceBuf += add;
}

void Simulator::Impl::nsMessage(const std::shared_ptr<Vdev>& v, std::span<const uint8_t> payload) {
    if (payload.size() != RpmsgNsMsgSize) {
        log(v->virtioDir->name + ": malformed ns msg (" + std::to_string(payload.size()) + ")");
        return;
    }
    std::string name = cstrName(reinterpret_cast<const char*>(payload.data()), 31);
    auto le32 = [&](size_t off) {
        return uint32_t(payload[off]) | uint32_t(payload[off + 1]) << 8 |
               uint32_t(payload[off + 2]) << 16 | uint32_t(payload[off + 3]) << 24;
    };
    uint32_t addr = le32(32), flags = le32(36);
    if (flags & RpmsgNsDestroy) {
        for (const auto& b : v->busDevices) {
            if (b->kind == BusDevice::Channel &&
                channelMatches(b->name, b->src, b->dst, name, AddrAny, addr)) {
                log(v->virtioDir->name + ": destroying channel " + name + " addr " + hex(addr));
                return removeBusDevice(v, b);
            }
        }
        log(v->virtioDir->name + ": rpmsg_destroy_channel failed for " + name);
        return;
    }
    for (const auto& b : v->busDevices) {
        if (b->kind == BusDevice::Channel &&
            channelMatches(b->name, b->src, b->dst, name, AddrAny, addr)) {
            log(v->virtioDir->name + ": channel " + name + ":" + hex(addr) + " already exist");
            return;
        }
    }
    log(v->virtioDir->name + ": creating channel " + name + " addr " + hex(addr));
    auto b = addBusDevice(v, BusDevice::Channel, name, AddrAny, addr, "", false);
    if (profile.rpmsgRaw && name == "rpmsg-raw") {
        // rpmsg_char binds: the default endpoint gets an address and a /dev/rpmsgN appears.
        rpmsg_endpoint_info chinfo{};
        std::memcpy(chinfo.name, name.data(), std::min<size_t>(name.size(), 31));
        chinfo.src = AddrAny;
        chinfo.dst = addr;
        b->rawEptdev = addEptdev(v, vfs.dir(b->dir, "rpmsg"), chinfo, true);
        if (b->rawEptdev->addr) {
            b->src = *b->rawEptdev->addr;
        }
        vfs.symlink(b->dir, "driver", "/sys/bus/rpmsg/drivers/rpmsg_chrdev");
    }
}

// --- open endpoint files -----------------------------------------------------------------

void EptHandle::read(RequestPtr req, size_t size, uint64_t, int flags) {
    sim_->eptRead(e_, std::move(req), size, (flags & O_NONBLOCK) != 0);
}

void EptHandle::write(RequestPtr req, std::span<const uint8_t> data, uint64_t, int flags) {
    sim_->eptWrite(e_, std::move(req), std::vector<uint8_t>(data.begin(), data.end()),
                   (flags & O_NONBLOCK) != 0);
}

void EptHandle::poll(RequestPtr req, PollWaiterPtr waiter) {
    unsigned mask = 0;
    if (e_->endpointGone || !e_->addr) {
        mask = POLLERR;
    } else if (!e_->rxq.empty()) {
        mask = POLLIN | POLLRDNORM;
    }
    // virtio has no poll op: POLLOUT is never reported (kernel-abi.md §6.4).
    if (waiter) {
        e_->pollWaiter = std::move(waiter);
    }
    req->replyPoll(mask);
}

void EptHandle::ioctl(RequestPtr req, unsigned cmd, void* arg, std::span<const uint8_t>, size_t) {
    const Profile& prof = sim_->profile;
    if (cmd == IoctlDestroyEpt) {
        if (e_->defaultEndpoint && prof.rpmsgRaw) {
            return req->replyError(EINVAL); // the channel's default endpoint cannot be destroyed
        }
        sim_->destroyEptdev(e_);
        return req->replyIoctl(0, nullptr, 0);
    }
    if (prof.flowControl && cmd == IoctlGetOutgoingFlow) {
        int value = 0; // virtio never restricts the remote's flow
        return req->replyIoctl(0, &value, sizeof value);
    }
    if (prof.flowControl && cmd == IoctlSetIncomingFlow) {
        // The value travels in the argument itself.
        uintptr_t value = reinterpret_cast<uintptr_t>(arg);
        return req->replyError(value > 1 ? EINVAL : EOPNOTSUPP);
    }
    req->replyError(EINVAL);
}

void EptHandle::release() {
    // The last close destroys a CREATE_EPT endpoint (its address is freed) and purges the queue;
    // the device itself stays and can be opened again.
    e_->isOpen = false;
    if (!e_->defaultEndpoint) {
        sim_->releaseAddress(e_);
    }
    e_->rxq.clear();
    e_->pollWaiter.reset();
    --e_->handles;
    sim_->maybeReleaseEptIndex(e_);
}

// --- devcoredump -------------------------------------------------------------------------

std::vector<uint8_t> Simulator::Impl::buildCore(const Processor& p) {
    // An ELF32 core: ET_CORE, the firmware's machine and entry, one PT_LOAD per segment with
    // its data back to back after the program headers (remoteproc_coredump.c).
    std::vector<fw::Segment> segs;
    uint16_t machine = 40;
    uint32_t entry = 0;
    if (p.image) {
        segs = p.image->segments;
        machine = p.image->machine;
        entry = uint32_t(p.image->entry);
    }
    auto put16 = [](std::vector<uint8_t>& b, size_t off, uint16_t v) {
        b[off] = uint8_t(v);
        b[off + 1] = uint8_t(v >> 8);
    };
    auto put32 = [](std::vector<uint8_t>& b, size_t off, uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            b[off + i] = uint8_t(v >> (8 * i));
        }
    };
    constexpr size_t EhSize = 52, PhSize = 32, MaxSeg = 1 << 20;
    size_t dataOff = EhSize + PhSize * segs.size();
    size_t total = dataOff;
    for (const auto& s : segs) {
        total += std::min<uint64_t>(s.memsz, MaxSeg);
    }
    std::vector<uint8_t> b(total, 0);
    const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 1, 1, 1};
    std::memcpy(b.data(), ident, sizeof ident);
    put16(b, 16, 4); // ET_CORE
    put16(b, 18, machine);
    put32(b, 20, 1);
    put32(b, 24, entry);
    put32(b, 28, EhSize);
    put16(b, 40, EhSize);
    put16(b, 42, PhSize);
    put16(b, 44, uint16_t(segs.size()));
    put16(b, 46, 40);
    size_t off = dataOff;
    for (size_t i = 0; i < segs.size(); ++i) {
        const auto& s = segs[i];
        size_t size = std::min<uint64_t>(s.memsz, MaxSeg);
        size_t ph = EhSize + i * PhSize;
        put32(b, ph + 0, 1); // PT_LOAD
        put32(b, ph + 4, uint32_t(off));
        put32(b, ph + 8, uint32_t(s.paddr));
        put32(b, ph + 12, uint32_t(s.paddr));
        put32(b, ph + 16, uint32_t(size));
        put32(b, ph + 20, uint32_t(size));
        put32(b, ph + 24, 7); // RWX
        size_t fromFile = std::min<uint64_t>(s.filesz, size);
        if (s.offset + fromFile <= p.imageBytes.size()) {
            std::memcpy(b.data() + off, p.imageBytes.data() + s.offset, fromFile);
        }
        off += size;
    }
    return b;
}

namespace {

class DevcdDataHandle : public FileHandle {
public:
    DevcdDataHandle(Simulator::Impl* sim, std::shared_ptr<Devcd> d) : sim_(sim), d_(std::move(d)) {}
    void read(RequestPtr req, size_t size, uint64_t offset, int) override {
        if (d_->freed || offset >= d_->data.size()) {
            return req->replyData(nullptr, 0);
        }
        size_t n = std::min(size, d_->data.size() - size_t(offset));
        req->replyData(d_->data.data() + offset, n);
    }
    void write(RequestPtr req, std::span<const uint8_t> data, uint64_t, int) override;

private:
    Simulator::Impl* sim_;
    std::shared_ptr<Devcd> d_;
};

} // namespace

std::shared_ptr<Devcd> Simulator::Impl::createDevcd(const std::shared_ptr<Processor>& p,
                                                    std::vector<uint8_t> data) {
    auto d = std::make_shared<Devcd>();
    d->index = nextDevcd++;
    d->data = std::move(data);
    d->processorId = p->id;
    std::string name = "devcd" + std::to_string(d->index);
    d->dir = vfs.dir(virtualDevcd, name);
    d->info = {"devcoredump", {}};
    std::weak_ptr<Devcd> weak = d;
    vfs.file(d->dir, "data", 0600, 0,
             [this, weak](int, uint32_t, std::unique_ptr<FileHandle>& out) -> int {
                 auto sd = weak.lock();
                 if (!sd || sd->freed) {
                     return ENOENT;
                 }
                 out = std::make_unique<DevcdDataHandle>(this, sd);
                 return 0;
             });
    vfs.symlink(d->dir, "failing_device", p->dir->path());
    deviceFiles(d->dir, "/sys/class/devcoredump", std::make_shared<DeviceInfo>(d->info));
    d->procLink = vfs.symlink(p->dir, "devcoredump", d->dir->path());
    d->classLink = vfs.symlink(sysClassDevcd, name, d->dir->path());
    d->timeout = sched.after(uint64_t(config.devcoredumpTimeoutS) * 1000, [this, weak] {
        if (auto sd = weak.lock()) {
            freeDevcd(sd);
        }
    });
    p->pendingDump = d;
    devcds.push_back(d);
    emit("add", d->dir, d->info); // after the symlinks exist
    log(p->id + ": coredump saved as " + name + " (" + std::to_string(d->data.size()) + " bytes)");
    return d;
}

void DevcdDataHandle::write(RequestPtr req, std::span<const uint8_t> data, uint64_t, int) {
    // Any write dismisses the dump at once.
    sim_->freeDevcd(d_);
    req->replyWritten(data.size());
}

void Simulator::Impl::freeDevcd(const std::shared_ptr<Devcd>& d) {
    if (d->freed) {
        return;
    }
    d->freed = true;
    d->timeout.cancel();
    emit("remove", d->dir, d->info);
    vfs.remove(d->procLink);
    vfs.remove(d->classLink);
    vfs.remove(d->dir);
    devcds.erase(std::remove(devcds.begin(), devcds.end(), d), devcds.end());
    if (d->onFree) {
        // The recovery that waited for this inline dump goes on, from the loop.
        auto next = std::move(d->onFree);
        d->onFree = nullptr;
        sched.post(std::move(next));
    }
}

// --- control and dump ---------------------------------------------------------------------

json Simulator::Impl::dump() {
    json out;
    out["kernel"] = profile.version;
    out["processors"] = json::array();
    for (const auto& p : processors) {
        json j;
        j["id"] = p->id;
        j["name"] = p->name;
        j["state"] = stateWord(p->state);
        j["firmware"] = p->firmware;
        j["recovery"] = p->recoveryDisabled ? "disabled" : "enabled";
        j["coredump"] = coredumpWord(p->coredump);
        j["crash_count"] = p->crashCount;
        j["power"] = p->power;
        j["stalled"] = p->vdev && p->vdev->engine ? p->vdev->engine->stalled() : false;
        j["virtio"] = nullptr;
        j["ctrl"] = nullptr;
        j["tx_buffers_in_use"] = 0;
        j["channels"] = json::array();
        j["endpoints"] = json::array();
        if (auto v = p->vdev) {
            j["virtio"] = "virtio" + std::to_string(v->virtioIndex);
            if (v->ctrl) {
                j["ctrl"] = "rpmsg_ctrl" + std::to_string(v->ctrl->index);
            }
            j["tx_buffers_in_use"] = v->txTotal - v->txFree;
            for (const auto& b : v->busDevices) {
                if (b->kind == BusDevice::Channel) {
                    j["channels"].push_back(
                        {{"name", b->name}, {"addr", b->dst}, {"device", b->devName}});
                }
            }
            for (const auto& [addr, weak] : v->endpoints) {
                auto e = weak.lock();
                if (!e) {
                    continue;
                }
                j["endpoints"].push_back(
                    {{"addr", addr}, {"eptdev", "rpmsg" + std::to_string(e->index)}});
            }
        }
        out["processors"].push_back(j);
    }
    out["eptdevs"] = json::array();
    for (const auto& e : eptdevs) {
        if (e->index < 0) {
            continue;
        }
        out["eptdevs"].push_back({{"device", "rpmsg" + std::to_string(e->index)},
                                  {"processor", e->processorId},
                                  {"name", e->name},
                                  {"src", int32_t(e->src)},
                                  {"dst", int32_t(e->dst)},
                                  {"alive", e->alive},
                                  {"open", e->isOpen},
                                  {"addr", e->addr ? json(*e->addr) : json(nullptr)},
                                  {"queued", e->rxq.size()}});
    }
    out["devcoredumps"] = json::array();
    for (const auto& d : devcds) {
        out["devcoredumps"].push_back({{"device", "devcd" + std::to_string(d->index)},
                                       {"processor", d->processorId},
                                       {"size", d->data.size()}});
    }
    out["stats"] = {{"messages_to_remote", statToRemote},
                    {"messages_to_linux", statToLinux},
                    {"dropped", statDropped}};
    return out;
}

Simulator::ControlResult Simulator::Impl::control(const std::vector<std::string>& args) {
    auto fail = [](std::string msg) {
        return ControlResult{false, std::move(msg)};
    };
    if (args.empty()) {
        return fail("no command given");
    }
    const std::string& cmd = args[0];
    auto need = [&](size_t min, size_t max, const char* usage) -> std::optional<ControlResult> {
        if (args.size() - 1 < min || args.size() - 1 > max) {
            return fail(std::string("usage: ") + usage);
        }
        return std::nullopt;
    };
    auto proc = [&](const std::string& key,
                    std::shared_ptr<Processor>& out) -> std::optional<ControlResult> {
        out = findProcessor(key);
        if (!out) {
            return fail("no processor \"" + key +
                        "\" (give its id, e.g. remoteproc0, or its name)");
        }
        return std::nullopt;
    };
    auto running = [&](const std::shared_ptr<Processor>& p) -> std::optional<ControlResult> {
        if (!p->vdev || !p->vdev->engine) {
            return fail(p->id + " (" + p->name +
                        ") has no running remote with an rpmsg vdev (state " + stateWord(p->state) +
                        ")");
        }
        return std::nullopt;
    };
    std::shared_ptr<Processor> p;
    if (cmd == "dump") {
        if (auto e = need(0, 0, "dump"))
            return *e;
        return {true, dump().dump(2) + "\n"};
    }
    if (cmd == "crash") {
        if (auto e = need(1, 2, "crash PROC [TYPE]"))
            return *e;
        if (auto e = proc(args[1], p))
            return *e;
        if (p->bare)
            return fail(p->id + " is a transport without a remoteproc: it cannot crash");
        unsigned type = 2;
        if (args.size() > 2) {
            const std::string& t = args[2];
            uint32_t n = 0;
            if (t == "mmufault")
                type = 0;
            else if (t == "watchdog")
                type = 1;
            else if (t == "fatal")
                type = 2;
            else if (parseU32(t, n))
                type = n;
            else
                return fail("crash type \"" + t + "\" is not a number or mmufault/watchdog/fatal");
        }
        reportCrash(p, type);
        return {true, ""};
    }
    // The commands the remote itself answers (RemoteEngine::control), after PROC.
    static const std::map<std::string, std::pair<size_t, const char*>> remoteCommands = {
        {"stall", {1, "stall|resume PROC"}},
        {"resume", {1, "stall|resume PROC"}},
        {"announce", {3, "announce|destroy PROC NAME ADDR"}},
        {"destroy", {3, "announce|destroy PROC NAME ADDR"}},
        {"send", {4, "send PROC SRC DST TEXT"}},
        {"peer", {2, "peer PROC ADDR"}},
    };
    if (auto rc = remoteCommands.find(cmd); rc != remoteCommands.end()) {
        if (auto e = need(rc->second.first, rc->second.first, rc->second.second))
            return *e;
        if (auto e = proc(args[1], p))
            return *e;
        if (auto e = running(p))
            return *e;
        std::vector<std::string> rest{cmd};
        rest.insert(rest.end(), args.begin() + 2, args.end());
        const auto r = p->vdev->engine->control(rest);
        return r.ok ? ControlResult{true, r.text} : fail(r.text);
    }
    if (cmd == "add-processor") {
        if (auto e = need(1, 2, "add-processor NAME [FIRMWARE]"))
            return *e;
        if (findProcessor(args[1])) {
            return fail("a processor named \"" + args[1] + "\" exists already");
        }
        ProcessorConfig pc;
        pc.name = args[1];
        bool okName =
            !pc.name.empty() && pc.name.size() <= 64 &&
            pc.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789-_.") == std::string::npos;
        if (!okName) {
            return fail("\"" + pc.name + "\" is not a valid name (1-64 of A-Z a-z 0-9 - _ .)");
        }
        if (args.size() > 2) {
            pc.firmware = args[2];
        }
        auto np = addProcessor(pc, true);
        return {true, np->id + "\n"};
    }
    if (cmd == "remove-processor") {
        if (auto e = need(1, 1, "remove-processor PROC"))
            return *e;
        if (auto e = proc(args[1], p))
            return *e;
        removeProcessor(p);
        return {true, ""};
    }
    return fail("unknown command \"" + cmd +
                "\" (crash, stall, resume, announce, destroy, send, peer, add-processor, "
                "remove-processor, dump)");
}

void Simulator::Impl::shutdown() {
    for (auto& p : processors) {
        if (p->vdev) {
            stopSubdevices(p);
        }
    }
    for (auto& d : std::vector<std::shared_ptr<Devcd>>(devcds)) {
        d->onFree = nullptr;
        freeDevcd(d);
    }
}

// ---------------------------------------------------------------------------------------------

Simulator::Simulator(Vfs& vfs, Scheduler& scheduler, SimConfig config, std::string firmwareDir,
                     UeventSender* uevents)
    : impl_(std::make_unique<Impl>(vfs, scheduler, std::move(config), std::move(firmwareDir),
                                   uevents)) {}

Simulator::~Simulator() = default;

void Simulator::start() {
    impl_->start();
}

void Simulator::shutdown() {
    impl_->shutdown();
}

Simulator::ControlResult Simulator::control(const std::vector<std::string>& args) {
    return impl_->control(args);
}

} // namespace rpmsgsim
