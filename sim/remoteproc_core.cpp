// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/remoteproc/remoteproc_core.c (Linux 6.6): registering and removing a processor
// (rproc_add, rproc_del), loading its firmware (request_firmware, rproc_fw_sanity_check), the
// power reference count of rproc_boot / rproc_shutdown / rproc_detach, rproc_start and
// rproc_stop, and crash handling: rproc_report_crash, rproc_crash_handler_work and
// rproc_trigger_recovery (rproc_boot_recovery). A transport without remoteproc is registered
// here too, as the bare platform device a virtio-mmio node is. 6.1 and 5.15 behave the same
// in this file; their differences sit in the sysfs and virtio files.

#include "kernel_model_impl.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>

namespace rpmsgsim {

namespace {

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

} // namespace

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
    p->recovery = pc.recovery ? RecoveryMode::Enabled : RecoveryMode::Disabled;
    p->coredump = pc.coredump;
    p->canDetach = pc.detached;
    p->state = pc.detached ? ProcessorState::Detached : ProcessorState::Offline;
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

void Simulator::Impl::removeProcessor(const std::shared_ptr<Processor>& p) {
    // rproc_del: shut down, mark deleted, then the device goes.
    if (p->state == ProcessorState::Running || p->state == ProcessorState::Attached ||
        p->state == ProcessorState::Crashed) {
        stopProc(p);
        cleanupResources(p);
    }
    p->power = 0;
    p->state = ProcessorState::Deleted;
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
    if (p->state == ProcessorState::Deleted) {
        return ENODEV;
    }
    // Skip the boot when already powered up: this is the refcount quirk of docs/kernel-abi.md §1.3.
    if (++p->power > 1) {
        return 0;
    }
    std::vector<uint8_t> bytes;
    std::optional<fw::Image> image;
    ProcessorState target =
        p->state == ProcessorState::Detached ? ProcessorState::Attached : ProcessorState::Running;
    if (target == ProcessorState::Running) {
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
                                fw::Image image, ProcessorState newState) {
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
    p->tracePos = 0;
    p->image = std::move(image);
    createTraceFile(p);
    p->state = newState;
    p->stalled = false;
    startSubdevices(p);
    log("remote processor " + p->name + " is now " +
        (newState == ProcessorState::Attached ? std::string(toString(newState)) : "up"));
}

void Simulator::Impl::stopProc(const std::shared_ptr<Processor>& p) {
    stopSubdevices(p);
    p->state = ProcessorState::Offline;
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
    // A crashed processor may be stopped too since "remoteproc: Allow shutdown of crashed
    // processors" (stable 6.1.188 and 6.12.110; the real-kernel lane's kernels have it).
    const bool crashed = p->state == ProcessorState::Crashed;
    if (p->state != ProcessorState::Running && p->state != ProcessorState::Attached &&
        !(crashed && profile.stopCrashed)) {
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
    if (p->state != ProcessorState::Attached) {
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
    p->state = ProcessorState::Detached;
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
    if (p->state == ProcessorState::Crashed || p->state == ProcessorState::Offline ||
        p->state == ProcessorState::Detached || p->state == ProcessorState::Deleted) {
        return; // only the first crash counts; an offline processor cannot crash
    }
    p->state = ProcessorState::Crashed;
    ++p->crashCount;
    log("crash detected in " + p->name + ": type " + crashTypeName(type));
    if (p->vdev && p->vdev->engine) {
        p->vdev->engine->halt();
    }
    if (p->recovery == RecoveryMode::Enabled) {
        triggerRecovery(p, [] {});
    }
}

void Simulator::Impl::triggerRecovery(const std::shared_ptr<Processor>& p,
                                      std::function<void()> done) {
    if (p->state != ProcessorState::Crashed) {
        return done(); // a no-op unless crashed; sysfs ignores the result
    }
    log("recovering " + p->name);
    // rproc_boot_recovery: stop (tears every rpmsg device down), coredump, reload, start.
    stopProc(p);
    std::weak_ptr<Processor> weak = p;
    coredumpThen(p, [this, weak, done] {
        auto sp = weak.lock();
        if (!sp || sp->state != ProcessorState::Offline) {
            return done();
        }
        std::vector<uint8_t> bytes;
        std::optional<fw::Image> image;
        if (loadFirmware(sp, bytes, image)) {
            // The processor stays offline with its power reference held, as in the kernel.
            log(sp->id + ": request_firmware failed during recovery");
            return done();
        }
        startWith(sp, std::move(bytes), std::move(*image), ProcessorState::Running);
        done();
    });
}

} // namespace rpmsgsim
