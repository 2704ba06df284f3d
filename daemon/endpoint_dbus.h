// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// org.rpmsgd.Broker1.Endpoint: one object per endpoint lease (the registry's Endpoint,
// registry.h), at /org/rpmsgd/Broker1/endpoint/<n>. Its properties never change.

#include "org.rpmsgd.Broker1.Endpoint.adaptor.h"
#include "registry.h"

#include <cstdint>
#include <string>

#include <sdbus-c++/sdbus-c++.h>

namespace rpmsgd {

class DbusService;

class EndpointObject final
    : public sdbus::AdaptorInterfaces<org::rpmsgd::Broker1::Endpoint_adaptor,
                                      sdbus::Properties_adaptor, sdbus::ManagedObject_adaptor> {
public:
    EndpointObject(DbusService& svc, const Endpoint& e, const std::string& path);
    ~EndpointObject();

private:
    void Close(sdbus::Result<>&& result) override;
    sdbus::ObjectPath Channel() override;
    sdbus::ObjectPath Processor() override;
    std::string Name() override { return e_.name; }
    uint32_t RemoteAddress() override { return e_.remoteAddress; }
    std::string Device() override { return e_.device; }
    std::string Owner() override { return e_.owner; }
    uint32_t OwnerUid() override { return e_.ownerUid; }

    DbusService& svc_;
    Endpoint e_;
};

} // namespace rpmsgd
