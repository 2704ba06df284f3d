// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The simulated kernel's entry point and device core: Simulator's methods, the version
// profiles, the roots of the tree (/sys/class, /sys/bus, /sys/devices, debugfs, /dev), and what
// drivers/base/core.c (Linux 6.6) gives every device: the `uevent` file, whose writes send
// synthetic events, and the `subsystem` link. Each kernel file the twin mirrors has its own
// file beside this one (the map is in sim/README.md); the profiles list how 6.1 and 5.15
// differ from 6.6.

#include "kernel_model_impl.h"
#include "uevent.h"

#include <cerrno>
#include <cstring>

namespace rpmsgsim {

namespace {

Profile profileFor(const std::string& version) {
    Profile p;
    p.version = version;
    if (version == "5.15") {
        p.startBusyWhenRunning = true;
        p.fullNonblockErrno = ENOMEM;
        p.createDev = false;
        p.flowControl = false;
        p.rpmsgRaw = false;
        p.rpmsgTty = false;
        p.platformVdev = false;
        p.staleOpenErrno = ENODEV;
        p.ctrlBusName = "rpmsg_chrdev";
        p.stopCrashed = false;
    } else if (version == "6.1") {
        // As 6.6 but without the flow-control ioctls (6.6). ENETRESET at open stays: the 6.3
        // commit is in 6.1-stable (rpmsg_char.c of 6.1.192, the real-kernel lane's kernel).
        p.flowControl = false;
    }
    // 6.12 behaves as 6.6 in everything the profile names (checked case by case on the real
    // kernel: docs/kernel-versions.md).
    return p;
}

} // namespace

Simulator::Impl::Impl(Vfs& v, Scheduler& s, SimConfig c, std::string fwdir, UeventSender* u)
    : vfs(v), sched(s), config(std::move(c)), profile(profileFor(config.kernel)),
      firmwareDir(std::move(fwdir)), uevents(u) {}

// --- the device core: uevents, and the files every device has --------------------------

void Simulator::Impl::emit(const std::string& action, const NodePtr& dir, const DeviceInfo& info) {
    if (!uevents || !dir || info.subsystem.empty()) {
        return;
    }
    std::string path = dir->path();
    if (path.rfind("/sys", 0) == 0) {
        path = path.substr(4);
    }
    uevents->send(action, path, info.subsystem, info.vars);
}

std::string Simulator::Impl::ueventText(const DeviceInfo& info) {
    std::string s;
    for (const auto& [k, v] : info.vars) {
        s += k + "=" + v + "\n";
    }
    return s;
}

void Simulator::Impl::deviceFiles(const NodePtr& dir, const std::string& subsystemPath,
                                  std::shared_ptr<DeviceInfo> info) {
    std::weak_ptr<Node> weakDir = dir;
    vfs.attr(dir, "uevent", 0644,
             AttrOps{.show = [this, info] { return ueventText(*info); },
                     .store = [this, info, weakDir](std::string_view buf) -> long {
                         std::string word(buf.substr(0, buf.find_first_of(" \n")));
                         static const std::set<std::string> actions = {"add",  "remove", "change",
                                                                       "move", "online", "offline",
                                                                       "bind", "unbind"};
                         if (!actions.count(word)) {
                             return -EINVAL;
                         }
                         emit(word, weakDir.lock(), *info);
                         return long(buf.size());
                     }});
    vfs.symlink(dir, "subsystem", subsystemPath);
}

NodePtr Simulator::Impl::roAttr(const NodePtr& dir, const std::string& name,
                                std::function<std::string()> show) {
    return vfs.attr(dir, name, 0444, AttrOps{.show = std::move(show)});
}

// --- the tree's roots --------------------------------------------------------------------

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
    if (profile.rpmsgTty) {
        vfs.dir(drivers, "rpmsg_tty");
    }
    sysClassTty = vfs.mkdirs("/sys/class/tty");
    vfs.mkdirs("/sys/bus/virtio/devices");
    vfs.mkdirs("/sys/bus/platform/devices");
    vfs.mkdirs("/sys/devices/platform");
    addDevcdClass();
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
                startWith(p, std::move(bytes), std::move(*image), ProcessorState::Attached);
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
