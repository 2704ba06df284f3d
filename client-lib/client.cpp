// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "rpmsgd/client.h"

#include "bus.h"
#include "endpoint_impl.h"
#include "org.rpmsgd.Broker1.Channel.proxy.h"
#include "org.rpmsgd.Broker1.Manager.proxy.h"
#include "org.rpmsgd.Broker1.Processor.proxy.h"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <poll.h>
#include <time.h>
#include <unistd.h>

namespace rpmsgd::client {

namespace {

using Props = std::map<std::string, sdbus::Variant>;
using ManagedObjects = std::map<sdbus::ObjectPath, std::map<std::string, Props>>;

class ManagerProxy : public sdbus::ProxyInterfaces<org::rpmsgd::Broker1::Manager_proxy> {
public:
    explicit ManagerProxy(sdbus::IConnection& conn)
        : ProxyInterfaces(conn, detail::BusName, detail::ManagerPath) {
        registerProxy();
    }
    ~ManagerProxy() { unregisterProxy(); }
};

class ProcessorProxy : public sdbus::ProxyInterfaces<org::rpmsgd::Broker1::Processor_proxy> {
public:
    ProcessorProxy(sdbus::IConnection& conn, const std::string& path)
        : ProxyInterfaces(conn, detail::BusName, path) {
        registerProxy();
    }
    ~ProcessorProxy() { unregisterProxy(); }

private:
    // Crashed and TraceLines reach the event handler through the Client's own signal match.
    void onCrashed(const uint32_t&, const std::string&) override {}
    void onTraceLines(const uint32_t&, const std::vector<std::string>&) override {}
};

class ChannelProxy : public sdbus::ProxyInterfaces<org::rpmsgd::Broker1::Channel_proxy> {
public:
    ChannelProxy(sdbus::IConnection& conn, const std::string& path)
        : ProxyInterfaces(conn, detail::BusName, path) {
        registerProxy();
    }
    ~ChannelProxy() { unregisterProxy(); }
};

template <typename T>
T value(const Props& props, const char* key) {
    auto it = props.find(key);
    if (it == props.end() || !it->second.containsValueOfType<T>()) {
        return T{};
    }
    return it->second.get<T>();
}

// A property value as text, for ProcessorChanged events.
std::string text(const sdbus::Variant& v) {
    if (v.containsValueOfType<std::string>()) {
        return v.get<std::string>();
    }
    if (v.containsValueOfType<uint32_t>()) {
        return std::to_string(v.get<uint32_t>());
    }
    if (v.containsValueOfType<uint64_t>()) {
        return std::to_string(v.get<uint64_t>());
    }
    if (v.containsValueOfType<bool>()) {
        return v.get<bool>() ? "true" : "false";
    }
    if (v.containsValueOfType<sdbus::ObjectPath>()) {
        return v.get<sdbus::ObjectPath>();
    }
    if (v.containsValueOfType<std::vector<sdbus::ObjectPath>>()) {
        std::string s;
        for (const auto& p : v.get<std::vector<sdbus::ObjectPath>>()) {
            s.append(s.empty() ? "" : " ").append(p);
        }
        return s;
    }
    return "(" + v.peekValueType() + ")";
}

ProcessorInfo processorFrom(const std::string& path, const Props& p) {
    ProcessorInfo info;
    info.id = value<std::string>(p, "Id");
    info.name = value<std::string>(p, "Name");
    info.state = value<std::string>(p, "State");
    info.firmware = value<std::string>(p, "Firmware");
    info.recovery = value<std::string>(p, "Recovery");
    info.coredump = value<std::string>(p, "Coredump");
    info.crashCount = value<uint32_t>(p, "CrashCount");
    info.lastError = value<std::string>(p, "LastError");
    info.lastCoredump = value<std::string>(p, "LastCoredump");
    info.path = path;
    return info;
}

ChannelInfo channelFrom(const std::string& path, const Props& p,
                        const std::map<std::string, std::string>& processorIds) {
    ChannelInfo info;
    info.name = value<std::string>(p, "Name");
    const std::string proc = value<sdbus::ObjectPath>(p, "Processor");
    auto it = processorIds.find(proc);
    info.processor = it != processorIds.end() ? it->second : proc;
    info.remoteAddress = value<uint32_t>(p, "RemoteAddress");
    info.device = value<std::string>(p, "Device");
    info.mtu = value<uint32_t>(p, "Mtu");
    info.endpoints = value<uint32_t>(p, "Endpoints");
    info.path = path;
    return info;
}

std::string baseName(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

int64_t monotonicUsec() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Runs @p fn, turning sdbus::Error into client::Error.
template <typename F>
auto guarded(F&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const sdbus::Error& e) {
        throw detail::translate(e);
    }
}

} // namespace

const char* eventTypeName(Event::Type type) noexcept {
    switch (type) {
    case Event::Type::ProcessorAdded:
        return "ProcessorAdded";
    case Event::Type::ProcessorRemoved:
        return "ProcessorRemoved";
    case Event::Type::ProcessorChanged:
        return "ProcessorChanged";
    case Event::Type::Crashed:
        return "Crashed";
    case Event::Type::ChannelAdded:
        return "ChannelAdded";
    case Event::Type::ChannelRemoved:
        return "ChannelRemoved";
    case Event::Type::EndpointOpened:
        return "EndpointOpened";
    case Event::Type::EndpointClosed:
        return "EndpointClosed";
    case Event::Type::DaemonStarted:
        return "DaemonStarted";
    case Event::Type::DaemonStopped:
        return "DaemonStopped";
    case Event::Type::TraceLines:
        return "TraceLines";
    }
    return "Unknown";
}

struct Client::Impl {
    std::shared_ptr<detail::Bus> bus;
    std::mutex mutex; // guards the members below
    std::unique_ptr<ManagerProxy> manager;
    std::map<std::string, std::unique_ptr<ProcessorProxy>> processorProxies;

    // Events: what each known object path is, to name objects in InterfacesRemoved.
    struct Known {
        enum class Kind { Processor, Channel, Endpoint } kind;
        std::string processor; // id
        std::string channel;   // name
    };
    std::function<void(const Event&)> handler;
    std::exception_ptr handlerError; // thrown by the handler, not yet rethrown
    std::map<std::string, Known> known;
    std::unique_ptr<sdbus::Slot> signalMatch;
    std::unique_ptr<sdbus::Slot> ownerMatch;
    bool threadRunning = false;

    // The event thread must be gone before the slots and proxies it dispatches to.
    ~Impl() {
        if (threadRunning && bus && bus->conn) {
            try {
                bus->conn->leaveEventLoop();
            } catch (const sdbus::Error&) { // nothing to report from a destructor
            }
        }
    }

    sdbus::IConnection& conn() { return *bus->conn; }

    ManagerProxy& managerProxy() {
        std::lock_guard lock(mutex);
        if (!manager) {
            manager = std::make_unique<ManagerProxy>(conn());
        }
        return *manager;
    }

    std::string processorPath(const std::string& key) {
        if (key.empty()) {
            throw Error(ErrorCode::InvalidArgument, "no processor given (an id such as "
                                                    "remoteproc0, or a kernel name)");
        }
        return managerProxy().GetProcessor(key);
    }

    ProcessorProxy& processorProxy(const std::string& key) {
        const std::string path = processorPath(key);
        std::lock_guard lock(mutex);
        auto& p = processorProxies[path];
        if (!p) {
            p = std::make_unique<ProcessorProxy>(conn(), path);
        }
        return *p;
    }

    ManagedObjects managedObjects() {
        auto proxy = sdbus::createProxy(conn(), detail::BusName, detail::ManagerPath);
        ManagedObjects objects;
        proxy->callMethod("GetManagedObjects")
            .onInterface("org.freedesktop.DBus.ObjectManager")
            .storeResultsTo(objects);
        return objects;
    }

    Props getAll(const std::string& path, const std::string& iface) {
        auto proxy = sdbus::createProxy(conn(), detail::BusName, path);
        Props props;
        proxy->callMethod("GetAll")
            .onInterface("org.freedesktop.DBus.Properties")
            .withArguments(iface)
            .storeResultsTo(props);
        return props;
    }

    static std::map<std::string, std::string> processorIds(const ManagedObjects& objects) {
        std::map<std::string, std::string> ids;
        for (const auto& [path, ifaces] : objects) {
            if (auto it = ifaces.find(detail::ProcessorIface); it != ifaces.end()) {
                ids[path] = value<std::string>(it->second, "Id");
            }
        }
        return ids;
    }

    Endpoint makeEndpoint(std::tuple<sdbus::UnixFd, sdbus::ObjectPath, uint32_t>&& opened) {
        auto impl = std::make_unique<Endpoint::Impl>();
        impl->fd = std::get<0>(opened).release();
        ::fcntl(impl->fd, F_SETFD, FD_CLOEXEC);
        impl->path = std::get<1>(opened);
        impl->mtu = std::get<2>(opened);
        impl->bus = bus;
        return Endpoint(std::move(impl));
    }

    // ---- events ----
    // sdbus-c++ 1.2 terminates the process when anything but sdbus::Error escapes a signal
    // callback, so the handler's exception is kept here and rethrown by process() (or by
    // stopEventThread() in threaded mode).
    void emit(const Event& e) {
        std::function<void(const Event&)> h;
        {
            std::lock_guard lock(mutex);
            if (handlerError) {
                return; // the caller has not seen the first failure yet
            }
            h = handler;
        }
        if (!h) {
            return;
        }
        try {
            h(e);
        } catch (...) {
            std::lock_guard lock(mutex);
            handlerError = std::current_exception();
        }
    }

    void rethrowHandlerError() {
        std::exception_ptr error;
        {
            std::lock_guard lock(mutex);
            std::swap(error, handlerError);
        }
        if (error) {
            std::rethrow_exception(error);
        }
    }

    std::string processorIdOf(const std::string& path) {
        std::lock_guard lock(mutex);
        auto it = known.find(path);
        return it != known.end() ? it->second.processor : std::string();
    }

    void learn(const std::string& path, const std::map<std::string, Props>& ifaces, bool announce) {
        Event e;
        e.path = path;
        if (auto it = ifaces.find(detail::ProcessorIface); it != ifaces.end()) {
            e.type = Event::Type::ProcessorAdded;
            e.processor = value<std::string>(it->second, "Id");
            e.value = value<std::string>(it->second, "State");
            std::lock_guard lock(mutex);
            known[path] = {Known::Kind::Processor, e.processor, {}};
        } else if (auto ch = ifaces.find(detail::ChannelIface); ch != ifaces.end()) {
            e.type = Event::Type::ChannelAdded;
            e.channel = value<std::string>(ch->second, "Name");
            e.processor = processorIdOf(value<sdbus::ObjectPath>(ch->second, "Processor"));
            std::lock_guard lock(mutex);
            known[path] = {Known::Kind::Channel, e.processor, e.channel};
        } else if (auto ep = ifaces.find(detail::EndpointIface); ep != ifaces.end()) {
            e.type = Event::Type::EndpointOpened;
            e.channel = value<std::string>(ep->second, "Name");
            e.processor = processorIdOf(value<sdbus::ObjectPath>(ep->second, "Processor"));
            std::lock_guard lock(mutex);
            known[path] = {Known::Kind::Endpoint, e.processor, e.channel};
        } else {
            return;
        }
        if (announce) {
            emit(e);
        }
    }

    void seed() {
        try {
            const ManagedObjects objects = managedObjects();
            // Processors first, so channels and endpoints can name theirs.
            for (const auto& [path, ifaces] : objects) {
                if (ifaces.count(detail::ProcessorIface)) {
                    learn(path, ifaces, false);
                }
            }
            for (const auto& [path, ifaces] : objects) {
                if (!ifaces.count(detail::ProcessorIface)) {
                    learn(path, ifaces, false);
                }
            }
        } catch (const sdbus::Error& e) {
            // rpmsgd not running yet: its objects arrive with InterfacesAdded once it does.
            if (errorCodeFromDBusName(e.getName()) != ErrorCode::ServiceUnknown) {
                throw detail::translate(e);
            }
        }
    }

    void onSignal(sdbus::Message& msg) {
        const std::string member = msg.getMemberName();
        const std::string path = msg.getPath();
        try {
            if (member == "InterfacesAdded") {
                sdbus::ObjectPath obj;
                std::map<std::string, Props> ifaces;
                msg >> obj >> ifaces;
                learn(obj, ifaces, true);
            } else if (member == "InterfacesRemoved") {
                sdbus::ObjectPath obj;
                std::vector<std::string> ifaces;
                msg >> obj >> ifaces;
                std::optional<Known> k;
                {
                    std::lock_guard lock(mutex);
                    if (auto it = known.find(obj); it != known.end()) {
                        k = it->second;
                        known.erase(it);
                    }
                }
                if (!k) {
                    return;
                }
                Event e;
                e.path = obj;
                e.processor = k->processor;
                e.channel = k->channel;
                e.type = k->kind == Known::Kind::Processor ? Event::Type::ProcessorRemoved
                         : k->kind == Known::Kind::Channel ? Event::Type::ChannelRemoved
                                                           : Event::Type::EndpointClosed;
                emit(e);
            } else if (member == "PropertiesChanged") {
                std::string iface;
                Props changed;
                std::vector<std::string> invalidated;
                msg >> iface >> changed >> invalidated;
                if (iface != detail::ProcessorIface) {
                    return;
                }
                for (const auto& [name, v] : changed) {
                    Event e;
                    e.type = Event::Type::ProcessorChanged;
                    e.path = path;
                    e.processor = processorIdOf(path);
                    e.property = name;
                    e.value = text(v);
                    emit(e);
                }
            } else if (member == "Crashed" || member == "TraceLines") {
                Event e;
                e.path = path;
                e.processor = processorIdOf(path);
                if (member == "Crashed") {
                    e.type = Event::Type::Crashed;
                    msg >> e.crashCount >> e.coredump;
                } else {
                    e.type = Event::Type::TraceLines;
                    msg >> e.traceIndex >> e.lines;
                }
                emit(e);
            } else if (member == "NameOwnerChanged") {
                std::string name, oldOwner, newOwner;
                msg >> name >> oldOwner >> newOwner;
                Event e;
                e.type = newOwner.empty() ? Event::Type::DaemonStopped : Event::Type::DaemonStarted;
                if (newOwner.empty()) {
                    std::lock_guard lock(mutex);
                    known.clear();
                    processorProxies.clear();
                }
                emit(e);
            }
        } catch (const sdbus::Error&) {
            // A signal we cannot decode is not ours to fail on; nothing to report.
        }
    }

    void subscribe() {
        if (signalMatch) {
            return;
        }
        signalMatch = std::make_unique<sdbus::Slot>(
            conn().addMatch(std::string("type='signal',sender='") + detail::BusName +
                                "',path_namespace='" + detail::ManagerPath + "'",
                            [this](sdbus::Message& msg) { onSignal(msg); }));
        ownerMatch = std::make_unique<sdbus::Slot>(conn().addMatch(
            std::string("type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                        "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='") +
                detail::BusName + "'",
            [this](sdbus::Message& msg) { onSignal(msg); }));
        seed();
    }
};

Client::Client(const ConnectOptions& options) : impl_(std::make_unique<Impl>()) {
    impl_->bus = std::make_shared<detail::Bus>();
    impl_->bus->callTimeout = options.callTimeout;
    try {
        impl_->bus->conn = options.address.empty()
                               ? sdbus::createSystemBusConnection()
                               : sdbus::createSessionBusConnectionWithAddress(options.address);
    } catch (const sdbus::Error& e) {
        const std::string where =
            options.address.empty() ? std::string("the system bus") : options.address;
        throw Error(ErrorCode::Disconnected, "cannot connect to " + where + ": " + e.getMessage(),
                    e.getName());
    }
    if (options.callTimeout.count() > 0) {
        impl_->bus->conn->setMethodCallTimeout(options.callTimeout);
    }
}

Client::~Client() = default;

Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

std::string Client::daemonVersion() {
    return guarded([&] { return impl_->managerProxy().Version(); });
}

std::string Client::apiVersion() {
    return guarded([&] {
        try {
            return impl_->managerProxy().ApiVersion();
        } catch (const sdbus::Error& e) {
            // A 1.0 daemon: the property does not exist (sd-bus says UnknownProperty).
            if (e.getName() == "org.freedesktop.DBus.Error.UnknownProperty" ||
                e.getName() == "org.freedesktop.DBus.Error.InvalidArgs") {
                return std::string("1.0");
            }
            throw;
        }
    });
}

std::vector<ProcessorInfo> Client::processors() {
    return guarded([&] {
        const ManagedObjects objects = impl_->managedObjects();
        std::vector<ProcessorInfo> out;
        std::map<std::string, size_t> byPath;
        for (const auto& [path, ifaces] : objects) {
            if (auto it = ifaces.find(detail::ProcessorIface); it != ifaces.end()) {
                byPath[path] = out.size();
                out.push_back(processorFrom(path, it->second));
            }
        }
        for (const auto& [path, ifaces] : objects) {
            if (auto it = ifaces.find(detail::ChannelIface); it != ifaces.end()) {
                const std::string proc = value<sdbus::ObjectPath>(it->second, "Processor");
                if (auto p = byPath.find(proc); p != byPath.end()) {
                    out[p->second].channels.push_back(value<std::string>(it->second, "Name"));
                }
            }
        }
        // Numeric order: remoteproc2 before remoteproc10.
        std::sort(out.begin(), out.end(), [](const ProcessorInfo& a, const ProcessorInfo& b) {
            return a.id.size() != b.id.size() ? a.id.size() < b.id.size() : a.id < b.id;
        });
        return out;
    });
}

ProcessorInfo Client::processor(const std::string& key) {
    return guarded([&] {
        const std::string path = impl_->processorPath(key);
        ProcessorInfo info = processorFrom(path, impl_->getAll(path, detail::ProcessorIface));
        for (const auto& c : channels(info.id)) {
            info.channels.push_back(c.name);
        }
        return info;
    });
}

void Client::start(const std::string& processor) {
    guarded([&] { impl_->processorProxy(processor).Start(); });
}

void Client::stop(const std::string& processor) {
    guarded([&] { impl_->processorProxy(processor).Stop(); });
}

void Client::restart(const std::string& processor) {
    guarded([&] { impl_->processorProxy(processor).Restart(); });
}

void Client::setFirmware(const std::string& processor, const std::string& name) {
    guarded([&] { impl_->processorProxy(processor).SetFirmware(name); });
}

std::string Client::loadFirmware(const std::string& processor, const std::string& path,
                                 const std::string& name) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw detail::systemError("cannot open firmware file " + path, errno);
    }
    sdbus::UnixFd file(fd, sdbus::adopt_fd);
    return guarded([&] {
        return impl_->processorProxy(processor).LoadFirmware(file,
                                                             name.empty() ? baseName(path) : name);
    });
}

void Client::setRecovery(const std::string& processor, bool enabled) {
    guarded([&] { impl_->processorProxy(processor).SetRecovery(enabled); });
}

void Client::setCoredump(const std::string& processor, const std::string& mode) {
    guarded([&] { impl_->processorProxy(processor).SetCoredump(mode); });
}

void Client::recover(const std::string& processor) {
    guarded([&] { impl_->processorProxy(processor).Recover(); });
}

std::string Client::trace(const std::string& processor, std::uint32_t index) {
    return guarded([&] { return impl_->processorProxy(processor).ReadTrace(index); });
}

ProcessorCounters Client::processorCounters(const std::string& processor) {
    return guarded([&] {
        auto& proxy = impl_->processorProxy(processor);
        ProcessorCounters c;
        c.startCount = proxy.StartCount();
        c.runningSince = proxy.RunningSince();
        return c;
    });
}

std::uint32_t Client::channelOpenCount(const std::string& name, const std::string& processor) {
    const ChannelInfo info = channel(name, processor);
    return guarded([&] { return ChannelProxy(impl_->conn(), info.path).OpenCount(); });
}

std::string Client::channelKind(const std::string& name, const std::string& processor) {
    const ChannelInfo info = channel(name, processor);
    return guarded([&] { return ChannelProxy(impl_->conn(), info.path).Kind(); });
}

std::vector<ChannelInfo> Client::channels(const std::string& processor) {
    return guarded([&] {
        std::string procPath;
        if (!processor.empty()) {
            procPath = impl_->processorPath(processor);
        }
        const ManagedObjects objects = impl_->managedObjects();
        const auto ids = Impl::processorIds(objects);
        std::vector<ChannelInfo> out;
        for (const auto& [path, ifaces] : objects) {
            auto it = ifaces.find(detail::ChannelIface);
            if (it == ifaces.end()) {
                continue;
            }
            if (!procPath.empty() &&
                value<sdbus::ObjectPath>(it->second, "Processor") != procPath) {
                continue;
            }
            out.push_back(channelFrom(path, it->second, ids));
        }
        std::sort(out.begin(), out.end(), [](const ChannelInfo& a, const ChannelInfo& b) {
            return std::tie(a.processor, a.remoteAddress) < std::tie(b.processor, b.remoteAddress);
        });
        return out;
    });
}

ChannelInfo Client::channel(const std::string& name, const std::string& processor) {
    std::vector<ChannelInfo> found;
    for (auto& c : channels(processor)) {
        if (c.name == name) {
            found.push_back(std::move(c));
        }
    }
    if (found.empty()) {
        throw Error(ErrorCode::NotFound,
                    "no channel '" + name + "'" +
                        (processor.empty() ? std::string() : " on " + processor) + " is published");
    }
    if (found.size() > 1) {
        std::string where;
        for (const auto& c : found) {
            where.append(where.empty() ? "" : ", ").append(c.processor);
        }
        throw Error(ErrorCode::InvalidArgument,
                    "channel '" + name + "' exists on " + where + "; name the processor");
    }
    return found.front();
}

namespace {
uint32_t toMs(std::chrono::milliseconds timeout) {
    return static_cast<uint32_t>(std::clamp<std::int64_t>(timeout.count(), 0, UINT32_MAX));
}
} // namespace

ChannelInfo Client::waitForChannel(const std::string& name, const std::string& processor,
                                   std::chrono::milliseconds timeout) {
    return guarded([&] {
        // WaitForChannel replies after up to timeout_ms: the call may take that long plus the
        // usual call timeout.
        auto proxy = sdbus::createProxy(impl_->conn(), detail::BusName, detail::ManagerPath);
        sdbus::ObjectPath path;
        proxy->callMethod("WaitForChannel")
            .onInterface(detail::ManagerIface)
            .withTimeout(std::chrono::duration_cast<std::chrono::microseconds>(
                timeout + impl_->bus->callTimeout))
            .withArguments(name, processor, toMs(timeout))
            .storeResultsTo(path);
        const Props props = impl_->getAll(path, detail::ChannelIface);
        const std::string procPath = value<sdbus::ObjectPath>(props, "Processor");
        std::map<std::string, std::string> ids;
        ids[procPath] = value<std::string>(impl_->getAll(procPath, detail::ProcessorIface), "Id");
        return channelFrom(path, props, ids);
    });
}

Endpoint Client::openChannel(const std::string& name, const std::string& processor,
                             std::chrono::milliseconds timeout) {
    const ChannelInfo info = waitForChannel(name, processor, timeout);
    return guarded([&] {
        ChannelProxy proxy(impl_->conn(), info.path);
        return impl_->makeEndpoint(proxy.Open({}));
    });
}

Endpoint Client::openEndpoint(const std::string& processor, const std::string& name,
                              std::uint32_t remoteAddress) {
    return guarded([&] {
        return impl_->makeEndpoint(
            impl_->processorProxy(processor).OpenEndpoint(name, remoteAddress, {}));
    });
}

void Client::onEvent(std::function<void(const Event&)> handler) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->handler = std::move(handler);
    }
    guarded([&] { impl_->subscribe(); });
}

PollFd Client::pollFd() const {
    const auto pd = impl_->conn().getEventLoopPollData();
    PollFd out;
    out.fd = pd.fd;
    out.events = pd.events;
    if (pd.timeout_usec != UINT64_MAX) {
        const int64_t left = static_cast<int64_t>(pd.timeout_usec) - monotonicUsec();
        out.timeoutMs = static_cast<int>(std::clamp<int64_t>((left + 999) / 1000, 0, INT32_MAX));
    }
    return out;
}

void Client::process() {
    guarded([&] {
        while (impl_->conn().processPendingRequest()) {
            impl_->rethrowHandlerError();
        }
    });
    impl_->rethrowHandlerError();
}

bool Client::processEvents(std::chrono::milliseconds timeout) {
    const PollFd p = pollFd();
    int waitMs = p.timeoutMs;
    if (timeout.count() >= 0) {
        const int t = static_cast<int>(std::min<std::int64_t>(timeout.count(), INT32_MAX));
        waitMs = waitMs < 0 ? t : std::min(waitMs, t);
    }
    pollfd fds{p.fd, p.events, 0};
    const int r = ::poll(&fds, 1, waitMs);
    if (r < 0 && errno != EINTR) {
        throw detail::systemError("waiting for the bus", errno);
    }
    process();
    return r > 0;
}

void Client::startEventThread() {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->threadRunning) {
        guarded([&] { impl_->conn().enterEventLoopAsync(); });
        impl_->threadRunning = true;
    }
}

void Client::stopEventThread() {
    bool running = false;
    {
        std::lock_guard lock(impl_->mutex);
        running = impl_->threadRunning;
        impl_->threadRunning = false;
    }
    if (running) {
        guarded([&] { impl_->conn().leaveEventLoop(); });
    }
    impl_->rethrowHandlerError();
}

} // namespace rpmsgd::client
