// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/remoteproc/remoteproc_virtio.c (Linux 6.6), with the virtio core's device attributes
// (drivers/virtio/virtio.c): the rpmsg vdev of a firmware's resource table becomes a virtio
// device when the processor starts (rproc_vdev_do_start, rproc_add_virtio_dev) and goes when it
// stops. 6.1 and 6.6 put it under a platform device rproc-virtio.M.auto; 5.15 under
// remoteprocN#vdev0buffer. A transport without remoteproc has its virtio device right under its
// own platform node. The virtio-rpmsg driver that binds it is virtio_rpmsg_bus.cpp.

#include "kernel_model_impl.h"

namespace rpmsgsim {

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
    virtioRpmsgProbe(v);
    // The firmware now runs on the transport.
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
    virtioRpmsgRemove(v);
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

} // namespace rpmsgsim
