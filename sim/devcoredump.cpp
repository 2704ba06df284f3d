// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/base/devcoredump.c (Linux 6.6): the devcoredump class (its write-once `disabled`
// attribute), and one devcdX device per dump with `data` (read it; any write dismisses it) and
// the `failing_device` link, freed at its timeout (devcoredump_timeout_s here, 5 minutes in the
// kernel). 6.1 and 5.15 are the same here.

#include "kernel_model_impl.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace rpmsgsim {

void Simulator::Impl::addDevcdClass() {
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

} // namespace rpmsgsim
