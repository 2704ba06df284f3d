// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/rpmsg/rpmsg_ctrl.c (Linux 6.6; 5.18+, before that part of rpmsg_char.c): the
// /dev/rpmsg_ctrlN device of a virtio-rpmsg device and its ioctls, RPMSG_CREATE_EPT_IOCTL
// (an eptdev, rpmsg_char.cpp) and RPMSG_CREATE_DEV_IOCTL / RPMSG_RELEASE_DEV_IOCTL (a channel
// on the bus). 5.15: no CREATE_DEV/RELEASE_DEV, and an unknown command is EINVAL even for a
// NULL argument; its bus device is rpmsg_chrdev.

#include "kernel_model_impl.h"

#include <algorithm>
#include <cerrno>

namespace rpmsgsim {

namespace {

constexpr int CtrlMajor = 245;

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

void Simulator::Impl::removeCtrl(const std::shared_ptr<Vdev>& v) {
    // rpmsg_ctrldev_remove: the eptdevs made through this ctrl device go first.
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
}

void Simulator::Impl::maybeReleaseCtrlIndex(const std::shared_ptr<CtrlDev>& c) {
    if (!c->alive && c->handles == 0 && c->index >= 0) {
        ctrlIda.release(c->index);
        c->index = -1;
        ctrls.erase(std::remove(ctrls.begin(), ctrls.end(), c), ctrls.end());
    }
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
    bool known =
        cmd == rpmsg::IoctlCreateEpt ||
        (prof.createDev && (cmd == rpmsg::IoctlCreateDev || cmd == rpmsg::IoctlReleaseDev));
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
    if (cmd == rpmsg::IoctlCreateEpt) {
        auto p = v->proc.lock();
        if (p && p->holds.count("create")) {
            // `ctl hold PROC create SECONDS`: this CREATE_EPT answers that much later, and
            // fails with ENODEV if the control device was torn down meanwhile.
            const uint32_t seconds = p->holds.at("create");
            p->holds.erase("create");
            sim_->log(p->id + ": holding the CREATE_EPT ioctl for " + std::to_string(seconds) +
                      " s");
            auto shared = std::make_shared<RequestPtr>(std::move(req));
            std::weak_ptr<Processor> weak = p;
            p->heldWrites.push_back(sim_->sched.after(
                uint64_t(seconds) * 1000, [sim = sim_, c = c_, info, shared, weak] {
                    auto sp = weak.lock();
                    auto vd = c->vdev.lock();
                    if (!c->alive || !vd || !vd->alive) {
                        (*shared)->replyError(ENODEV);
                    } else {
                        vd->eptdevs.push_back(sim->addEptdev(vd, c->dir, info, false));
                        (*shared)->replyIoctl(0, nullptr, 0);
                    }
                    if (sp) {
                        sim->log(sp->id + ": the held CREATE_EPT ioctl went on");
                        sp->heldWrites.remove_if([](const Timer& t) { return !t.pending(); });
                    }
                }));
            return;
        }
        auto e = sim_->addEptdev(v, c_->dir, info, false);
        v->eptdevs.push_back(e);
        return req->replyIoctl(0, nullptr, 0);
    }
    std::string name = cstrName(info.name, sizeof info.name);
    if (cmd == rpmsg::IoctlCreateDev) {
        for (const auto& b : v->busDevices) {
            if (b->kind == BusDevice::Channel &&
                channelMatches(b->name, b->src, b->dst, name, info.src, info.dst)) {
                return req->replyError(ENXIO); // rpmsg_create_channel found a duplicate
            }
        }
        bool announce = info.src != rpmsg::AddrAny;
        auto b = sim_->addBusDevice(v, BusDevice::Channel, name, info.src, info.dst, "", announce);
        if (!sim_->chrdevProbe(v, b, info)) {
            sim_->ttyProbe(v, b); // the driver whose id table names the channel binds it
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

} // namespace rpmsgsim
