// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/rpmsg/virtio_rpmsg_bus.c (Linux 6.6): the virtio-rpmsg driver. Its probe adds the
// ctrl device and, with VIRTIO_RPMSG_F_NS, the name-service device; its remove takes every
// rpmsg device down. It owns the endpoint addresses (an idr from 1024), the TX buffers (half
// of the vring's, 256 at most) and the wait for a free one (rpmsg_send_offchannel_raw: EINVAL
// for broadcasts, EMSGSIZE above the MTU, 15 s timeout), and receives what the remote sends
// (rpmsg_recv_single). 5.15: a full non-blocking send is ENOMEM instead of EAGAIN.

#include "kernel_model_impl.h"

#include <cerrno>

namespace rpmsgsim {

void Simulator::Impl::virtioRpmsgProbe(const std::shared_ptr<Vdev>& v) {
    // virtio_rpmsg_probe: the ctrl device first (5.13+), then the name-service device.
    auto ctrlBus =
        addBusDevice(v, BusDevice::Ctrl, profile.ctrlBusName, 0, 0, profile.ctrlBusName, false);
    addCtrl(v, ctrlBus);
    if (v->nameService) {
        addBusDevice(v, BusDevice::Ns, "rpmsg_ns", rpmsg::NsAddr, rpmsg::NsAddr, "rpmsg_ns", false);
        v->endpoints[rpmsg::NsAddr] = std::weak_ptr<Eptdev>();
    }
}

void Simulator::Impl::virtioRpmsgRemove(const std::shared_ptr<Vdev>& v) {
    keepParkedUntilTimeout(v);
    // Every eptdev, the ctrl device and every rpmsg bus device goes (rpmsg_ctrldev_remove,
    // device_for_each_child(rpmsg_remove_device)), children before parents.
    removeCtrl(v);
    auto buses = v->busDevices;
    for (auto it = buses.rbegin(); it != buses.rend(); ++it) {
        removeBusDevice(v, *it);
    }
    v->endpoints.clear();
}

std::optional<uint32_t> Simulator::Impl::claimAddress(const std::shared_ptr<Vdev>& v, uint32_t want,
                                                      const std::shared_ptr<Eptdev>& e) {
    if (want == rpmsg::AddrAny) {
        for (uint32_t a = rpmsg::ReservedAddresses; a < rpmsg::AddrAny; ++a) {
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

void Simulator::Impl::rpmsgSend(const std::shared_ptr<Vdev>& v, const std::shared_ptr<Eptdev>& e,
                                RequestPtr req, std::vector<uint8_t> data, bool nonblock) {
    if (*e->addr == rpmsg::AddrAny || e->dst == rpmsg::AddrAny) {
        return req->replyError(EINVAL); // broadcasting isn't allowed
    }
    if (data.size() > rpmsg::Mtu) {
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
    if (dst == rpmsg::NsAddr && nameService) {
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
    // The buffer's memory: zero-filled at boot, written as a ring (writeTraceRing).
    if (p->traceBuf.size() != p->traceLen) {
        p->traceBuf.assign(p->traceLen, '\0');
        p->tracePos = 0;
    }
    writeTraceRing(reinterpret_cast<uint8_t*>(p->traceBuf.data()), p->traceLen, p->tracePos,
                   line + "\n");
}

} // namespace rpmsgsim
