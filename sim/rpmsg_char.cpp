// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/rpmsg/rpmsg_char.c (Linux 6.6): the endpoint devices /dev/rpmsgN, made by
// RPMSG_CREATE_EPT_IOCTL or by binding an rpmsg-raw channel (rpmsg_chrdev_probe). The
// endpoint is created at open (at chinfo.src) and destroyed at the last close, except a
// channel's default one; one message per read, a queue per endpoint, EPIPE once the endpoint
// is gone, and the ioctls RPMSG_DESTROY_EPT_IOCTL and (6.6) the flow-control pair. 6.1 and
// 5.15: no flow-control ioctls. 5.15: no rpmsg-raw binding, and opening a torn-down eptdev is
// ENODEV (ENETRESET from 6.3, backported to 6.1-stable).

#include "kernel_model_impl.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>

namespace rpmsgsim {

namespace {

constexpr size_t MaxQueuedPerEndpoint = 65536;
constexpr int EptMajor = 244;

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

void Simulator::Impl::maybeReleaseEptIndex(const std::shared_ptr<Eptdev>& e) {
    // The index is freed at device release, i.e. after the last fd closes.
    if (!e->alive && e->handles == 0 && e->index >= 0) {
        eptIda.release(e->index);
        e->index = -1;
        eptdevs.erase(std::remove(eptdevs.begin(), eptdevs.end(), e), eptdevs.end());
    }
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
    roAttrOf(weak, e->dir, "name", [](const Eptdev& se) { return se.name + "\n"; });
    roAttrOf(weak, e->dir, "src", [](const Eptdev& se) { return signedDec(se.src) + "\n"; });
    roAttrOf(weak, e->dir, "dst", [](const Eptdev& se) { return signedDec(se.dst) + "\n"; });
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

bool Simulator::Impl::chrdevProbe(const std::shared_ptr<Vdev>& v,
                                  const std::shared_ptr<BusDevice>& b,
                                  const rpmsg_endpoint_info& chinfo) {
    if (!profile.rpmsgRaw || b->name != "rpmsg-raw") {
        return false;
    }
    // The default endpoint gets an address and a /dev/rpmsgN appears.
    b->rawEptdev = addEptdev(v, vfs.dir(b->dir, "rpmsg"), chinfo, true);
    if (b->rawEptdev->addr) {
        b->src = *b->rawEptdev->addr;
    }
    return true;
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
    if (e->onReceive) {
        return e->onReceive(payload);
    }
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
    rpmsgSend(v, e, std::move(req), std::move(data), nonblock);
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
    // virtio has no poll op: POLLOUT is never reported (docs/kernel-abi.md §6.4).
    if (waiter) {
        e_->pollWaiter = std::move(waiter);
    }
    req->replyPoll(mask);
}

void EptHandle::ioctl(RequestPtr req, unsigned cmd, void* arg, std::span<const uint8_t>, size_t) {
    const Profile& prof = sim_->profile;
    if (cmd == rpmsg::IoctlDestroyEpt) {
        if (e_->defaultEndpoint && prof.rpmsgRaw) {
            return req->replyError(EINVAL); // the channel's default endpoint cannot be destroyed
        }
        sim_->destroyEptdev(e_);
        return req->replyIoctl(0, nullptr, 0);
    }
    if (prof.flowControl && cmd == rpmsg::IoctlGetOutgoingFlow) {
        int value = 0; // virtio never restricts the remote's flow
        return req->replyIoctl(0, &value, sizeof value);
    }
    if (prof.flowControl && cmd == rpmsg::IoctlSetIncomingFlow) {
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

} // namespace rpmsgsim
