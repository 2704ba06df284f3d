// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Managing processors: start, stop, restart and recover (kernel writes that may block, so they
// run on the Worker and answer on the loop), firmware, the recovery and coredump settings, the
// trace buffers, and the config's processors[] entries applied to a processor first seen
// offline.

#include "common/firmware_image.h"
#include "dbus/errors.h"
#include "log.h"
#include "registry.h"
#include "upload_copy.h"
#include "validation.h"

#include <atomic>
#include <cerrno>
#include <ctime>
#include <memory>
#include <optional>
#include <sys/mman.h>
#include <unistd.h>

namespace rpmsgd {

void Registry::enableProcessorPolicies() {
    policiesEnabled_ = true;
    for (auto& [id, p] : processors_) {
        applyPolicy(p);
    }
}

void Registry::applyPolicy(Processor& p) {
    if (p.configured || !p.remoteproc) {
        return;
    }
    p.configured = true;
    const Policy::ProcessorRule* rule = ruleFor(p);
    if (!rule || p.state != ProcessorState::Offline) {
        return; // only a processor first seen offline is configured (not one already in use)
    }
    // The writes run on the Worker as a client's would (deadline included), then the autostart.
    std::optional<std::string> firmware;
    if (rule->firmware && *rule->firmware != p.firmware) {
        firmware = *rule->firmware;
    }
    std::optional<bool> recovery;
    if (rule->recovery && rule->recovery != p.recovery) {
        recovery = *rule->recovery == RecoveryMode::Enabled;
    }
    std::optional<CoredumpMode> coredump;
    if (rule->coredump && rule->coredump != p.coredump) {
        coredump = *rule->coredump;
    }
    const bool autostart = rule->autostart;
    if (!firmware && !recovery && !coredump) {
        if (autostart) {
            log::info("Autostarting " + describe(p), {{"PROCESSOR", p.id}});
            startNow(p.id, [](std::exception_ptr) {});
        }
        return;
    }
    runKernelWrite(
        p.id, "configuration", "applying the configuration failed: ",
        [this, firmware, recovery, coredump](const std::string& i) {
            if (firmware) {
                kernel_.setFirmware(i, *firmware);
            }
            if (recovery) {
                kernel_.setRecovery(i, *recovery);
            }
            if (coredump) {
                kernel_.setCoredump(i, *coredump);
            }
        },
        [this, id = p.id, autostart](std::exception_ptr error) {
            auto it = processors_.find(id);
            if (error || !autostart || it == processors_.end()) {
                return;
            }
            log::info("Autostarting " + describe(it->second), {{"PROCESSOR", id}});
            startNow(id, [](std::exception_ptr) {});
        });
}

namespace {
// The wall-clock time of now, as error messages give it ("22:41:03").
std::string clockNow() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}
} // namespace

// A kernel write (start, stop, recover, firmware, recovery, coredump) runs on the Worker with
// limits.kernel_write_timeout_ms as its deadline, one after another per processor. Past it, the
// caller gets Timeout, LastError says so, the calls queued behind it are refused, and so is
// every such call until the write returns; then the state is re-read and LastError cleared or
// set as the write turned out.
void Registry::runKernelWrite(const std::string& id, const std::string& verb,
                              const std::string& failed,
                              std::function<void(const std::string&)> work, Done done) {
    if (auto it = overdue_.find(id); it != overdue_.end()) {
        auto p = processors_.find(id);
        return done(std::make_exception_ptr(
            Error(ErrorCode::InvalidState,
                  "Cannot " + verb + " " + (p != processors_.end() ? describe(p->second) : id) +
                      ": a '" + it->second.verb + "' written at " + it->second.at +
                      " has not returned; wait for the kernel to finish it")));
    }
    const uint64_t serial = ++writeSerial_;
    const uint32_t deadlineMs = policy_.kernelWriteTimeoutMs;
    const std::string at = clockNow();
    auto answer = std::make_shared<Done>(std::move(done)); // answered once: now or at the deadline
    auto ran = std::make_shared<std::atomic<bool>>(false); // not when dropped from the queue
    worker_.run(
        id,
        [id, ran, work = std::move(work)] {
            ran->store(true);
            work(id);
        },
        [this, id, verb, failed, serial, at, answer, ran](std::exception_ptr error) {
            if (!ran->load()) { // refused behind an overdue write: nothing was written
                if (*answer) {
                    Done d = std::move(*answer);
                    *answer = nullptr;
                    d(error);
                }
                return;
            }
            auto late = overdue_.find(id);
            const bool wasOverdue = late != overdue_.end() && late->second.serial == serial;
            if (wasOverdue) {
                overdue_.erase(late);
            }
            auto it = processors_.find(id);
            if (error && it != processors_.end()) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    noteError(it->second, failed + e.what());
                }
            } else if (it != processors_.end()) {
                if (wasOverdue) {
                    it->second.lastError.clear();
                    observer_.processorChanged(it->second, {"LastError"});
                    log::notice("The '" + verb + "' written to " + describe(it->second) + " at " +
                                    at + " returned after its deadline: done",
                                {{"PROCESSOR", id}});
                } else {
                    log::info("'" + verb + "' written to " + describe(it->second) + ": done",
                              {{"PROCESSOR", id}});
                }
            }
            rescan();
            if (*answer) {
                Done d = std::move(*answer);
                *answer = nullptr;
                d(error);
            }
        },
        deadlineMs,
        [this, id, verb, serial, at, deadlineMs, answer] {
            overdue_[id] = OverdueWrite{verb, at, serial};
            auto it = processors_.find(id);
            const std::string who = it != processors_.end() ? describe(it->second) : id;
            const std::string limit = std::to_string(deadlineMs) + " ms";
            if (it != processors_.end()) {
                noteError(it->second, "'" + verb + "' written at " + at +
                                          " has not returned after " + limit +
                                          " (limits.kernel_write_timeout_ms)");
            }
            worker_.dropQueued(
                id, std::make_exception_ptr(Error(ErrorCode::InvalidState,
                                                  "Cannot act on " + who + ": a '" + verb +
                                                      "' written at " + at + " has not returned")));
            if (*answer) {
                Done d = std::move(*answer);
                *answer = nullptr;
                d(std::make_exception_ptr(Error(
                    ErrorCode::Timeout, "The kernel has not finished '" + verb + "' on " + who +
                                            " within " + limit +
                                            " (limits.kernel_write_timeout_ms); LastError will "
                                            "say how it ends")));
            }
        });
}

void Registry::startNow(const std::string& id, Done done) {
    runKernelWrite(
        id, "start", "start failed: ", [this](const std::string& i) { kernel_.start(i); },
        std::move(done));
}

void Registry::stopNow(const std::string& id, Done done) {
    runKernelWrite(
        id, "stop", "stop failed: ", [this](const std::string& i) { kernel_.stop(i); },
        std::move(done));
}

void Registry::start(const std::string& id, Done done) {
    requireRemoteproc(processor(id), "start");
    startNow(id, std::move(done));
}

void Registry::stop(const std::string& id, Done done) {
    requireRemoteproc(processor(id), "stop");
    stopNow(id, std::move(done));
}

void Registry::restart(const std::string& id, Done done) {
    requireRemoteproc(processor(id), "restart");
    stopNow(id, [this, id, done = std::move(done)](std::exception_ptr error) {
        if (error) {
            return done(error);
        }
        startNow(id, done);
    });
}

void Registry::recover(const std::string& id, Done done) {
    const Processor& p = processor(id);
    requireRemoteproc(p, "recover");
    if (p.state != ProcessorState::Crashed) {
        throw Error(ErrorCode::InvalidState, "Cannot recover " + describe(p) + ": it is " +
                                                 std::string(toString(p.state)) + ", not " +
                                                 std::string(toString(ProcessorState::Crashed)));
    }
    // Runs off the loop: with an inline coredump the kernel holds the write until we have read
    // and dismissed the dump, which the loop does meanwhile.
    runKernelWrite(
        id, "recover", "recover failed: ", [this](const std::string& i) { kernel_.recover(i); },
        std::move(done));
}

void Registry::checkLoadFirmware(const std::string& id) const {
    const Processor& p = processor(id);
    requireRemoteproc(p, "load firmware for");
    if (p.state != ProcessorState::Offline) {
        throw Error(ErrorCode::InvalidState, "Cannot load firmware for " + describe(p) +
                                                 " while it is " + std::string(toString(p.state)) +
                                                 "; stop it first");
    }
}

namespace {

// The upload's fd, closed once copied (or when the copy is dropped).
struct OwnedFd {
    explicit OwnedFd(int f) : fd(f) {}
    ~OwnedFd() { reset(); }
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    int get() const { return fd; }
    void reset() {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
    int fd;
};

// Why copying an upload failed, as the caller of LoadFirmware is told.
Error uploadError(const std::string& name, const std::string& target, const UploadCopy& c,
                  uint64_t maxBytes) {
    if (c.writing) {
        return Error(ErrorCode::Internal, kernelErrorMessage("write " + target, c.error));
    }
    switch (c.error) {
    case EFBIG:
        return Error(ErrorCode::LimitExceeded, "Firmware " + name + " is larger than " +
                                                   std::to_string(maxBytes) +
                                                   " bytes (limits.firmware_max_bytes)");
    case ETIMEDOUT:
        return Error(ErrorCode::Timeout,
                     "Reading firmware " + name + " from the passed fd took more than " +
                         std::to_string(Registry::UploadTimeoutMs / 1000) + " s");
    default:
        return Error(ErrorCode::InvalidArgument,
                     kernelErrorMessage("read firmware " + name + " from the passed fd", c.error));
    }
}

// The ELF checks, on the copy (mapped, not read again).
void checkImage(const std::string& name, int fd, uint64_t size) {
    std::span<const uint8_t> image;
    void* map = nullptr;
    if (size > 0) {
        map = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            throw Error(ErrorCode::Internal,
                        kernelErrorMessage("map the copy of firmware " + name, errno));
        }
        image = std::span<const uint8_t>(static_cast<const uint8_t*>(map), size_t(size));
    }
    auto parsed = fw::parse(image);
    if (map) {
        munmap(map, size);
    }
    if (!parsed) {
        throw Error(ErrorCode::InvalidFirmware,
                    "Firmware " + name + " was refused: " + parsed.problem.message);
    }
}

} // namespace

void Registry::loadFirmware(const std::string& id, const std::string& name, int fd, Loaded done) {
    auto src = std::make_shared<OwnedFd>(fd); // closed when the copy is done, or now
    checkLoadFirmware(id);
    checkUploadName(name);
    // The copy and its checks run on the Worker (a 32 MiB image must not stall the loop), in a
    // queue of its own: the processor's kernel writes are not held behind a slow sender.
    auto stored = std::make_shared<std::string>();
    auto bytes = std::make_shared<uint64_t>(0);
    const uint64_t maxBytes = policy_.firmwareMaxBytes;
    worker_.run(
        "upload " + id,
        [this, src, name, maxBytes, stored, bytes] {
            *stored = store_.storeFirmwareFrom(name, [&](int tmp, const std::string& target) {
                const UploadCopy c = copyUpload(src->get(), tmp, maxBytes, UploadTimeoutMs);
                src->reset();
                if (c.error) {
                    throw uploadError(name, target, c, maxBytes);
                }
                *bytes = c.bytes;
                checkImage(name, tmp, c.bytes);
            });
        },
        [this, id, stored, bytes, done = std::move(done)](std::exception_ptr error) {
            if (error) {
                return done(error, "");
            }
            try {
                checkLoadFirmware(id); // it may have started while the image was copied
            } catch (...) {
                return done(std::current_exception(), "");
            }
            const std::string set = *stored;
            const uint64_t size = *bytes;
            runKernelWrite(
                id, "firmware", "setting firmware failed: ",
                [this, set](const std::string& i) { kernel_.setFirmware(i, set); },
                [this, id, set, size, done](std::exception_ptr e) {
                    if (!e) {
                        auto it = processors_.find(id);
                        log::info("Loaded firmware " + set + " (" + std::to_string(size) +
                                      " bytes) for " +
                                      (it != processors_.end() ? describe(it->second) : id),
                                  {{"PROCESSOR", id}, {"FIRMWARE", set}});
                    }
                    done(e, set);
                });
        });
}

void Registry::setFirmware(const std::string& id, const std::string& name, Done done) {
    const Processor& p = processor(id);
    requireRemoteproc(p, "set the firmware of");
    checkFirmwarePath(name);
    if (p.state != ProcessorState::Offline) {
        throw Error(ErrorCode::InvalidState, "Cannot change the firmware of " + describe(p) +
                                                 " while it is " + std::string(toString(p.state)) +
                                                 "; stop it first");
    }
    kernel_.checkFirmware(name);
    runKernelWrite(
        id, "firmware", "setting firmware failed: ",
        [this, name](const std::string& i) { kernel_.setFirmware(i, name); }, std::move(done));
}

void Registry::setRecovery(const std::string& id, bool enabled, Done done) {
    const Processor& p = processor(id);
    requireRemoteproc(p, "change recovery of");
    // `enabled` also recovers a crashed processor, which may wait for an inline dump: the loop
    // dismisses it meanwhile.
    runKernelWrite(
        id, "recovery", "changing recovery failed: ",
        [this, enabled](const std::string& i) { kernel_.setRecovery(i, enabled); },
        std::move(done));
}

void Registry::setCoredump(const std::string& id, CoredumpMode mode, Done done) {
    const Processor& p = processor(id);
    requireRemoteproc(p, "change the coredump mode of");
    if (p.state == ProcessorState::Crashed) {
        throw Error(ErrorCode::InvalidState, "Cannot change the coredump mode of " + describe(p) +
                                                 " while it is " + std::string(toString(p.state)) +
                                                 "; recover it first");
    }
    runKernelWrite(
        id, "coredump", "changing the coredump mode failed: ",
        [this, mode](const std::string& i) { kernel_.setCoredump(i, mode); }, std::move(done));
}

std::string Registry::readTrace(const std::string& id, unsigned index) {
    requireRemoteproc(processor(id), "read the trace of");
    return kernel_.readTrace(id, index);
}

} // namespace rpmsgd
