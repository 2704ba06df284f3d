// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/remoteproc/remoteproc_sysfs.c (Linux 6.6): the remoteproc class device and its
// attributes `name`, `firmware`, `state`, `recovery` and `coredump`, with the kernel's
// sysfs_streq matching, messages and errno. 5.15: `start` while running or attached is EBUSY
// (6.1 and 6.6 only take another power reference), and `stop` returns success whatever
// rproc_shutdown said (5.13 to 5.18). The `recovery` store is shared with debugfs, which
// matches its words with strncmp instead.

#include "kernel_model_impl.h"

#include <cerrno>

namespace rpmsgsim {

namespace {
// A store that answers at once, as one that Simulator::Impl::heldStore() may run later.
template <typename Store>
auto syncStore(Simulator::Impl* impl, Store store) {
    return
        [impl, store](const std::shared_ptr<Processor>& p, std::string_view buf, RequestPtr req) {
            const long r = (impl->*store)(p, buf);
            if (r < 0) {
                req->replyError(int(-r));
            } else {
                req->replyWritten(size_t(r));
            }
        };
}
} // namespace

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
                             return sp->state == ProcessorState::Attached ? std::string("unknown\n")
                                                                          : sp->firmware + "\n";
                         },
                     .storeAsync =
                         [this, weak](std::string_view buf, RequestPtr req) {
                             auto sp = weak.lock();
                             if (!sp) {
                                 return req->replyError(ENODEV);
                             }
                             heldStore(sp, "firmware", buf, std::move(req),
                                       syncStore(this, &Impl::storeFirmware));
                         }});
    vfs.attr(p->dir, "state", rw,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             return sp ? std::string(toString(sp->state)) + "\n" : std::string();
                         },
                     .storeAsync =
                         [this, weak](std::string_view buf, RequestPtr req) {
                             auto sp = weak.lock();
                             if (!sp) {
                                 return req->replyError(ENODEV);
                             }
                             const std::string word = streq(buf, "start")  ? "start"
                                                      : streq(buf, "stop") ? "stop"
                                                                           : "";
                             heldStore(sp, word, buf, std::move(req),
                                       syncStore(this, &Impl::storeState));
                         }});
    vfs.attr(p->dir, "recovery", rw, recoveryAttr(weak, false));
    vfs.attr(p->dir, "coredump", rw, coredumpAttr(weak, false));
    deviceFiles(p->dir, "/sys/class/remoteproc", info);
    vfs.symlink(p->dir, "device", p->platformDir->path());
    p->classLink = vfs.symlink(sysClassRemoteproc, p->id, p->dir->path());
    buildDebugfs(p);
    emit("add", p->dir, p->info);
}

AttrOps Simulator::Impl::recoveryAttr(std::weak_ptr<Processor> weak, bool debugfs) {
    return AttrOps{
        .show =
            [weak] {
                auto sp = weak.lock();
                return std::string(toString(sp ? sp->recovery : RecoveryMode::Enabled)) + "\n";
            },
        .storeAsync =
            [this, weak, debugfs](std::string_view buf, RequestPtr req) {
                auto sp = weak.lock();
                if (!sp) {
                    return req->replyError(ENODEV);
                }
                const bool recover = debugfs ? debugfsMatch(buf, "recover") : streq(buf, "recover");
                heldStore(
                    sp, recover ? "recover" : "recovery", buf, std::move(req),
                    [this, debugfs](const std::shared_ptr<Processor>& p, std::string_view b,
                                    RequestPtr r) { storeRecovery(p, b, std::move(r), debugfs); });
            },
        .maxWrite = debugfs ? size_t(10) : size_t(4096),
        .debugfs = debugfs};
}

AttrOps Simulator::Impl::coredumpAttr(std::weak_ptr<Processor> weak, bool debugfs) {
    return AttrOps{.show =
                       [weak] {
                           auto sp = weak.lock();
                           return sp ? std::string(toString(sp->coredump)) + "\n" : std::string();
                       },
                   .storeAsync =
                       [this, weak, debugfs](std::string_view buf, RequestPtr req) {
                           auto sp = weak.lock();
                           if (!sp) {
                               return req->replyError(ENODEV);
                           }
                           heldStore(sp, "coredump", buf, std::move(req),
                                     [this, debugfs](const std::shared_ptr<Processor>& p,
                                                     std::string_view b, RequestPtr r) {
                                         const long n = storeCoredump(p, b, debugfs);
                                         if (n < 0) {
                                             r->replyError(int(-n));
                                         } else {
                                             r->replyWritten(size_t(n));
                                         }
                                     });
                       },
                   .maxWrite = debugfs ? size_t(20) : size_t(4096),
                   .debugfs = debugfs};
}

// --- sysfs stores ------------------------------------------------------------------------

void Simulator::Impl::heldStore(
    const std::shared_ptr<Processor>& p, const std::string& word, std::string_view buf,
    RequestPtr req,
    std::function<void(const std::shared_ptr<Processor>&, std::string_view, RequestPtr)> store) {
    auto hold = word.empty() ? p->holds.end() : p->holds.find(word);
    if (hold == p->holds.end()) {
        return store(p, buf, std::move(req));
    }
    const uint32_t seconds = hold->second;
    p->holds.erase(hold);
    log(p->id + ": holding the '" + word + "' write for " + std::to_string(seconds) + " s");
    auto shared = std::make_shared<RequestPtr>(std::move(req));
    std::weak_ptr<Processor> weak = p;
    p->heldWrites.push_back(
        sched.after(uint64_t(seconds) * 1000,
                    [this, weak, word, text = std::string(buf), shared, store = std::move(store)] {
                        auto sp = weak.lock();
                        if (!sp) {
                            return; // the request answers EIO as it goes
                        }
                        log(sp->id + ": the held '" + word + "' write goes on");
                        store(sp, text, std::move(*shared));
                        sp->heldWrites.remove_if([](const Timer& t) { return !t.pending(); });
                    }));
}

long Simulator::Impl::storeState(const std::shared_ptr<Processor>& p, std::string_view buf) {
    int r = 0;
    if (streq(buf, "start")) {
        if (profile.startBusyWhenRunning &&
            (p->state == ProcessorState::Running || p->state == ProcessorState::Attached)) {
            return -EBUSY;
        }
        r = boot(p);
    } else if (streq(buf, "stop")) {
        if (profile.version == "5.15") {
            // 5.13-5.18: sysfs checks the state itself and ignores the shutdown result.
            if (p->state != ProcessorState::Running && p->state != ProcessorState::Attached) {
                return -EINVAL;
            }
            shutdownProc(p);
        } else {
            r = shutdownProc(p); // checks the state (rproc_shutdown)
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
    if (p->state != ProcessorState::Offline) {
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

long Simulator::Impl::storeCoredump(const std::shared_ptr<Processor>& p, std::string_view buf,
                                    bool debugfs) {
    if (p->state == ProcessorState::Crashed) {
        if (!debugfs) { // the twin has only ever logged the sysfs refusal
            log(p->id + ": can't change coredump configuration");
        }
        return -EBUSY;
    }
    auto mode = coredumpModeWritten(buf, debugfs ? debugfsMatch : streq);
    if (!mode) {
        return -EINVAL;
    }
    p->coredump = *mode;
    return long(buf.size());
}

void Simulator::Impl::storeRecovery(const std::shared_ptr<Processor>& p, std::string_view buf,
                                    RequestPtr req, bool debugfs) {
    size_t count = buf.size();
    auto match = [&](std::string_view word) {
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
    if (match(toString(RecoveryMode::Enabled))) {
        p->recovery = RecoveryMode::Enabled;
        triggerRecovery(p, done);
    } else if (match(toString(RecoveryMode::Disabled))) {
        p->recovery = RecoveryMode::Disabled;
        done();
    } else if (match("recover")) {
        triggerRecovery(p, done);
    } else {
        (*shared)->replyError(EINVAL);
    }
}

} // namespace rpmsgsim
