// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The simulated kernel's insides, shared by the files that each mirror one kernel file (the map
// is in sim/README.md): the version profile, the model objects (Processor, Vdev, BusDevice,
// CtrlDev, Eptdev, Devcd), the small parsing helpers of sysfs and debugfs, and
// Simulator::Impl, whose members are declared in groups named after the file that defines
// them. Private to sim/: kernel_model.h is the entry point.

#include "behaviour_spec.h"
#include "common/firmware_image.h"
#include "common/rpmsg_abi.h"
#include "common/states.h"
#include "kernel_model.h"
#include "remote.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <linux/rpmsg.h>
#include <nlohmann/json.hpp>

// GCC 12 warns about members left out of C++20 designated initializers (GCC bug 96868, fixed
// in GCC 13); AttrOps is meant to be initialised that way.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace rpmsgsim {

namespace fw = rpmsgd::fw;
namespace rpmsg = rpmsgd::rpmsg;
using rpmsgd::CoredumpMode;
using rpmsgd::ProcessorState;
using rpmsgd::RecoveryMode;

/// The kernel's differences by version (docs/kernel-abi.md §8).
struct Profile {
    std::string version;
    bool startBusyWhenRunning = false; // 5.15: EBUSY; 5.19+: refcount quirk
    int fullNonblockErrno = EAGAIN;    // 5.18+: EAGAIN; older: ENOMEM
    bool createDev = true;             // CREATE_DEV / RELEASE_DEV (5.18+)
    bool flowControl = true;           // 6.6+
    bool rpmsgRaw = true;              // rpmsg_char binds rpmsg-raw (5.18+)
    bool rpmsgTty = true;              // rpmsg_tty binds rpmsg-tty (5.16+)
    bool platformVdev = true;          // rproc-virtio.M.auto (6.1+) vs remoteprocN#vdevMbuffer
    int staleOpenErrno = ENETRESET;    // 6.3+
    bool stopCrashed = true;           // stop while crashed (stable 6.1.188, 6.12.110)
    std::string ctrlBusName = "rpmsg_ctrl";
};

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
inline bool streq(std::string_view buf, std::string_view word) {
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
inline bool debugfsMatch(std::string_view data, std::string_view word) {
    std::string buf(data);
    if (!buf.empty() && buf.back() == '\n') {
        buf.back() = '\0';
    }
    return strncmp(buf.c_str(), std::string(word).c_str(), buf.size()) == 0;
}

/// The coredump mode a write selects: the kernel tries the words in this order (sysfs
/// coredump_store, debugfs rproc_coredump_write), with `match` as its comparison.
inline std::optional<CoredumpMode>
coredumpModeWritten(std::string_view buf, bool (*match)(std::string_view, std::string_view)) {
    for (auto m : {CoredumpMode::Disabled, CoredumpMode::Enabled, CoredumpMode::Inline}) {
        if (match(buf, toString(m))) {
            return m;
        }
    }
    return std::nullopt;
}

inline std::string hex(uint32_t v) {
    char b[16];
    snprintf(b, sizeof b, "0x%x", v);
    return b;
}

inline std::string signedDec(uint32_t v) {
    return std::to_string(int32_t(v));
}

/// rpmsg_device_match(): src and dst of ANY match everything; the name must be equal.
inline bool channelMatches(const std::string& devName, uint32_t devSrc, uint32_t devDst,
                           const std::string& name, uint32_t src, uint32_t dst) {
    return (src == rpmsg::AddrAny || src == devSrc) && (dst == rpmsg::AddrAny || dst == devDst) &&
           devName == name;
}

inline std::string cstrName(const char* p, size_t max) {
    size_t n = strnlen(p, max);
    return std::string(p, n);
}

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
    uint32_t src = rpmsg::AddrAny, dst = rpmsg::AddrAny;
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
    /// A channel driver's own endpoint (rpmsg_tty): its callback takes what arrives instead of
    /// the eptdev queue.
    std::function<void(std::span<const uint8_t>)> onReceive;
};

struct TtyPort; // rpmsg_tty.cpp

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
    uint32_t src = rpmsg::AddrAny, dst = rpmsg::AddrAny;
    bool announce = false;
    std::string driverOverride; // empty = (null)
    enum Kind { Ctrl, Ns, Channel } kind = Channel;
    NodePtr dir, busLink;
    DeviceInfo info;
    std::shared_ptr<Eptdev> rawEptdev; // rpmsg-raw bound to rpmsg_char
    std::shared_ptr<TtyPort> tty;      // rpmsg-tty bound to rpmsg_tty
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
    ProcessorState state = ProcessorState::Offline;
    RecoveryMode recovery = RecoveryMode::Enabled;
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
    std::string traceBuf; ///< the trace buffer's memory (traceLen bytes once written)
    uint32_t traceLen = 0;
    uint32_t tracePos = 0; ///< where the firmware writes next (writeTraceRing)
    std::shared_ptr<Vdev> vdev;
    std::weak_ptr<Devcd> pendingDump;
    bool stalled = false;
    /// `ctl hold`: the next write of this word (start, stop, recover, firmware, recovery,
    /// coredump) waits this many seconds before the kernel acts on it, as a slow firmware load
    /// does on a board.
    std::map<std::string, uint32_t> holds;
    std::list<Timer> heldWrites; ///< held writes not yet answered (EIO if the processor goes)
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
    Ida rprocIda{0}, virtioIda{0}, platformIda{0}, ctrlIda{0}, eptIda{0}, ttyIdr{0};
    int nextDevcd = 1;
    bool devcdDisabled = false;
    std::vector<std::shared_ptr<Devcd>> devcds;
    std::vector<std::shared_ptr<Vdev>> dyingVdevs; // torn down, writers still waiting (TX)
    std::vector<std::shared_ptr<Eptdev>> eptdevs;  // every eptdev whose index is held
    std::vector<std::shared_ptr<CtrlDev>> ctrls;
    uint64_t nextWaitId = 1;
    uint64_t statToRemote = 0, statToLinux = 0, statDropped = 0;

    NodePtr sysClassRemoteproc, sysClassRpmsg, sysBusRpmsgDevices, sysClassDevcd, debugRemoteproc,
        devDir, virtualDevcd, sysClassTty;

    void log(const std::string& line) { std::cerr << "rpmsg-sim: " << line << std::endl; }

    // --- kernel_model.cpp: the tree's roots and the device core ---------------------------
    Impl(Vfs& v, Scheduler& s, SimConfig c, std::string fwdir, UeventSender* u);
    void start();
    void shutdown();
    void emit(const std::string& action, const NodePtr& dir, const DeviceInfo& info);
    std::string ueventText(const DeviceInfo& info);
    /// The files every device has: `uevent` (writable: synthetic events) and `subsystem`.
    void deviceFiles(const NodePtr& dir, const std::string& subsystemPath,
                     std::shared_ptr<DeviceInfo> info);
    NodePtr roAttr(const NodePtr& dir, const std::string& name, std::function<std::string()> show);
    /// A read-only attribute of an object that can go while its files are open: it reads empty
    /// once the object is gone.
    template <typename T, typename Show>
    NodePtr roAttrOf(std::weak_ptr<T> weak, const NodePtr& dir, const std::string& name,
                     Show show) {
        return roAttr(dir, name, [weak, show] {
            auto sp = weak.lock();
            return sp ? show(*sp) : std::string();
        });
    }

    // --- remoteproc_core.cpp --------------------------------------------------------------
    std::shared_ptr<Processor> addProcessor(const ProcessorConfig& pc, bool hotplug);
    void removeProcessor(const std::shared_ptr<Processor>& p);
    std::shared_ptr<Processor> findProcessor(const std::string& key);
    int boot(const std::shared_ptr<Processor>& p);
    int shutdownProc(const std::shared_ptr<Processor>& p);
    int detach(const std::shared_ptr<Processor>& p);
    int loadFirmware(const std::shared_ptr<Processor>& p, std::vector<uint8_t>& bytes,
                     std::optional<fw::Image>& image);
    void startWith(const std::shared_ptr<Processor>& p, std::vector<uint8_t> bytes, fw::Image image,
                   ProcessorState newState);
    void stopProc(const std::shared_ptr<Processor>& p);
    void cleanupResources(const std::shared_ptr<Processor>& p);
    void reportCrash(const std::shared_ptr<Processor>& p, unsigned type);
    void crashHandler(const std::shared_ptr<Processor>& p, unsigned type);
    void triggerRecovery(const std::shared_ptr<Processor>& p, std::function<void()> done);

    // --- remoteproc_sysfs.cpp -------------------------------------------------------------
    void buildProcessorTree(const std::shared_ptr<Processor>& p);
    /// `recovery` in sysfs (sysfs_streq) and in debugfs (strncmp, at most 10 bytes).
    AttrOps recoveryAttr(std::weak_ptr<Processor> weak, bool debugfs);
    long storeState(const std::shared_ptr<Processor>& p, std::string_view buf);
    long storeFirmware(const std::shared_ptr<Processor>& p, std::string_view buf);
    /// `coredump` in sysfs (sysfs_streq) and in debugfs (strncmp, at most 20 bytes).
    AttrOps coredumpAttr(std::weak_ptr<Processor> weak, bool debugfs);
    long storeCoredump(const std::shared_ptr<Processor>& p, std::string_view buf, bool debugfs);
    void storeRecovery(const std::shared_ptr<Processor>& p, std::string_view buf, RequestPtr req,
                       bool debugfs);
    /// The write @p buf of @p word to @p p: @p store runs now, or after the seconds of a
    /// `ctl hold` on @p word (which it uses up), answering @p req then.
    void heldStore(
        const std::shared_ptr<Processor>& p, const std::string& word, std::string_view buf,
        RequestPtr req,
        std::function<void(const std::shared_ptr<Processor>&, std::string_view, RequestPtr)> store);

    // --- remoteproc_debugfs.cpp -----------------------------------------------------------
    void buildDebugfs(const std::shared_ptr<Processor>& p);
    void createTraceFile(const std::shared_ptr<Processor>& p);

    // --- remoteproc_coredump.cpp ----------------------------------------------------------
    void coredumpThen(const std::shared_ptr<Processor>& p, std::function<void()> next);
    std::vector<uint8_t> buildCore(const Processor& p);

    // --- devcoredump.cpp ------------------------------------------------------------------
    void addDevcdClass();
    std::shared_ptr<Devcd> createDevcd(const std::shared_ptr<Processor>& p,
                                       std::vector<uint8_t> data);
    void freeDevcd(const std::shared_ptr<Devcd>& d);

    // --- remoteproc_virtio.cpp ------------------------------------------------------------
    void startSubdevices(const std::shared_ptr<Processor>& p);
    void stopSubdevices(const std::shared_ptr<Processor>& p);

    // --- virtio_rpmsg_bus.cpp -------------------------------------------------------------
    void virtioRpmsgProbe(const std::shared_ptr<Vdev>& v);
    void virtioRpmsgRemove(const std::shared_ptr<Vdev>& v);
    std::optional<uint32_t> claimAddress(const std::shared_ptr<Vdev>& v, uint32_t want,
                                         const std::shared_ptr<Eptdev>& e);
    void releaseAddress(const std::shared_ptr<Eptdev>& e);
    /// rpmsg_send()/rpmsg_trysend() of an endpoint that exists on a live device.
    void rpmsgSend(const std::shared_ptr<Vdev>& v, const std::shared_ptr<Eptdev>& e, RequestPtr req,
                   std::vector<uint8_t> data, bool nonblock);
    void sendToRemote(const std::shared_ptr<Vdev>& v, const std::shared_ptr<Eptdev>& e,
                      std::vector<uint8_t> data);
    void serviceParked(const std::shared_ptr<Vdev>& v);
    void keepParkedUntilTimeout(const std::shared_ptr<Vdev>& v);

    // --- rpmsg_core.cpp -------------------------------------------------------------------
    std::shared_ptr<BusDevice> addBusDevice(const std::shared_ptr<Vdev>& v, BusDevice::Kind kind,
                                            const std::string& name, uint32_t src, uint32_t dst,
                                            const std::string& driverOverride, bool announce);
    void removeBusDevice(const std::shared_ptr<Vdev>& v, const std::shared_ptr<BusDevice>& b);

    // --- rpmsg_ns.cpp ---------------------------------------------------------------------
    void nsMessage(const std::shared_ptr<Vdev>& v, std::span<const uint8_t> payload);

    // --- rpmsg_ctrl.cpp -------------------------------------------------------------------
    void addCtrl(const std::shared_ptr<Vdev>& v, const std::shared_ptr<BusDevice>& bus);
    void removeCtrl(const std::shared_ptr<Vdev>& v);
    void maybeReleaseCtrlIndex(const std::shared_ptr<CtrlDev>& c);

    // --- rpmsg_char.cpp -------------------------------------------------------------------
    std::shared_ptr<Eptdev> addEptdev(const std::shared_ptr<Vdev>& v, const NodePtr& parentDir,
                                      const rpmsg_endpoint_info& info, bool defaultEndpoint);
    /// rpmsg_chrdev_probe(): a channel named rpmsg-raw gets its eptdev on its default
    /// endpoint (5.18+). False when rpmsg_char does not bind the channel.
    bool chrdevProbe(const std::shared_ptr<Vdev>& v, const std::shared_ptr<BusDevice>& b,
                     const rpmsg_endpoint_info& chinfo);
    void destroyEptdev(const std::shared_ptr<Eptdev>& e);
    void maybeReleaseEptIndex(const std::shared_ptr<Eptdev>& e);
    void deliver(const std::shared_ptr<Eptdev>& e, std::span<const uint8_t> payload);
    void wakeReaders(const std::shared_ptr<Eptdev>& e);
    void notifyPoll(const std::shared_ptr<Eptdev>& e);
    void eptRead(const std::shared_ptr<Eptdev>& e, RequestPtr req, size_t size, bool nonblock);
    void eptWrite(const std::shared_ptr<Eptdev>& e, RequestPtr req, std::vector<uint8_t> data,
                  bool nonblock);

    // --- rpmsg_tty.cpp --------------------------------------------------------------------
    /// rpmsg_tty_probe(): a channel named rpmsg-tty gets a tty port and /dev/ttyRPMSGn (5.16+).
    /// False when rpmsg_tty does not bind the channel.
    bool ttyProbe(const std::shared_ptr<Vdev>& v, const std::shared_ptr<BusDevice>& b);
    /// rpmsg_tty_remove(): hangs the tty up and unregisters it.
    void ttyRemove(const std::shared_ptr<BusDevice>& b);

    // --- ctl.cpp --------------------------------------------------------------------------
    Simulator::ControlResult control(const std::vector<std::string>& args);
    nlohmann::json dump();
};

} // namespace rpmsgsim
