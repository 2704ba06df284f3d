// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "manager_dbus.h"

#include "dbus/errors.h"
#include "dbus_service.h"
#include "project_version.h"
#include "validation.h"

namespace rpmsgd {

ManagerObject::ManagerObject(DbusService& svc, uint32_t waitsPerClient)
    : AdaptorInterfaces(svc.connection(), RootPath), svc_(svc), waitsPerClient_(waitsPerClient) {
    registerAdaptor();
}

ManagerObject::~ManagerObject() {
    unregisterAdaptor();
}

std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>>
ManagerObject::ListProcessors() {
    return guarded([&] {
        std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>> out;
        for (const auto& [id, p] : svc_.registry().processors()) {
            out.emplace_back(p.id, p.name, std::string(toString(p.state)),
                             sdbus::ObjectPath(svc_.processorPath(p.id)));
        }
        return out;
    });
}

std::vector<sdbus::Struct<std::string, std::string, uint32_t, sdbus::ObjectPath>>
ManagerObject::ListChannels() {
    return guarded([&] {
        std::vector<sdbus::Struct<std::string, std::string, uint32_t, sdbus::ObjectPath>> out;
        for (const auto& [key, c] : svc_.registry().channels()) {
            out.emplace_back(c.name, c.processorId, c.remoteAddress,
                             sdbus::ObjectPath(svc_.channelPath(c)));
        }
        return out;
    });
}

sdbus::ObjectPath ManagerObject::GetProcessor(const std::string& key) {
    return guarded([&] {
        const Processor* p = svc_.registry().findProcessor(key);
        if (!p) {
            throw Error(ErrorCode::NotFound,
                        "No processor has the id or kernel name '" + key + "'");
        }
        return sdbus::ObjectPath(svc_.processorPath(p->id));
    });
}

void ManagerObject::WaitForChannel(sdbus::Result<sdbus::ObjectPath>&& result, std::string name,
                                   std::string processor, uint32_t timeout_ms) {
    auto call = WaitCall::async(std::move(result));
    call->step([&] {
        checkChannelName(name);
        if (!processor.empty() && !svc_.registry().findProcessor(processor)) {
            throw Error(ErrorCode::NotFound,
                        "No processor has the id or kernel name '" + processor + "'");
        }
        svc_.authorise(getObject(), call, Action::wait(),
                       [this, call, name, processor, timeout_ms](const Caller& c) {
                           wait(call, c.sender, name, processor, timeout_ms);
                       });
    });
}

void ManagerObject::wait(const WaitCall::Ptr& call, const std::string& sender,
                         const std::string& name, const std::string& processor,
                         uint32_t timeoutMs) {
    if (const Channel* c = svc_.registry().findChannel(name, processor)) {
        return call->reply(sdbus::ObjectPath(svc_.channelPath(*c)));
    }
    size_t mine = 0;
    for (const auto& [id, w] : waiters_) {
        mine += w->sender == sender;
    }
    if (mine >= waitsPerClient_) {
        throw Error(ErrorCode::LimitExceeded, "Client " + sender + " already waits for " +
                                                  std::to_string(mine) +
                                                  " channels (limits.waits_per_client)");
    }
    svc_.callers().track(sender);
    const uint64_t id = nextWaiter_++;
    auto w = std::make_unique<Waiter>(Waiter{sender, name, processor, call, Timer()});
    w->timer = svc_.scheduler().after(timeoutMs, [this, id] { timedOut(id); });
    waiters_[id] = std::move(w);
}

void ManagerObject::timedOut(uint64_t id) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) {
        return;
    }
    std::unique_ptr<Waiter> w = std::move(it->second);
    waiters_.erase(it);
    w->call->fail(std::make_exception_ptr(
        Error(ErrorCode::Timeout, "No channel '" + w->name + "'" +
                                      (w->processor.empty() ? "" : " on " + w->processor) +
                                      " appeared within the timeout")));
    svc_.callers().untrackLater(w->sender);
}

void ManagerObject::channelAppeared() {
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        const Channel* c = svc_.registry().findChannel(it->second->name, it->second->processor);
        if (!c) {
            ++it;
            continue;
        }
        std::unique_ptr<Waiter> w = std::move(it->second);
        it = waiters_.erase(it);
        w->timer.cancel();
        w->call->step([&] { w->call->reply(sdbus::ObjectPath(svc_.channelPath(*c))); });
        svc_.callers().untrackLater(w->sender);
    }
}

bool ManagerObject::waits(const std::string& sender) const {
    for (const auto& [id, w] : waiters_) {
        if (w->sender == sender) {
            return true;
        }
    }
    return false;
}

void ManagerObject::dropWaits(const std::string& sender) {
    std::erase_if(waiters_, [&](const auto& entry) { return entry.second->sender == sender; });
}

void ManagerObject::endWaits() {
    auto pending = std::move(waiters_);
    waiters_.clear();
    for (auto& [id, w] : pending) {
        w->call->fail(std::make_exception_ptr(Error(ErrorCode::Unavailable, "rpmsgd is stopping")));
    }
}

void ManagerObject::Reload(sdbus::Result<>&& result) {
    auto call = MethodCall<>::async(std::move(result));
    call->step([&] {
        svc_.authorise(getObject(), call, Action::reload(), [this, call](const Caller&) {
            std::string err = svc_.reload();
            if (!err.empty()) {
                throw Error(ErrorCode::InvalidArgument,
                            "The configuration was not reloaded (the old one stays): " + err);
            }
            call->reply();
        });
    });
}

std::string ManagerObject::Version() {
    return RPMSGD_VERSION;
}

std::string ManagerObject::ApiVersion() {
    return std::string(apiVersion);
}

} // namespace rpmsgd
