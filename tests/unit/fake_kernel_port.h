// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// An in-memory KernelPort for the registry's unit tests: processors, channels, control devices
// and devcoredumps are plain vectors the test edits; every call is recorded. Endpoints are real
// pipe fds, so the registry's dup/close work on them.

#include "daemon/kernel_port.h"
#include "dbus/errors.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace unit {

class FakeKernelPort : public rpmsgd::KernelPort {
public:
    using State = rpmsgd::ProcessorState;
    struct Dump {
        std::string device, processorId;
        std::vector<uint8_t> bytes;
    };
    struct Created {
        std::string ctrl, name;
        uint32_t src = 0, dst = 0;
        bool nonblock = false;
        int fd = -1;
        std::string device;
    };

    std::vector<rpmsgd::ProcessorSnapshot> procs;
    std::vector<rpmsgd::ChannelSnapshot> chans;
    std::vector<rpmsgd::CtrlSnapshot> ctrlDevs;
    std::vector<Dump> dumps;

    /// @brief Every call, in order: "start remoteproc0", "setFirmware remoteproc0 a.elf", ...
    /// Reads made by a rescan are recorded as "scan" (once per processors() call).
    std::vector<std::string> calls;
    std::vector<Created> created;
    std::vector<int> destroyed;           ///< fds passed to destroyEndpoint
    std::vector<int> hungUp;              ///< fds passed to hangupTty
    std::vector<bool> destroyedWhileOpen; ///< whether each was still an open fd then
    std::vector<size_t> readMax;          ///< maxBytes of each readCoredump
    /// @brief Method name → the error it throws next (and every time after).
    std::map<std::string, rpmsgd::Error> failures;

    /// @brief What the kernel does on each write; tests may replace (or clear) them.
    std::function<void(const std::string&)> onStart = [this](const std::string& id) {
        auto* p = find(id);
        if (p && (p->state == State::Offline || p->state == State::Crashed)) {
            p->state = State::Running;
        }
    };
    std::function<void(const std::string&)> onStop = [this](const std::string& id) {
        if (auto* p = find(id)) {
            p->state = State::Offline;
        }
    };
    std::function<void(const std::string&)> onRecover;
    /// @brief Runs after each coredumps() listing: lets a test make the kernel move on while
    /// a rescan is half-way through.
    std::function<void()> afterListingCoredumps;
    /// @brief As the kernel does (devcd_data_write schedules the removal): a dismissed dump
    /// stays listed, and readable, until the test removes it from `dumps`.
    bool dumpsRemovedLater = false;
    /// @brief Runs inside createEndpoint, before the endpoint is made: lets a test act while an
    /// Open's kernel steps are in flight (they run on the Worker).
    std::function<void()> whileCreatingEndpoint;

    ~FakeKernelPort() override {
        for (int fd : open_) {
            ::close(fd);
        }
    }

    rpmsgd::ProcessorSnapshot* find(const std::string& id) {
        for (auto& p : procs) {
            if (p.id == id) {
                return &p;
            }
        }
        return nullptr;
    }
    rpmsgd::ProcessorSnapshot& proc(const std::string& id) {
        auto* p = find(id);
        if (!p) {
            throw std::logic_error("fake: no processor " + id);
        }
        return *p;
    }
    void addProcessor(const std::string& id, const std::string& name, State state,
                      const std::string& ctrl = "", bool remoteproc = true) {
        rpmsgd::ProcessorSnapshot s;
        s.id = id;
        s.name = name;
        s.state = state;
        s.firmware = "default.elf";
        s.recovery = rpmsgd::RecoveryMode::Enabled;
        s.coredump = rpmsgd::CoredumpMode::Enabled;
        s.remoteproc = remoteproc;
        procs.push_back(s);
        if (!ctrl.empty()) {
            ctrlDevs.push_back({ctrl, id, "virtio0"});
        }
    }
    void removeProcessor(const std::string& id) {
        std::erase_if(procs, [&](const auto& p) { return p.id == id; });
        std::erase_if(ctrlDevs, [&](const auto& c) { return c.processorId == id; });
        std::erase_if(chans, [&](const auto& c) { return c.processorId == id; });
    }
    void setCtrl(const std::string& id, const std::string& ctrl) {
        std::erase_if(ctrlDevs, [&](const auto& c) { return c.processorId == id; });
        if (!ctrl.empty()) {
            ctrlDevs.push_back({ctrl, id, "virtio0"});
        }
    }
    void addChannel(const std::string& device, const std::string& name, uint32_t addr,
                    const std::string& processorId) {
        chans.push_back({device, name, addr, processorId, "virtio0", ""});
    }
    void removeChannel(const std::string& device) {
        std::erase_if(chans, [&](const auto& c) { return c.device == device; });
    }
    size_t count(const std::string& call) const {
        return size_t(std::count(calls.begin(), calls.end(), call));
    }
    /// @brief Calls that change something (everything but the reads of a rescan).
    std::vector<std::string> writes() const {
        std::vector<std::string> out;
        for (const auto& c : calls) {
            if (c != "scan" && c.rfind("state ", 0) != 0) {
                out.push_back(c);
            }
        }
        return out;
    }

    // --- KernelPort ---------------------------------------------------------------------
    std::vector<rpmsgd::ProcessorSnapshot> processors() override {
        calls.push_back("scan");
        return procs;
    }
    std::vector<rpmsgd::ChannelSnapshot> channels() override { return chans; }
    std::vector<rpmsgd::CtrlSnapshot> ctrls() override { return ctrlDevs; }
    std::optional<State> state(const std::string& id) override {
        calls.push_back("state " + id);
        auto* p = find(id);
        return p ? std::optional<State>(p->state) : std::nullopt;
    }
    void start(const std::string& id) override {
        record("start", "start " + id);
        if (onStart) {
            onStart(id);
        }
    }
    void stop(const std::string& id) override {
        record("stop", "stop " + id);
        if (onStop) {
            onStop(id);
        }
    }
    void setFirmware(const std::string& id, const std::string& name) override {
        record("setFirmware", "setFirmware " + id + " " + name);
        proc(id).firmware = name;
    }
    void checkFirmware(const std::string& name) override {
        record("checkFirmware", "checkFirmware " + name);
    }
    void setRecovery(const std::string& id, bool enabled) override {
        const auto mode = enabled ? rpmsgd::RecoveryMode::Enabled : rpmsgd::RecoveryMode::Disabled;
        record("setRecovery", "setRecovery " + id + " " + std::string(rpmsgd::toString(mode)));
        proc(id).recovery = mode;
    }
    void setCoredump(const std::string& id, rpmsgd::CoredumpMode mode) override {
        record("setCoredump", "setCoredump " + id + " " + std::string(rpmsgd::toString(mode)));
        proc(id).coredump = mode;
    }
    void recover(const std::string& id) override {
        record("recover", "recover " + id);
        if (onRecover) {
            onRecover(id);
        }
    }
    std::string readTrace(const std::string& id, unsigned index) override {
        record("readTrace", "readTrace " + id + " " + std::to_string(index));
        return "trace of " + id;
    }
    rpmsgd::OpenedEndpoint createEndpoint(const std::string& ctrl, const std::string& name,
                                          uint32_t src, uint32_t dst, bool nonblock) override {
        record("createEndpoint", "createEndpoint " + ctrl + " " + name);
        if (whileCreatingEndpoint) {
            auto hook = std::move(whileCreatingEndpoint);
            whileCreatingEndpoint = nullptr;
            hook();
        }
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) {
            throw rpmsgd::Error::kernel("fake pipe2", errno);
        }
        ::close(p[1]);
        open_.push_back(p[0]);
        std::string device = "rpmsg" + std::to_string(created.size());
        created.push_back({ctrl, name, src, dst, nonblock, p[0], device});
        return {p[0], device};
    }
    void destroyEndpoint(int fd) override {
        calls.push_back("destroyEndpoint " + std::to_string(fd));
        destroyed.push_back(fd);
        destroyedWhileOpen.push_back(fcntl(fd, F_GETFD) != -1);
        // The registry closes its copy itself.
        std::erase(open_, fd);
    }
    rpmsgd::OpenedEndpoint openTty(const std::string& tty, bool nonblock) override {
        record("openTty", "openTty " + tty + (nonblock ? " nonblock" : ""));
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) {
            throw rpmsgd::Error::kernel("fake pipe2", errno);
        }
        ::close(p[1]);
        open_.push_back(p[0]);
        return {p[0], tty};
    }
    void hangupTty(int fd, const std::string& tty) override {
        calls.push_back("hangupTty " + tty);
        hungUp.push_back(fd);
        std::erase(open_, fd);
    }
    std::vector<rpmsgd::CoredumpSnapshot> coredumps() override {
        std::vector<rpmsgd::CoredumpSnapshot> out;
        for (const auto& d : dumps) {
            out.push_back({d.device, d.processorId});
        }
        if (afterListingCoredumps) {
            afterListingCoredumps();
        }
        return out;
    }
    std::vector<uint8_t> readCoredump(const std::string& device, size_t maxBytes) override {
        record("readCoredump", "readCoredump " + device);
        readMax.push_back(maxBytes);
        for (const auto& d : dumps) {
            if (d.device == device) {
                return d.bytes;
            }
        }
        throw rpmsgd::Error::kernel("read " + device, ENOENT);
    }
    void dismissCoredump(const std::string& device) override {
        record("dismissCoredump", "dismissCoredump " + device);
        if (!dumpsRemovedLater) {
            std::erase_if(dumps, [&](const auto& d) { return d.device == device; });
        }
    }

private:
    void record(const std::string& method, const std::string& call) {
        calls.push_back(call);
        auto it = failures.find(method);
        if (it != failures.end()) {
            throw it->second;
        }
    }
    std::vector<int> open_; ///< fds the registry has not destroyed (closed at the end)
};

} // namespace unit
