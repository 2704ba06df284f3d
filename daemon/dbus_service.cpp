// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "dbus_service.h"

#include "channel_dbus.h"
#include "dbus/errors.h"
#include "endpoint_dbus.h"
#include "log.h"
#include "manager_dbus.h"
#include "processor_dbus.h"

#include <algorithm>
#include <cctype>

namespace rpmsgd {

OpenOptions parseOpenOptions(const std::map<std::string, sdbus::Variant>& options) {
    OpenOptions o;
    for (const auto& [key, value] : options) {
        if (key == "nonblock") {
            if (!value.containsValueOfType<bool>()) {
                throw Error(ErrorCode::InvalidArgument,
                            "Option 'nonblock' must be a boolean (b), got '" +
                                value.peekValueType() + "'");
            }
            o.nonblock = value.get<bool>();
        } else if (key == "local_address") {
            if (!value.containsValueOfType<uint32_t>()) {
                throw Error(ErrorCode::InvalidArgument,
                            "Option 'local_address' must be an unsigned 32-bit integer (u), got '" +
                                value.peekValueType() + "'");
            }
            o.localAddress = value.get<uint32_t>();
        } else {
            throw Error(ErrorCode::InvalidArgument,
                        "Unknown option '" + key + "' (known: nonblock, local_address)");
        }
    }
    return o;
}

std::string escapePathElement(const std::string& s) {
    if (s.empty()) {
        return "_";
    }
    static const char* hexDigits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        if (isalnum(c)) {
            out += char(c);
        } else {
            out += '_';
            out += hexDigits[c >> 4];
            out += hexDigits[c & 15];
        }
    }
    return out;
}

Registry::OpenDone replyOpened(DbusService& svc, OpenCall::Ptr call) {
    return [&svc, call = std::move(call)](std::exception_ptr error, const OpenResult& r) {
        if (error) {
            return call->fail(error);
        }
        sdbus::UnixFd fd(r.fd, sdbus::adopt_fd); // closed here if the reply cannot take it
        call->step(
            [&] { call->reply(fd, sdbus::ObjectPath(svc.endpointPath(r.endpoint)), r.mtu); });
    };
}

DbusService::DbusService(sdbus::IConnection& connection, Scheduler& scheduler,
                         std::function<std::string()> reload, uint32_t waitsPerClient)
    : connection_(connection), scheduler_(scheduler), reload_(std::move(reload)),
      callers_(connection, scheduler), polkit_(connection, scheduler) {
    manager_ = std::make_unique<ManagerObject>(*this, waitsPerClient);
    callers_.setHandlers([this](const std::string& sender) { senderGone(sender); },
                         [this](const std::string& sender) { return holdsSomething(sender); });
}

DbusService::~DbusService() {
    clear();
}

void DbusService::attach(Registry& registry) {
    registry_ = &registry;
}

void DbusService::setWaitsPerClient(uint32_t n) {
    manager_->setWaitsPerClient(n);
}

void DbusService::clear() {
    manager_->endWaits();
    graveyard_.clear();
    endpoints_.clear();
    channels_.clear();
    processors_.clear();
    callers_.clear();
}

std::string DbusService::memberOf(sdbus::IObject& object) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    return msg ? msg->getMemberName() : std::string();
}

void DbusService::decide(const Caller& caller, const Question& question,
                         std::function<void(std::exception_ptr)> done) {
    const Policy& policy = registry_->policy();
    std::string refusal;
    try {
        policy.authorise(caller, question.action);
        return done(nullptr);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::AccessDenied) {
            return done(std::current_exception());
        }
        refusal = e.message();
    } catch (...) {
        return done(std::current_exception());
    }
    const char* actionId = polkitAction(question.action.kind);
    const Authorization mode = policy.authorization;
    if (!actionId || mode == Authorization::Groups) {
        return done(std::make_exception_ptr(Error(ErrorCode::AccessDenied, refusal)));
    }
    std::map<std::string, std::string> details;
    const Action& a = question.action;
    if (a.kind != Action::Kind::Reload) {
        const Processor* p = registry_->findProcessor(a.processorId);
        details["processor"] = p ? p->name : a.processorName;
        details["processor_id"] = a.processorId;
    }
    if (a.kind == Action::Kind::Manage) {
        details["method"] = question.method;
    } else if (a.kind == Action::Kind::OpenChannel || a.kind == Action::Kind::OpenEndpoint) {
        details["channel"] = a.name;
    }
    const std::string sender = caller.sender;
    const std::string action = actionId;
    polkit_.check(
        sender, action, details, question.interactive,
        [mode, refusal, sender, action, done](const PolkitVerdict& verdict) {
            if (verdict.kind == PolkitVerdict::Kind::Allowed) {
                log::info("polkit allowed " + action + " to " + sender,
                          {{"SENDER", sender}, {"POLKIT_ACTION", action}});
                return done(nullptr);
            }
            if (verdict.kind == PolkitVerdict::Kind::Absent && mode == Authorization::Auto) {
                // auto: no polkit on the bus is version 1 (groups only).
                return done(std::make_exception_ptr(Error(ErrorCode::AccessDenied, refusal)));
            }
            if (verdict.kind == PolkitVerdict::Kind::Failed ||
                verdict.kind == PolkitVerdict::Kind::Absent) {
                log::warning("polkit could not decide " + action + " for " + sender + ": " +
                                 verdict.why,
                             {{"SENDER", sender}, {"POLKIT_ACTION", action}});
            }
            done(std::make_exception_ptr(Error(
                ErrorCode::AccessDenied, refusal + "; polkit was asked (" + action + ") and " +
                                             (verdict.kind == PolkitVerdict::Kind::Denied ||
                                                      verdict.kind == PolkitVerdict::Kind::Challenge
                                                  ? "refused: " + verdict.why
                                                  : "could not decide: " + verdict.why))));
        });
}

std::string DbusService::processorPath(const std::string& id) const {
    return std::string(RootPath) + "/processor/" + escapePathElement(id);
}

std::string DbusService::channelPath(const Channel& c) const {
    return processorPath(c.processorId) + "/channel/" + escapePathElement(c.name) + "_" +
           std::to_string(c.remoteAddress);
}

std::string DbusService::endpointPath(uint64_t n) const {
    return std::string(RootPath) + "/endpoint/" + std::to_string(n);
}

void DbusService::senderGone(const std::string& sender) {
    registry_->clientGone(sender);
    manager_->dropWaits(sender); // nobody to answer
    trim_.noteActivity();
}

bool DbusService::holdsSomething(const std::string& sender) const {
    return registry_->owners().count(sender) || manager_->waits(sender);
}

void DbusService::bury(const std::string& path, std::shared_ptr<void> object) {
    if (!object) {
        return;
    }
    bool first = graveyard_.empty();
    graveyard_.emplace_back(path, std::move(object));
    if (first) {
        scheduler_.post([this] { graveyard_.clear(); });
    }
}

void DbusService::exhume(const std::string& path) {
    // A new object takes this path: the old one must be gone first.
    graveyard_.erase(std::remove_if(graveyard_.begin(), graveyard_.end(),
                                    [&](const auto& g) { return g.first == path; }),
                     graveyard_.end());
}

void DbusService::processorAdded(const Processor& p) {
    exhume(processorPath(p.id));
    processors_[p.id] = std::make_unique<ProcessorObject>(*this, p.id, processorPath(p.id));
}

void DbusService::processorChanged(const Processor& p, const std::vector<std::string>& props) {
    auto it = processors_.find(p.id);
    if (it != processors_.end()) {
        it->second->changed(props);
    }
}

void DbusService::processorRemoved(const Processor& p) {
    auto it = processors_.find(p.id);
    if (it != processors_.end()) {
        bury(processorPath(p.id), std::shared_ptr<ProcessorObject>(std::move(it->second)));
        processors_.erase(it);
    }
}

void DbusService::channelAdded(const Channel& c) {
    exhume(channelPath(c));
    channels_[c.key] = std::make_unique<ChannelObject>(*this, c, channelPath(c));
    manager_->channelAppeared();
}

void DbusService::channelChanged(const Channel& c, const std::vector<std::string>& props) {
    auto it = channels_.find(c.key);
    if (it != channels_.end()) {
        it->second->changed(props);
    }
}

void DbusService::channelRemoved(const Channel& c) {
    auto it = channels_.find(c.key);
    if (it != channels_.end()) {
        bury(channelPath(c), std::shared_ptr<ChannelObject>(std::move(it->second)));
        channels_.erase(it);
    }
}

void DbusService::endpointAdded(const Endpoint& e) {
    endpoints_[e.number] = std::make_unique<EndpointObject>(*this, e, endpointPath(e.number));
}

void DbusService::endpointRemoved(const Endpoint& e) {
    auto it = endpoints_.find(e.number);
    if (it != endpoints_.end()) {
        bury(endpointPath(e.number), std::shared_ptr<EndpointObject>(std::move(it->second)));
        endpoints_.erase(it);
    }
    callers_.untrackLater(e.owner);
}

void DbusService::crashed(const Processor& p, uint32_t count, const std::string& coredump) {
    auto it = processors_.find(p.id);
    if (it != processors_.end()) {
        it->second->crashed(count, coredump);
    }
}

void DbusService::traceLines(const Processor& p, unsigned index,
                             const std::vector<std::string>& lines) {
    auto it = processors_.find(p.id);
    if (it != processors_.end()) {
        it->second->traceLines(index, lines);
    }
}

} // namespace rpmsgd
