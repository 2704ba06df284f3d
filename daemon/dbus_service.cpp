// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "dbus_service.h"

#include "dbus/errors.h"
#include "log.h"
#include "org.rpmsgd.Broker1.Channel.adaptor.h"
#include "org.rpmsgd.Broker1.Endpoint.adaptor.h"
#include "org.rpmsgd.Broker1.Manager.adaptor.h"
#include "org.rpmsgd.Broker1.Processor.adaptor.h"
#include "project_version.h"
#include "validation.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-event.h>

namespace rpmsgd {

namespace {

constexpr const char* ProcessorIface = "org.rpmsgd.Broker1.Processor";
constexpr const char* ChannelIface = "org.rpmsgd.Broker1.Channel";

sdbus::Error toDbus(const Error& e) {
    return sdbus::Error(errorName(e.code()), e.what());
}

/// Runs a handler body; every exception becomes a D-Bus error.
template <typename Fn>
auto guarded(Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const sdbus::Error&) {
        throw;
    } catch (const Error& e) {
        throw toDbus(e);
    } catch (const std::exception& e) {
        log::error(std::string("Internal error in a D-Bus handler: ") + e.what());
        throw sdbus::Error(errorName(ErrorCode::Internal),
                           std::string("Internal error: ") + e.what());
    }
}

/// The same for asynchronous handlers: the error goes into the pending result.
template <typename Result, typename Fn>
void guardedAsync(Result& result, Fn&& fn) {
    try {
        fn();
    } catch (const sdbus::Error& e) {
        result.returnError(e);
    } catch (const Error& e) {
        result.returnError(toDbus(e));
    } catch (const std::exception& e) {
        log::error(std::string("Internal error in a D-Bus handler: ") + e.what());
        result.returnError(sdbus::Error(errorName(ErrorCode::Internal),
                                        std::string("Internal error: ") + e.what()));
    }
}

} // namespace

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

// --- object classes ---------------------------------------------------------------------------

class ManagerObject final
    : public sdbus::AdaptorInterfaces<org::rpmsgd::Broker1::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor> {
public:
    ManagerObject(DbusService& svc, sdbus::IConnection& conn)
        : AdaptorInterfaces(conn, RootPath), svc_(svc) {
        registerAdaptor();
    }
    ~ManagerObject() { unregisterAdaptor(); }

private:
    std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>>
    ListProcessors() override {
        return guarded([&] {
            std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>>
                out;
            for (const auto& [id, p] : svc_.registry().processors()) {
                out.emplace_back(p.id, p.name, p.state,
                                 sdbus::ObjectPath(svc_.processorPath(p.id)));
            }
            return out;
        });
    }
    std::vector<sdbus::Struct<std::string, std::string, uint32_t, sdbus::ObjectPath>>
    ListChannels() override {
        return guarded([&] {
            std::vector<sdbus::Struct<std::string, std::string, uint32_t, sdbus::ObjectPath>> out;
            for (const auto& [key, c] : svc_.registry().channels()) {
                out.emplace_back(c.name, c.processorId, c.remoteAddress,
                                 sdbus::ObjectPath(svc_.channelPath(c)));
            }
            return out;
        });
    }
    sdbus::ObjectPath GetProcessor(const std::string& key) override {
        return guarded([&] {
            const Processor* p = svc_.registry().findProcessor(key);
            if (!p) {
                throw Error(ErrorCode::NotFound,
                            "No processor has the id or kernel name '" + key + "'");
            }
            return sdbus::ObjectPath(svc_.processorPath(p->id));
        });
    }
    void WaitForChannel(sdbus::Result<sdbus::ObjectPath>&& result, std::string name,
                        std::string processor, uint32_t timeout_ms) override {
        guardedAsync(result, [&] {
            Caller c = svc_.caller(getObject());
            svc_.waitForChannel(std::move(result), c, name, processor, timeout_ms);
        });
    }
    void Reload(sdbus::Result<>&& result) override {
        guardedAsync(result, [&] {
            Caller c = svc_.caller(getObject());
            if (c.uid != 0) {
                throw Error(ErrorCode::AccessDenied, "Reload needs root");
            }
            std::string err = svc_.reload();
            if (!err.empty()) {
                throw Error(ErrorCode::InvalidArgument,
                            "The configuration was not reloaded (the old one stays): " + err);
            }
            result.returnResults();
        });
    }
    std::string Version() override { return RPMSGD_VERSION; }

    DbusService& svc_;
};

class ProcessorObject final
    : public sdbus::AdaptorInterfaces<org::rpmsgd::Broker1::Processor_adaptor,
                                      sdbus::Properties_adaptor, sdbus::ManagedObject_adaptor> {
public:
    ProcessorObject(DbusService& svc, const std::string& id, const std::string& path)
        : AdaptorInterfaces(svc.connection(), path), svc_(svc), id_(id) {
        registerAdaptor();
        emitInterfacesAddedSignal({ProcessorIface});
    }
    ~ProcessorObject() {
        emitInterfacesRemovedSignal({ProcessorIface});
        unregisterAdaptor();
    }
    void changed(const std::vector<std::string>& props) {
        emitPropertiesChangedSignal(ProcessorIface, props);
    }
    void crashed(uint32_t count, const std::string& core) { emitCrashed(count, core); }

private:
    const Processor& p() {
        const Processor* proc = svc_.registry().findProcessor(id_);
        if (!proc) {
            throw Error(ErrorCode::NotFound, "Processor " + id_ + " is gone");
        }
        return *proc;
    }
    /// Lifecycle calls answer when the kernel has: the registry calls back on the loop.
    template <typename Fn>
    void async(sdbus::Result<>& result, Fn&& fn) {
        auto shared = std::make_shared<sdbus::Result<>>(std::move(result));
        guardedAsync(*shared, [&] {
            fn(svc_.caller(getObject()), [shared](std::exception_ptr error) {
                if (!error) {
                    return shared->returnResults();
                }
                guardedAsync(*shared, [&] { std::rethrow_exception(error); });
            });
        });
    }
    void Start(sdbus::Result<>&& result) override {
        async(result, [&](const Caller& c, Registry::Done done) {
            svc_.registry().start(c, id_, std::move(done));
        });
    }
    void Stop(sdbus::Result<>&& result) override {
        async(result, [&](const Caller& c, Registry::Done done) {
            svc_.registry().stop(c, id_, std::move(done));
        });
    }
    void Restart(sdbus::Result<>&& result) override {
        async(result, [&](const Caller& c, Registry::Done done) {
            svc_.registry().restart(c, id_, std::move(done));
        });
    }
    void Recover(sdbus::Result<>&& result) override {
        async(result, [&](const Caller& c, Registry::Done done) {
            svc_.registry().recover(c, id_, std::move(done));
        });
    }
    void SetFirmware(const std::string& name) override {
        guarded([&] { svc_.registry().setFirmware(svc_.caller(getObject()), id_, name); });
    }
    void LoadFirmware(sdbus::Result<std::string>&& result, sdbus::UnixFd fd,
                      std::string name) override {
        guardedAsync(result, [&] {
            Caller c = svc_.caller(getObject());
            svc_.registry().checkLoadFirmware(c, id_);
            checkUploadName(name);
            svc_.readUpload(fd.release(), std::move(result), c, id_, name);
        });
    }
    void SetRecovery(const bool& enabled) override {
        guarded([&] { svc_.registry().setRecovery(svc_.caller(getObject()), id_, enabled); });
    }
    void SetCoredump(const std::string& mode) override {
        guarded([&] { svc_.registry().setCoredump(svc_.caller(getObject()), id_, mode); });
    }
    std::string ReadTrace(const uint32_t& index) override {
        return guarded(
            [&] { return svc_.registry().readTrace(svc_.caller(getObject()), id_, index); });
    }
    void OpenEndpoint(sdbus::Result<sdbus::UnixFd, sdbus::ObjectPath, uint32_t>&& result,
                      std::string name, uint32_t remote_address,
                      std::map<std::string, sdbus::Variant> options) override {
        guardedAsync(result, [&] {
            OpenOptions o = parseOpenOptions(options);
            Caller c = svc_.caller(getObject());
            svc_.track(c.sender);
            OpenResult r = svc_.registry().openRaw(c, id_, name, remote_address, o);
            result.returnResults(sdbus::UnixFd(r.fd, sdbus::adopt_fd),
                                 sdbus::ObjectPath(svc_.endpointPath(r.endpoint)), r.mtu);
        });
    }
    std::string Id() override { return id_; }
    std::string Name() override {
        return guarded([&] { return p().name; });
    }
    std::string State() override {
        return guarded([&] { return p().state; });
    }
    std::string Firmware() override {
        return guarded([&] { return p().firmware; });
    }
    std::string Recovery() override {
        return guarded([&] { return p().recovery; });
    }
    std::string Coredump() override {
        return guarded([&] { return p().coredump; });
    }
    std::vector<sdbus::ObjectPath> Channels() override {
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
    uint32_t CrashCount() override {
        return guarded([&] { return p().crashCount; });
    }
    std::string LastError() override {
        return guarded([&] { return p().lastError; });
    }
    std::string LastCoredump() override {
        return guarded([&] { return p().lastCoredump; });
    }

    DbusService& svc_;
    std::string id_;
};

class ChannelObject final
    : public sdbus::AdaptorInterfaces<org::rpmsgd::Broker1::Channel_adaptor,
                                      sdbus::Properties_adaptor, sdbus::ManagedObject_adaptor> {
public:
    ChannelObject(DbusService& svc, const Channel& c, const std::string& path)
        : AdaptorInterfaces(svc.connection(), path), svc_(svc), key_(c.key), name_(c.name),
          processor_(c.processorId), remote_(c.remoteAddress) {
        registerAdaptor();
        emitInterfacesAddedSignal({ChannelIface});
    }
    ~ChannelObject() {
        emitInterfacesRemovedSignal({ChannelIface});
        unregisterAdaptor();
    }
    void changed(const std::vector<std::string>& props) {
        emitPropertiesChangedSignal(ChannelIface, props);
    }

private:
    void Open(sdbus::Result<sdbus::UnixFd, sdbus::ObjectPath, uint32_t>&& result,
              std::map<std::string, sdbus::Variant> options) override {
        guardedAsync(result, [&] {
            OpenOptions o = parseOpenOptions(options);
            Caller c = svc_.caller(getObject());
            svc_.track(c.sender);
            OpenResult r = svc_.registry().open(c, key_, o);
            result.returnResults(sdbus::UnixFd(r.fd, sdbus::adopt_fd),
                                 sdbus::ObjectPath(svc_.endpointPath(r.endpoint)), r.mtu);
        });
    }
    std::string Name() override { return name_; }
    sdbus::ObjectPath Processor() override {
        return sdbus::ObjectPath(svc_.processorPath(processor_));
    }
    uint32_t RemoteAddress() override { return remote_; }
    std::string Device() override { return key_; }
    uint32_t Mtu() override { return 496; }
    uint32_t Endpoints() override {
        auto it = svc_.registry().channels().find(key_);
        return it == svc_.registry().channels().end() ? 0 : it->second.endpoints;
    }

    DbusService& svc_;
    std::string key_, name_, processor_;
    uint32_t remote_;
};

class EndpointObject final
    : public sdbus::AdaptorInterfaces<org::rpmsgd::Broker1::Endpoint_adaptor,
                                      sdbus::Properties_adaptor, sdbus::ManagedObject_adaptor> {
public:
    EndpointObject(DbusService& svc, const Endpoint& e, const std::string& path)
        : AdaptorInterfaces(svc.connection(), path), svc_(svc), e_(e) {
        registerAdaptor();
        emitInterfacesAddedSignal({"org.rpmsgd.Broker1.Endpoint"});
    }
    ~EndpointObject() {
        emitInterfacesRemovedSignal({"org.rpmsgd.Broker1.Endpoint"});
        unregisterAdaptor();
    }

private:
    void Close() override {
        guarded([&] { svc_.registry().close(svc_.caller(getObject()), e_.number); });
    }
    sdbus::ObjectPath Channel() override {
        auto it = svc_.registry().channels().find(e_.channelKey);
        if (e_.channelKey.empty() || it == svc_.registry().channels().end()) {
            return sdbus::ObjectPath("/");
        }
        return sdbus::ObjectPath(svc_.channelPath(it->second));
    }
    sdbus::ObjectPath Processor() override {
        return sdbus::ObjectPath(svc_.processorPath(e_.processorId));
    }
    std::string Name() override { return e_.name; }
    uint32_t RemoteAddress() override { return e_.remoteAddress; }
    std::string Device() override { return e_.device; }
    std::string Owner() override { return e_.owner; }
    uint32_t OwnerUid() override { return e_.ownerUid; }

    DbusService& svc_;
    Endpoint e_;
};

// --- the service ------------------------------------------------------------------------------

struct DbusService::Upload {
    int fd = -1;
    sd_event_source* source = nullptr;
    std::vector<uint8_t> data;
    sdbus::Result<std::string> result;
    Caller caller;
    std::string processorId, name;
    Timer timeout;
    ~Upload() {
        if (source) {
            sd_event_source_disable_unref(source);
        }
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

DbusService::DbusService(sdbus::IConnection& connection, sd_event* event, Scheduler& scheduler,
                         std::function<std::string()> reload, uint32_t waitsPerClient,
                         uint64_t firmwareMaxBytes)
    : connection_(connection), scheduler_(scheduler), reload_(std::move(reload)),
      waitsPerClient_(waitsPerClient), event_(event), firmwareMaxBytes_(firmwareMaxBytes) {
    busProxy_ = sdbus::createProxy(connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    manager_ = std::make_unique<ManagerObject>(*this, connection_);
}

DbusService::~DbusService() {
    clear();
}

void DbusService::attach(Registry& registry) {
    registry_ = &registry;
}

void DbusService::clear() {
    for (auto& [id, w] : waiters_) {
        w->result.returnError(
            sdbus::Error(errorName(ErrorCode::Unavailable), "rpmsgd is stopping"));
    }
    waiters_.clear();
    for (auto& [id, u] : uploads_) {
        u->result.returnError(
            sdbus::Error(errorName(ErrorCode::Unavailable), "rpmsgd is stopping"));
    }
    uploads_.clear();
    graveyard_.clear();
    endpoints_.clear();
    channels_.clear();
    processors_.clear();
    tracked_.clear();
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

namespace {
constexpr size_t MaxUntrackedCredentials = 128;
} // namespace

Caller DbusService::caller(sdbus::IObject& object) {
    const sdbus::Message* msg = object.getCurrentlyProcessedMessage();
    if (!msg) {
        throw Error(ErrorCode::Internal, "no message is being processed");
    }
    std::string sender = msg->getSender();
    // A connection's credentials are fixed when it connects, and a unique name is never reused
    // on a bus: ask the bus once per sender (each getCreds* is a synchronous round trip).
    auto it = credentials_.find(sender);
    if (it != credentials_.end()) {
        return it->second;
    }
    Caller c;
    c.sender = sender;
    c.uid = msg->getCredsUid();
    c.gids.push_back(msg->getCredsGid());
    for (gid_t g : msg->getCredsSupplementaryGids()) {
        c.gids.push_back(g);
    }
    if (credentials_.size() >= MaxUntrackedCredentials) {
        // Callers we track (they hold endpoints or waits) are dropped when they leave; the
        // others may have left unnoticed, so they go now (the soak saw a 4096-entry cache of
        // departed clients as RSS growth). An active one just asks the bus again.
        for (auto i = credentials_.begin(); i != credentials_.end();) {
            i = tracked_.count(i->first) ? std::next(i) : credentials_.erase(i);
        }
    }
    credentials_[sender] = c;
    return c;
}

void DbusService::track(const std::string& sender) {
    if (sender.empty() || tracked_.count(sender)) {
        return;
    }
    std::string rule = "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                       "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" +
                       sender + "'";
    tracked_[sender] = connection_.addMatch(rule, [this, sender](sdbus::Message& msg) {
        std::string name, oldOwner, newOwner;
        msg >> name >> oldOwner >> newOwner;
        if (name == sender && newOwner.empty()) {
            // Not from inside the match callback: it would destroy its own slot.
            scheduler_.post([this, sender] { senderGone(sender); });
        }
    });
    // The client may have left before the match existed.
    bool has = false;
    busProxy_->callMethod("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withArguments(sender)
        .storeResultsTo(has);
    if (!has) {
        scheduler_.post([this, sender] { senderGone(sender); });
    }
}

void DbusService::senderGone(const std::string& sender) {
    if (!tracked_.count(sender)) {
        return;
    }
    log::info("Client " + sender + " left the bus", {{"OWNER", sender}});
    tracked_.erase(sender);
    credentials_.erase(sender);
    registry_->clientGone(sender);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->second->sender == sender) {
            it = waiters_.erase(it); // nobody to answer
        } else {
            ++it;
        }
    }
}

void DbusService::untrackIfIdle(const std::string& sender) {
    if (!tracked_.count(sender) || registry_->owners().count(sender)) {
        return;
    }
    for (const auto& [id, w] : waiters_) {
        if (w->sender == sender) {
            return;
        }
    }
    tracked_.erase(sender);
}

void DbusService::waitForChannel(sdbus::Result<sdbus::ObjectPath>&& result, const Caller& caller,
                                 const std::string& name, const std::string& processor,
                                 uint32_t timeoutMs) {
    checkChannelName(name);
    if (!processor.empty() && !registry_->findProcessor(processor)) {
        throw Error(ErrorCode::NotFound,
                    "No processor has the id or kernel name '" + processor + "'");
    }
    if (const Channel* c = registry_->findChannel(name, processor)) {
        return result.returnResults(sdbus::ObjectPath(channelPath(*c)));
    }
    size_t mine = 0;
    for (const auto& [id, w] : waiters_) {
        mine += w->sender == caller.sender;
    }
    if (mine >= waitsPerClient_) {
        throw Error(ErrorCode::LimitExceeded, "Client " + caller.sender + " already waits for " +
                                                  std::to_string(mine) +
                                                  " channels (limits.waits_per_client)");
    }
    track(caller.sender);
    uint64_t id = nextWaiter_++;
    auto w = std::make_unique<Waiter>(
        Waiter{id, caller.sender, name, processor, std::move(result), Timer()});
    w->timer = scheduler_.after(timeoutMs, [this, id] {
        auto it = waiters_.find(id);
        if (it == waiters_.end()) {
            return;
        }
        auto waiter = std::move(it->second);
        waiters_.erase(it);
        waiter->result.returnError(
            sdbus::Error(errorName(ErrorCode::Timeout),
                         "No channel '" + waiter->name + "'" +
                             (waiter->processor.empty() ? "" : " on " + waiter->processor) +
                             " appeared within the timeout"));
        untrackIfIdle(waiter->sender);
    });
    waiters_[id] = std::move(w);
}

void DbusService::satisfyWaiters() {
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        const Channel* c = registry_->findChannel(it->second->name, it->second->processor);
        if (!c) {
            ++it;
            continue;
        }
        auto w = std::move(it->second);
        it = waiters_.erase(it);
        w->timer.cancel();
        w->result.returnResults(sdbus::ObjectPath(channelPath(*c)));
        std::string sender = w->sender;
        scheduler_.post([this, sender] { untrackIfIdle(sender); });
    }
}

void DbusService::readUpload(int fd, sdbus::Result<std::string>&& result, const Caller& caller,
                             const std::string& processorId, const std::string& name) {
    auto u = std::make_unique<Upload>();
    u->fd = fd;
    u->result = std::move(result);
    u->caller = caller;
    u->processorId = processorId;
    u->name = name;
    uint64_t id = nextUpload_++;
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int err = errno;
        uploads_[id] = std::move(u);
        return finishUpload(id, err);
    }
    if (S_ISREG(st.st_mode) && uint64_t(st.st_size) > firmwareMaxBytes_) {
        uploads_[id] = std::move(u);
        return finishUpload(id, EFBIG);
    }
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        // A file never blocks (and epoll refuses it): read it at once, within the limit.
        uploads_[id] = std::move(u);
        Upload& up = *uploads_[id];
        uint8_t buf[65536];
        off_t off = 0;
        for (;;) {
            ssize_t n = ::pread(fd, buf, sizeof buf, off);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return finishUpload(id, errno);
            }
            if (n == 0) {
                return finishUpload(id, 0);
            }
            if (up.data.size() + size_t(n) > firmwareMaxBytes_) {
                return finishUpload(id, EFBIG);
            }
            up.data.insert(up.data.end(), buf, buf + n);
            off += n;
        }
    }
    // A pipe or socket is read without ever blocking the loop: a writer that is slow or stuck
    // must not stall every other client.
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK)) {
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }
    auto onReadable = [](sd_event_source*, int rfd, uint32_t, void* userdata) -> int {
        auto* self = static_cast<std::pair<DbusService*, uint64_t>*>(userdata);
        DbusService* svc = self->first;
        uint64_t uid = self->second;
        auto it = svc->uploads_.find(uid);
        if (it == svc->uploads_.end()) {
            return 0;
        }
        Upload& up = *it->second;
        uint8_t buf[65536];
        for (int i = 0; i < 64; ++i) {
            ssize_t n = ::read(rfd, buf, sizeof buf);
            if (n > 0) {
                if (up.data.size() + size_t(n) > svc->firmwareMaxBytes_) {
                    svc->finishUpload(uid, EFBIG);
                    return 0;
                }
                up.data.insert(up.data.end(), buf, buf + n);
                continue;
            }
            if (n == 0) {
                svc->finishUpload(uid, 0);
                return 0;
            }
            if (errno == EAGAIN || errno == EINTR) {
                return 0;
            }
            svc->finishUpload(uid, errno);
            return 0;
        }
        return 0;
    };
    auto* key = new std::pair<DbusService*, uint64_t>(this, id);
    int r = sd_event_add_io(event_, &u->source, fd, EPOLLIN, onReadable, key);
    if (r < 0) {
        delete key;
        uploads_[id] = std::move(u);
        return finishUpload(id, -r);
    }
    sd_event_source_set_destroy_callback(u->source, [](void* userdata) {
        delete static_cast<std::pair<DbusService*, uint64_t>*>(userdata);
    });
    u->timeout = scheduler_.after(30000, [this, id] { finishUpload(id, ETIMEDOUT); });
    uploads_[id] = std::move(u);
}

void DbusService::finishUpload(uint64_t id, int error) {
    auto it = uploads_.find(id);
    if (it == uploads_.end()) {
        return;
    }
    std::unique_ptr<Upload> u = std::move(it->second);
    uploads_.erase(it);
    // Not inside the io callback's own source: destroy it from the loop.
    std::shared_ptr<Upload> shared(std::move(u));
    scheduler_.post([shared] {});
    guardedAsync(shared->result, [&] {
        if (error == EFBIG) {
            throw Error(ErrorCode::LimitExceeded, "Firmware " + shared->name + " is larger than " +
                                                      std::to_string(firmwareMaxBytes_) +
                                                      " bytes (limits.firmware_max_bytes)");
        }
        if (error == ETIMEDOUT) {
            throw Error(ErrorCode::Timeout, "Reading firmware " + shared->name +
                                                " from the passed fd took more than 30 s");
        }
        if (error) {
            throw Error(
                ErrorCode::InvalidArgument,
                kernelErrorMessage("read firmware " + shared->name + " from the passed fd", error));
        }
        std::string set = registry_->loadFirmware(shared->caller, shared->processorId, shared->name,
                                                  shared->data);
        shared->result.returnResults(set);
    });
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
    satisfyWaiters();
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
    std::string sender = e.owner;
    scheduler_.post([this, sender] { untrackIfIdle(sender); });
}

void DbusService::crashed(const Processor& p, uint32_t count, const std::string& coredump) {
    auto it = processors_.find(p.id);
    if (it != processors_.end()) {
        it->second->crashed(count, coredump);
    }
}

} // namespace rpmsgd
