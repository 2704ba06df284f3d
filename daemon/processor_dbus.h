// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// org.rpmsgd.Broker1.Processor: one object per processor (the registry's Processor, registry.h),
// at /org/rpmsgd/Broker1/processor/<id>.

#include "method_call.h"
#include "org.rpmsgd.Broker1.Processor.adaptor.h"
#include "registry.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

namespace rpmsgd {

class DbusService;

class ProcessorObject final
    : public sdbus::AdaptorInterfaces<org::rpmsgd::Broker1::Processor_adaptor,
                                      sdbus::Properties_adaptor, sdbus::ManagedObject_adaptor> {
public:
    ProcessorObject(DbusService& svc, const std::string& id, const std::string& path);
    ~ProcessorObject();
    void changed(const std::vector<std::string>& props);
    void crashed(uint32_t count, const std::string& core) { emitCrashed(count, core); }
    void traceLines(uint32_t index, const std::vector<std::string>& lines) {
        emitTraceLines(index, lines);
    }

private:
    using Lifecycle = void (Registry::*)(const std::string&, Registry::Done);

    const Processor& p();
    /// Start, Stop, Restart, Recover: they answer when the kernel has.
    void lifecycle(sdbus::Result<>&& result, const char* what, Lifecycle verb);

    void Start(sdbus::Result<>&& result) override;
    void Stop(sdbus::Result<>&& result) override;
    void Restart(sdbus::Result<>&& result) override;
    void Recover(sdbus::Result<>&& result) override;
    void SetFirmware(sdbus::Result<>&& result, std::string name) override;
    void LoadFirmware(sdbus::Result<std::string>&& result, sdbus::UnixFd fd,
                      std::string name) override;
    void SetRecovery(sdbus::Result<>&& result, bool enabled) override;
    void SetCoredump(sdbus::Result<>&& result, std::string mode) override;
    void ReadTrace(sdbus::Result<std::string>&& result, uint32_t index) override;
    void OpenEndpoint(sdbus::Result<sdbus::UnixFd, sdbus::ObjectPath, uint32_t>&& result,
                      std::string name, uint32_t remote_address,
                      std::map<std::string, sdbus::Variant> options) override;

    std::string Id() override { return id_; }
    std::string Name() override;
    std::string State() override;
    std::string Firmware() override;
    std::string Recovery() override;
    std::string Coredump() override;
    std::vector<sdbus::ObjectPath> Channels() override;
    uint32_t CrashCount() override;
    uint32_t StartCount() override;
    uint64_t RunningSince() override;
    std::string LastError() override;
    std::string LastCoredump() override;

    DbusService& svc_;
    std::string id_;
};

} // namespace rpmsgd
