// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// What the registry needs from the kernel layer. The real implementation (kernel_port.cpp)
// maps these onto daemon/kernel/ and turns the kernel's words into the typed states of
// common/states.h; tests can substitute a fake.

#include "common/states.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rpmsgd {

struct ProcessorSnapshot {
    std::string id;   ///< remoteprocN, or the transport (virtioK) for transports without one
    std::string name; ///< kernel `name`
    ProcessorState state = ProcessorState::Offline;
    std::string firmware;
    std::optional<RecoveryMode> recovery; ///< nullopt: this kernel has no `recovery` attribute
    std::optional<CoredumpMode> coredump; ///< nullopt: this kernel has no `coredump` attribute
    bool remoteproc = true; ///< false: a transport without a remoteproc (docs/dbus-api.md)
};

struct ChannelSnapshot {
    std::string device; ///< rpmsg bus device, e.g. virtio0.rpmsg-echo.-1.1024
    std::string name;   ///< announced service name
    uint32_t remoteAddress = 0;
    std::string processorId; ///< remoteprocN, or the transport id
    std::string transport;   ///< virtioK
    std::string tty;         ///< ttyRPMSGn when bound to rpmsg_tty (Kind tty), else ""
};

struct CtrlSnapshot {
    std::string name; ///< rpmsg_ctrlN
    std::string processorId;
    std::string transport;
    uint64_t instance = 0; ///< changes when the device is re-created under the same name
};

struct CoredumpSnapshot {
    std::string device; ///< devcdN
    std::string processorId;
};

struct OpenedEndpoint {
    int fd = -1;
    std::string device; ///< rpmsgN
};

class KernelPort {
public:
    virtual ~KernelPort() = default;
    /// @brief Reads the truth. ctrls() and channels() then return what this read found, so a
    /// rescan calls processors() first.
    virtual std::vector<ProcessorSnapshot> processors() = 0;
    virtual std::vector<ChannelSnapshot> channels() = 0;
    virtual std::vector<CtrlSnapshot> ctrls() = 0;
    /// @brief Reads only `state` of one processor (nullopt if it vanished).
    virtual std::optional<ProcessorState> state(const std::string& id) = 0;
    // Each of these throws rpmsgd::Error (KernelError, InvalidState, ...) naming file and errno.
    virtual void start(const std::string& id) = 0; ///< no-op when running/attached
    virtual void stop(const std::string& id) = 0;  ///< no-op when offline/detached
    virtual void setFirmware(const std::string& id, const std::string& name) = 0;
    /// @brief Checks that firmware @p name exists under the firmware directory and passes the
    /// kernel's ELF and resource-table checks; throws NotFound / InvalidFirmware.
    virtual void checkFirmware(const std::string& name) = 0;
    virtual void setRecovery(const std::string& id, bool enabled) = 0;
    virtual void setCoredump(const std::string& id, CoredumpMode mode) = 0;
    virtual void recover(const std::string& id) = 0;
    virtual std::string readTrace(const std::string& id, unsigned index) = 0;
    virtual OpenedEndpoint createEndpoint(const std::string& ctrl, const std::string& name,
                                          uint32_t src, uint32_t dst, bool nonblock) = 0;
    virtual void destroyEndpoint(int fd) = 0;
    /// @brief Opens the tty @p tty (ttyRPMSGn) O_RDWR|O_NOCTTY for a tty channel's lease.
    virtual OpenedEndpoint openTty(const std::string& tty, bool nonblock) = 0;
    /// @brief Hangs up the tty open as @p fd (TIOCVHANGUP): its holders see EOF/EIO.
    virtual void hangupTty(int fd, const std::string& tty) = 0;
    virtual std::vector<CoredumpSnapshot> coredumps() = 0;
    virtual std::vector<uint8_t> readCoredump(const std::string& device, size_t maxBytes) = 0;
    virtual void dismissCoredump(const std::string& device) = 0;
};

} // namespace rpmsgd
