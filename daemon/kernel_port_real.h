// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// KernelPort on the real kernel interfaces (daemon/kernel), under configurable roots.

#include "kernel/paths.h"
#include "kernel/rpmsg_bus.h"
#include "kernel_port.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rpmsgd {

/// @brief Name, src, dst and transport from a virtio rpmsg bus device's name
/// ("virtio0.rpmsg-echo.-1.1024"); nullopt when the name does not have that form.
std::optional<kernel::ChannelInfo> parseVirtioDeviceName(const std::string& device);

class RealKernelPort : public KernelPort {
public:
    RealKernelPort(kernel::Paths paths, size_t firmwareMaxBytes);

    std::vector<ProcessorSnapshot> processors() override;
    std::vector<ChannelSnapshot> channels() override;
    std::vector<CtrlSnapshot> ctrls() override;
    std::optional<ProcessorState> state(const std::string& id) override;
    void start(const std::string& id) override;
    void stop(const std::string& id) override;
    void setFirmware(const std::string& id, const std::string& name) override;
    void checkFirmware(const std::string& name) override;
    void setRecovery(const std::string& id, bool enabled) override;
    void setCoredump(const std::string& id, CoredumpMode mode) override;
    void recover(const std::string& id) override;
    std::string readTrace(const std::string& id, unsigned index) override;
    OpenedEndpoint createEndpoint(const std::string& ctrl, const std::string& name, uint32_t src,
                                  uint32_t dst, bool nonblock) override;
    void destroyEndpoint(int fd) override;
    OpenedEndpoint openTty(const std::string& tty, bool nonblock) override;
    void hangupTty(int fd, const std::string& tty) override;
    std::vector<CoredumpSnapshot> coredumps() override;
    std::vector<uint8_t> readCoredump(const std::string& device, size_t maxBytes) override;
    void dismissCoredump(const std::string& device) override;

    /// @brief Destroys endpoints whose kernel name starts with @p prefix but not with @p keep
    /// (a previous daemon instance made them). Returns how many; held ones are reported in
    /// staleWarnings().
    size_t destroyStaleEndpoints(const std::string& prefix, const std::string& keep);
    const std::vector<std::string>& staleWarnings() const { return staleWarnings_; }
    /// @brief True when the last destroyStaleEndpoints() left some (held open by a client: an
    /// eptdev has one opener); calling it again later destroys them once they are closed.
    bool staleEndpointsLeft() const { return staleLeft_ > 0; }

private:
    std::vector<kernel::ChannelInfo> busDevices();

    kernel::Paths paths_;
    std::map<std::string, kernel::ChannelInfo> busCache_;
    std::vector<kernel::CtrlInfo> ctrlCache_;
    size_t firmwareMaxBytes_;
    std::vector<std::string> staleWarnings_;
    size_t staleLeft_ = 0;
};

} // namespace rpmsgd
