// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// org.rpmsgd.Broker1.Channel: one object per channel a remote announced (the registry's Channel,
// registry.h), at /org/rpmsgd/Broker1/processor/<id>/channel/<name>_<address>.

#include "org.rpmsgd.Broker1.Channel.adaptor.h"
#include "registry.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

namespace rpmsgd {

class DbusService;

class ChannelObject final
    : public sdbus::AdaptorInterfaces<org::rpmsgd::Broker1::Channel_adaptor,
                                      sdbus::Properties_adaptor, sdbus::ManagedObject_adaptor> {
public:
    ChannelObject(DbusService& svc, const Channel& c, const std::string& path);
    ~ChannelObject();
    void changed(const std::vector<std::string>& props);

private:
    /// @brief The registry's channel; Unavailable once it is gone.
    const Channel& channel();

    void Open(sdbus::Result<sdbus::UnixFd, sdbus::ObjectPath, uint32_t>&& result,
              std::map<std::string, sdbus::Variant> options) override;
    std::string Name() override { return name_; }
    sdbus::ObjectPath Processor() override;
    uint32_t RemoteAddress() override { return remote_; }
    std::string Device() override;
    std::string Kind() override;
    uint32_t Mtu() override { return mtu_; }
    uint32_t Endpoints() override;
    uint32_t OpenCount() override;

    DbusService& svc_;
    std::string key_, name_, processor_;
    uint32_t remote_, mtu_;
};

} // namespace rpmsgd
