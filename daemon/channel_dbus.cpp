// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "channel_dbus.h"

#include "dbus/errors.h"
#include "dbus_service.h"
#include "validation.h"

namespace rpmsgd {

namespace {
constexpr const char* Interface = org::rpmsgd::Broker1::Channel_adaptor::INTERFACE_NAME;
} // namespace

ChannelObject::ChannelObject(DbusService& svc, const Channel& c, const std::string& path)
    : AdaptorInterfaces(svc.connection(), path), svc_(svc), key_(c.key), name_(c.name),
      processor_(c.processorId), remote_(c.remoteAddress), mtu_(c.mtu) {
    registerAdaptor();
    emitInterfacesAddedSignal({Interface});
}

ChannelObject::~ChannelObject() {
    emitInterfacesRemovedSignal({Interface});
    unregisterAdaptor();
}

void ChannelObject::changed(const std::vector<std::string>& props) {
    emitPropertiesChangedSignal(Interface, props);
}

const Channel& ChannelObject::channel() {
    auto it = svc_.registry().channels().find(key_);
    if (it == svc_.registry().channels().end()) {
        throw Error(ErrorCode::Unavailable, "The channel is gone");
    }
    return it->second;
}

// Read, validate, authorise, call the registry, reply (method_call.h).
void ChannelObject::Open(sdbus::Result<sdbus::UnixFd, sdbus::ObjectPath, uint32_t>&& result,
                         std::map<std::string, sdbus::Variant> options) {
    auto call = OpenCall::async(std::move(result));
    call->step([&] {
        const OpenOptions o = parseOpenOptions(options);
        checkLocalAddress(o.localAddress);
        const Channel& ch = channel();
        const rpmsgd::Processor& p = svc_.registry().processor(ch.processorId);
        svc_.authorise(getObject(), call, Action::openChannel(ch.name, p.id, p.name),
                       [&svc = svc_, key = key_, o, call](const Caller& c) {
                           svc.callers().track(c.sender);
                           svc.registry().open(c, key, o, replyOpened(svc, call));
                       });
    });
}

sdbus::ObjectPath ChannelObject::Processor() {
    return sdbus::ObjectPath(svc_.processorPath(processor_));
}

uint32_t ChannelObject::Endpoints() {
    auto it = svc_.registry().channels().find(key_);
    return it == svc_.registry().channels().end() ? 0 : it->second.endpoints;
}

std::string ChannelObject::Device() {
    // A tty channel's device is its tty (API 1.1); a message channel's its rpmsg bus device.
    auto it = svc_.registry().channels().find(key_);
    return it == svc_.registry().channels().end() || it->second.tty.empty() ? key_ : it->second.tty;
}

std::string ChannelObject::Kind() {
    auto it = svc_.registry().channels().find(key_);
    return it != svc_.registry().channels().end() && !it->second.tty.empty() ? "tty" : "message";
}

uint32_t ChannelObject::OpenCount() {
    auto it = svc_.registry().channels().find(key_);
    return it == svc_.registry().channels().end() ? 0 : it->second.openCount;
}

} // namespace rpmsgd
