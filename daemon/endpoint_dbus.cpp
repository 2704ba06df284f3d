// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "endpoint_dbus.h"

#include "dbus/errors.h"
#include "dbus_service.h"

namespace rpmsgd {

namespace {
constexpr const char* Interface = org::rpmsgd::Broker1::Endpoint_adaptor::INTERFACE_NAME;
} // namespace

EndpointObject::EndpointObject(DbusService& svc, const Endpoint& e, const std::string& path)
    : AdaptorInterfaces(svc.connection(), path), svc_(svc), e_(e) {
    registerAdaptor();
    emitInterfacesAddedSignal({Interface});
}

EndpointObject::~EndpointObject() {
    emitInterfacesRemovedSignal({Interface});
    unregisterAdaptor();
}

// Read, validate, authorise, call the registry, reply (method_call.h).
void EndpointObject::Close(sdbus::Result<>&& result) {
    auto call = MethodCall<>::async(std::move(result));
    call->step([&] {
        if (!svc_.registry().endpoints().count(e_.number)) {
            throw Error(ErrorCode::NotFound, "There is no endpoint " + std::to_string(e_.number));
        }
        svc_.authorise(getObject(), call, Action::closeEndpoint(e_.number, e_.owner),
                       [&svc = svc_, n = e_.number, call](const Caller& c) {
                           svc.registry().close(n, "closed by " + c.sender);
                           call->reply();
                       });
    });
}

sdbus::ObjectPath EndpointObject::Channel() {
    auto it = svc_.registry().channels().find(e_.channelKey);
    if (e_.channelKey.empty() || it == svc_.registry().channels().end()) {
        return sdbus::ObjectPath("/");
    }
    return sdbus::ObjectPath(svc_.channelPath(it->second));
}

sdbus::ObjectPath EndpointObject::Processor() {
    return sdbus::ObjectPath(svc_.processorPath(e_.processorId));
}

} // namespace rpmsgd
