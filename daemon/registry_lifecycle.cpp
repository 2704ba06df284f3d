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
#include "validation.h"

#include <atomic>
#include <ctime>
#include <memory>

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
    try {
        if (rule->firmware && *rule->firmware != p.firmware) {
            kernel_.setFirmware(p.id, *rule->firmware);
        }
        if (rule->recovery && rule->recovery != p.recovery) {
            kernel_.setRecovery(p.id, *rule->recovery == RecoveryMode::Enabled);
        }
        if (rule->coredump && rule->coredump != p.coredump) {
            kernel_.setCoredump(p.id, *rule->coredump);
        }
    } catch (const std::exception& e) {
        noteError(p, std::string("applying the configuration failed: ") + e.what());
        return;
    }
    if (rule->autostart) {
        log::info("Autostarting " + describe(p), {{"PROCESSOR", p.id}});
        startNow(p.id, [](std::exception_ptr) {});
    }
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

// A lifecycle write runs on the Worker with limits.kernel_write_timeout_ms as its deadline. Past
// it, the caller gets Timeout, LastError says so, the calls queued behind it are refused, and
// so is every lifecycle call until the write returns; then the state is re-read and LastError
// cleared or set as the write turned out.
void Registry::runLifecycle(const std::string& id, const std::string& verb,
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
        [this, id, verb, serial, at, answer, ran](std::exception_ptr error) {
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
                    noteError(it->second, verb + " failed: " + e.what());
                }
            } else if (it != processors_.end()) {
                if (wasOverdue) {
                    it->second.lastError.clear();
                    observer_.processorChanged(it->second, {"LastError"});
                    log::notice("The '" + verb + "' written to " + describe(it->second) + " at " +
                                    at + " returned after its deadline: done",
                                {{"PROCESSOR", id}});
                } else {
                    log::info(verb + " " + describe(it->second) + ": done", {{"PROCESSOR", id}});
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
    runLifecycle(
        id, "start", [this](const std::string& i) { kernel_.start(i); }, std::move(done));
}

void Registry::stopNow(const std::string& id, Done done) {
    runLifecycle(
        id, "stop", [this](const std::string& i) { kernel_.stop(i); }, std::move(done));
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
    runLifecycle(
        id, "recover", [this](const std::string& i) { kernel_.recover(i); }, std::move(done));
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

std::string Registry::loadFirmware(const std::string& id, const std::string& name,
                                   std::span<const uint8_t> image) {
    checkLoadFirmware(id);
    checkUploadName(name);
    if (image.size() > policy_.firmwareMaxBytes) {
        throw Error(ErrorCode::LimitExceeded, "Firmware " + name + " is larger than " +
                                                  std::to_string(policy_.firmwareMaxBytes) +
                                                  " bytes (limits.firmware_max_bytes)");
    }
    auto parsed = fw::parse(image);
    if (!parsed) {
        throw Error(ErrorCode::InvalidFirmware,
                    "Firmware " + name + " was refused: " + parsed.problem.message);
    }
    std::string stored = store_.storeFirmware(name, image);
    Processor& p = processorMutable(id);
    try {
        kernel_.setFirmware(id, stored);
    } catch (const Error& e) {
        noteError(p, std::string("setting firmware failed: ") + e.what());
        throw;
    }
    log::info("Loaded firmware " + stored + " (" + std::to_string(image.size()) + " bytes) for " +
                  describe(p),
              {{"PROCESSOR", id}, {"FIRMWARE", stored}});
    rescan();
    return stored;
}

void Registry::setFirmware(const std::string& id, const std::string& name) {
    Processor& p = processorMutable(id);
    requireRemoteproc(p, "set the firmware of");
    checkFirmwarePath(name);
    if (p.state != ProcessorState::Offline) {
        throw Error(ErrorCode::InvalidState, "Cannot change the firmware of " + describe(p) +
                                                 " while it is " + std::string(toString(p.state)) +
                                                 "; stop it first");
    }
    kernel_.checkFirmware(name);
    try {
        kernel_.setFirmware(id, name);
    } catch (const Error& e) {
        noteError(p, std::string("setting firmware failed: ") + e.what());
        throw;
    }
    rescan();
}

void Registry::setRecovery(const std::string& id, bool enabled) {
    const Processor& p = processor(id);
    requireRemoteproc(p, "change recovery of");
    if (enabled && p.state == ProcessorState::Crashed) {
        // `enabled` also recovers a crashed processor, which may wait for an inline dump.
        worker_.run(
            id, [this, id] { kernel_.setRecovery(id, true); },
            [this](std::exception_ptr) { rescan(); });
        return;
    }
    kernel_.setRecovery(id, enabled);
    rescan();
}

void Registry::setCoredump(const std::string& id, CoredumpMode mode) {
    const Processor& p = processor(id);
    requireRemoteproc(p, "change the coredump mode of");
    if (p.state == ProcessorState::Crashed) {
        throw Error(ErrorCode::InvalidState, "Cannot change the coredump mode of " + describe(p) +
                                                 " while it is " + std::string(toString(p.state)) +
                                                 "; recover it first");
    }
    kernel_.setCoredump(id, mode);
    rescan();
}

std::string Registry::readTrace(const std::string& id, unsigned index) {
    requireRemoteproc(processor(id), "read the trace of");
    return kernel_.readTrace(id, index);
}

} // namespace rpmsgd
