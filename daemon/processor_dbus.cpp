// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "processor_dbus.h"

#include "dbus/errors.h"
#include "dbus_service.h"
#include "validation.h"

#include <cerrno>

namespace rpmsgd {

namespace {

constexpr const char* Interface = org::rpmsgd::Broker1::Processor_adaptor::INTERFACE_NAME;

} // namespace

ProcessorObject::ProcessorObject(DbusService& svc, const std::string& id, const std::string& path)
    : AdaptorInterfaces(svc.connection(), path), svc_(svc), id_(id) {
    registerAdaptor();
    emitInterfacesAddedSignal({Interface});
}

ProcessorObject::~ProcessorObject() {
    emitInterfacesRemovedSignal({Interface});
    unregisterAdaptor();
}

void ProcessorObject::changed(const std::vector<std::string>& props) {
    emitPropertiesChangedSignal(Interface, props);
}

const Processor& ProcessorObject::p() {
    const Processor* proc = svc_.registry().findProcessor(id_);
    if (!proc) {
        throw Error(ErrorCode::NotFound, "Processor " + id_ + " is gone");
    }
    return *proc;
}

// --- methods: read, validate, authorise, call the registry, reply (method_call.h) ------------
// The continuations capture the service and the id, not the object: an object can go (its
// processor removed) while its caller is being authorised.

void ProcessorObject::lifecycle(sdbus::Result<>&& result, const char* what, Lifecycle verb) {
    auto call = MethodCall<>::async(std::move(result));
    call->step([&] {
        svc_.authorise(getObject(), call, Action::manage(what, id_),
                       [&svc = svc_, id = id_, call, verb](const Caller&) {
                           (svc.registry().*verb)(id, call->done());
                       });
    });
}

void ProcessorObject::Start(sdbus::Result<>&& result) {
    lifecycle(std::move(result), "Starting a processor", &Registry::start);
}

void ProcessorObject::Stop(sdbus::Result<>&& result) {
    lifecycle(std::move(result), "Stopping a processor", &Registry::stop);
}

void ProcessorObject::Restart(sdbus::Result<>&& result) {
    lifecycle(std::move(result), "Restarting a processor", &Registry::restart);
}

void ProcessorObject::Recover(sdbus::Result<>&& result) {
    lifecycle(std::move(result), "Recovering a processor", &Registry::recover);
}

void ProcessorObject::SetFirmware(sdbus::Result<>&& result, std::string name) {
    auto call = MethodCall<>::async(std::move(result));
    call->step([&] {
        checkFirmwarePath(name);
        svc_.authorise(getObject(), call, Action::manage("Setting firmware", id_),
                       [&svc = svc_, id = id_, name, call](const Caller&) {
                           svc.registry().setFirmware(id, name, call->done());
                       });
    });
}

void ProcessorObject::LoadFirmware(sdbus::Result<std::string>&& result, sdbus::UnixFd fd,
                                   std::string name) {
    auto call = MethodCall<std::string>::async(std::move(result));
    call->step([&] {
        checkUploadName(name);
        auto upload = std::make_shared<sdbus::UnixFd>(std::move(fd)); // closed unless read
        svc_.authorise(getObject(), call, Action::manage("Loading firmware", id_),
                       [&svc = svc_, id = id_, name, upload, call](const Caller&) {
                           svc.registry().loadFirmware(
                               id, name, upload->release(),
                               [call](std::exception_ptr e, const std::string& stored) {
                                   if (e) {
                                       return call->fail(e);
                                   }
                                   call->step([&] { call->reply(stored); });
                               });
                       });
    });
}

void ProcessorObject::SetRecovery(sdbus::Result<>&& result, bool enabled) {
    auto call = MethodCall<>::async(std::move(result));
    call->step([&] {
        svc_.authorise(getObject(), call, Action::manage("Changing recovery", id_),
                       [&svc = svc_, id = id_, enabled, call](const Caller&) {
                           svc.registry().setRecovery(id, enabled, call->done());
                       });
    });
}

void ProcessorObject::SetCoredump(sdbus::Result<>&& result, std::string mode) {
    auto call = MethodCall<>::async(std::move(result));
    call->step([&] {
        const CoredumpMode m = parseCoredumpMode(mode);
        svc_.authorise(getObject(), call, Action::manage("Changing the coredump mode", id_),
                       [&svc = svc_, id = id_, m, call](const Caller&) {
                           svc.registry().setCoredump(id, m, call->done());
                       });
    });
}

void ProcessorObject::ReadTrace(sdbus::Result<std::string>&& result, uint32_t index) {
    auto call = MethodCall<std::string>::async(std::move(result));
    call->step([&] {
        svc_.authorise(getObject(), call, Action::manage("Reading a trace buffer", id_),
                       [&svc = svc_, id = id_, index, call](const Caller&) {
                           call->reply(svc.registry().readTrace(id, index));
                       });
    });
}

void ProcessorObject::OpenEndpoint(
    sdbus::Result<sdbus::UnixFd, sdbus::ObjectPath, uint32_t>&& result, std::string name,
    uint32_t remote_address, std::map<std::string, sdbus::Variant> options) {
    auto call = OpenCall::async(std::move(result));
    call->step([&] {
        const OpenOptions o = parseOpenOptions(options);
        checkEndpointName(name);
        checkRemoteAddress(remote_address);
        checkLocalAddress(o.localAddress);
        const Processor& proc = svc_.registry().processor(id_);
        svc_.authorise(getObject(), call, Action::openEndpoint(name, proc.id, proc.name),
                       [&svc = svc_, id = id_, name, remote_address, o, call](const Caller& c) {
                           svc.callers().track(c.sender);
                           svc.registry().openRaw(c, id, name, remote_address, o,
                                                  replyOpened(svc, call));
                       });
    });
}

// --- properties ------------------------------------------------------------------------------

std::string ProcessorObject::Name() {
    return guarded([&] { return p().name; });
}

std::string ProcessorObject::State() {
    return guarded([&] { return std::string(toString(p().state)); });
}

std::string ProcessorObject::Firmware() {
    return guarded([&] { return p().firmware; });
}

std::string ProcessorObject::Recovery() {
    return guarded([&] { return std::string(toString(p().recovery)); });
}

std::string ProcessorObject::Coredump() {
    return guarded([&] { return std::string(toString(p().coredump)); });
}

std::vector<sdbus::ObjectPath> ProcessorObject::Channels() {
    return guarded([&] {
        std::vector<sdbus::ObjectPath> out;
        for (const auto& key : p().channels) {
            auto it = svc_.registry().channels().find(key);
            if (it != svc_.registry().channels().end()) {
                out.emplace_back(svc_.channelPath(it->second));
            }
        }
        return out;
    });
}

uint32_t ProcessorObject::CrashCount() {
    return guarded([&] { return p().crashCount; });
}

uint32_t ProcessorObject::StartCount() {
    return guarded([&] { return p().startCount; });
}

uint64_t ProcessorObject::RunningSince() {
    return guarded([&] { return p().runningSince; });
}

std::string ProcessorObject::LastError() {
    return guarded([&] { return p().lastError; });
}

std::string ProcessorObject::LastCoredump() {
    return guarded([&] { return p().lastCoredump; });
}

} // namespace rpmsgd
