// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "bus_client.h"

#include "org.rpmsgd.Broker1.Channel.proxy.h"
#include "org.rpmsgd.Broker1.Endpoint.proxy.h"
#include "org.rpmsgd.Broker1.Manager.proxy.h"
#include "org.rpmsgd.Broker1.Processor.proxy.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace itest {

using Clock = std::chrono::steady_clock;

namespace {

// The generated proxies on a connection of ours (no event loop thread of their own).
template <typename Interface>
class Proxy : public sdbus::ProxyInterfaces<Interface> {
public:
    Proxy(sdbus::IConnection& c, const std::string& path)
        : sdbus::ProxyInterfaces<Interface>(c, BusName, path) {
        this->registerProxy();
    }
    ~Proxy() { this->unregisterProxy(); }
};

class ProcessorProxy final : public Proxy<org::rpmsgd::Broker1::Processor_proxy> {
public:
    using Proxy::Proxy;

private:
    void onCrashed(const uint32_t&, const std::string&) override {} // SignalRecorder's job
    void onTraceLines(const uint32_t&, const std::vector<std::string>&) override {}
};

using ChannelProxy = Proxy<org::rpmsgd::Broker1::Channel_proxy>;
using EndpointProxy = Proxy<org::rpmsgd::Broker1::Endpoint_proxy>;

struct ManagerProxy final : Proxy<org::rpmsgd::Broker1::Manager_proxy> {
    explicit ManagerProxy(sdbus::IConnection& c) : Proxy(c, RootPath) {}
};

Opened toOpened(std::tuple<sdbus::UnixFd, sdbus::ObjectPath, uint32_t>&& t) {
    Opened o;
    o.fd = simtest::Fd(std::get<0>(t).release());
    // sdbus::UnixFd copies with dup(), which drops close-on-exec: without it every process
    // the test starts later (a restarted rpmsgd) would hold the endpoint open too.
    ::fcntl(o.fd.get(), F_SETFD, FD_CLOEXEC);
    o.endpoint = std::get<1>(t);
    o.mtu = std::get<2>(t);
    return o;
}

std::string variantText(const sdbus::Variant& v) {
    const std::string type = v.peekValueType();
    try {
        if (type == "s" || type == "o") {
            return "'" +
                   (type == "s" ? v.get<std::string>() : std::string(v.get<sdbus::ObjectPath>())) +
                   "'";
        }
        if (type == "u") {
            return std::to_string(v.get<uint32_t>());
        }
        if (type == "b") {
            return v.get<bool>() ? "true" : "false";
        }
    } catch (const sdbus::Error&) {
    }
    return "<" + type + ">";
}

} // namespace

CallError errorOf(const std::function<void()>& fn) {
    try {
        fn();
        return {};
    } catch (const sdbus::Error& e) {
        return {e.getName(), e.getMessage()};
    } catch (const std::exception& e) {
        return {"std::exception", e.what()};
    }
}

// ---- Client ----------------------------------------------------------------------------------

Client::Client() : conn_(sdbus::createSystemBusConnection()) {}

Client::~Client() = default;

std::unique_ptr<sdbus::IProxy> Client::proxy(const std::string& path) {
    return sdbus::createProxy(*conn_, BusName, path);
}

std::string Client::version() {
    return ManagerProxy(*conn_).Version();
}

std::vector<ProcessorRow> Client::listProcessors() {
    std::vector<ProcessorRow> out;
    for (const auto& s : ManagerProxy(*conn_).ListProcessors()) {
        out.push_back({s.get<0>(), s.get<1>(), s.get<2>(), s.get<3>()});
    }
    return out;
}

std::vector<ChannelRow> Client::listChannels() {
    std::vector<ChannelRow> out;
    for (const auto& s : ManagerProxy(*conn_).ListChannels()) {
        out.push_back({s.get<0>(), s.get<1>(), s.get<2>(), s.get<3>()});
    }
    return out;
}

std::string Client::getProcessor(const std::string& key) {
    return ManagerProxy(*conn_).GetProcessor(key);
}

std::string Client::waitForChannel(const std::string& name, const std::string& processor,
                                   uint32_t timeoutMs) {
    sdbus::ObjectPath path;
    proxy(RootPath)
        ->callMethod("WaitForChannel")
        .onInterface(ManagerIface)
        .withArguments(name, processor, timeoutMs)
        .withTimeout(std::chrono::milliseconds(timeoutMs) + 20s)
        .storeResultsTo(path);
    return path;
}

void Client::reload() {
    ManagerProxy(*conn_).Reload();
}

ManagedObjects Client::managedObjects() {
    ManagedObjects out;
    proxy(RootPath)
        ->callMethod("GetManagedObjects")
        .onInterface(ObjectManagerIface)
        .storeResultsTo(out);
    return out;
}

void Client::start(const std::string& p) {
    ProcessorProxy(*conn_, p).Start();
}
void Client::stop(const std::string& p) {
    ProcessorProxy(*conn_, p).Stop();
}
void Client::restart(const std::string& p) {
    ProcessorProxy(*conn_, p).Restart();
}
void Client::setFirmware(const std::string& p, const std::string& name) {
    ProcessorProxy(*conn_, p).SetFirmware(name);
}
std::string Client::loadFirmware(const std::string& p, int fd, const std::string& name) {
    return ProcessorProxy(*conn_, p).LoadFirmware(sdbus::UnixFd(fd), name);
}
void Client::setRecovery(const std::string& p, bool enabled) {
    ProcessorProxy(*conn_, p).SetRecovery(enabled);
}
void Client::setCoredump(const std::string& p, const std::string& mode) {
    ProcessorProxy(*conn_, p).SetCoredump(mode);
}
void Client::recover(const std::string& p) {
    ProcessorProxy(*conn_, p).Recover();
}
std::string Client::readTrace(const std::string& p, uint32_t index) {
    return ProcessorProxy(*conn_, p).ReadTrace(index);
}
Opened Client::openEndpoint(const std::string& p, const std::string& name, uint32_t remote,
                            const Options& options) {
    return toOpened(ProcessorProxy(*conn_, p).OpenEndpoint(name, remote, options));
}

Opened Client::open(const std::string& channel, const Options& options) {
    return toOpened(ChannelProxy(*conn_, channel).Open(options));
}

void Client::close(const std::string& endpoint) {
    EndpointProxy(*conn_, endpoint).Close();
}

sdbus::Variant Client::property(const std::string& path, const std::string& iface,
                                const std::string& name) {
    return proxy(path)->getProperty(name).onInterface(iface);
}

std::map<std::string, sdbus::Variant> Client::getAll(const std::string& path,
                                                     const std::string& iface) {
    std::map<std::string, sdbus::Variant> out;
    proxy(path)
        ->callMethod("GetAll")
        .onInterface(PropertiesIface)
        .withArguments(iface)
        .storeResultsTo(out);
    return out;
}

std::string Client::startAndWaitEcho(const std::string& processor) {
    start(getProcessor(processor));
    return waitForChannel("rpmsg-echo", processor, 5000);
}

// ---- signals ---------------------------------------------------------------------------------

bool Signal::changes(const std::string& obj, const std::string& prop) const {
    if (member != "PropertiesChanged" || path != obj) {
        return false;
    }
    if (changed.count(prop)) {
        return true;
    }
    return std::find(invalidated.begin(), invalidated.end(), prop) != invalidated.end();
}

SignalRecorder::SignalRecorder() : conn_(sdbus::createSystemBusConnection()) {
    match_ = conn_->addMatch("type='signal',sender='" + std::string(BusName) + "'",
                             [this](sdbus::Message& msg) { onSignal(msg); });
    conn_->enterEventLoopAsync();
}

SignalRecorder::~SignalRecorder() {
    // Stop (and join) the loop thread first: destroying a proxy while that thread dispatches
    // would wait for the bus lock it holds, and it may be waiting for mutex_ in onSignal().
    conn_->leaveEventLoop();
    std::vector<std::unique_ptr<sdbus::IProxy>> proxies;
    {
        std::lock_guard lock(mutex_);
        proxies.swap(proxies_);
    }
}

void SignalRecorder::onSignal(sdbus::Message& msg) {
    Signal s;
    s.path = msg.getPath();
    s.iface = msg.getInterfaceName();
    s.member = msg.getMemberName();
    try {
        if (s.member == "InterfacesAdded") {
            sdbus::ObjectPath obj;
            msg >> obj >> s.added;
            s.object = obj;
            for (const auto& [iface, props] : s.added) {
                s.interfaces.push_back(iface);
            }
        } else if (s.member == "InterfacesRemoved") {
            sdbus::ObjectPath obj;
            msg >> obj >> s.interfaces;
            s.object = obj;
        } else if (s.member == "PropertiesChanged") {
            msg >> s.propertiesIface >> s.changed >> s.invalidated;
        } else if (s.member == "Crashed") {
            msg >> s.count >> s.coredump;
        }
    } catch (const sdbus::Error&) {
        s.member += " (undecodable)";
    }
    {
        std::lock_guard lock(mutex_);
        signals_.push_back(std::move(s));
    }
    cv_.notify_all();
}

std::optional<Signal> SignalRecorder::waitFor(const std::function<bool(const Signal&)>& pred,
                                              std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<Signal> found;
    cv_.wait_for(lock, timeout, [&] {
        for (const auto& s : signals_) {
            if (pred(s)) {
                found = s;
                return true;
            }
        }
        return false;
    });
    return found;
}

std::optional<Signal>
SignalRecorder::waitForSequence(const std::function<bool(const Signal&)>& first,
                                const std::function<bool(const Signal&)>& second,
                                std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<Signal> found;
    cv_.wait_for(lock, timeout, [&] {
        bool seenFirst = false;
        for (const auto& s : signals_) {
            if (seenFirst && second(s)) {
                found = s;
                return true;
            }
            seenFirst = seenFirst || first(s);
        }
        return false;
    });
    return found;
}

std::vector<Signal> SignalRecorder::signals() {
    std::lock_guard lock(mutex_);
    return signals_;
}

std::string SignalRecorder::describe() {
    std::ostringstream out;
    out << "signals received:\n";
    for (const auto& s : signals()) {
        out << "  " << s.path << " " << s.iface << "." << s.member;
        if (!s.object.empty()) {
            out << " " << s.object << " [";
            for (const auto& i : s.interfaces) {
                out << i << " ";
            }
            out << "]";
        }
        if (s.member == "PropertiesChanged") {
            out << " " << s.propertiesIface << " {";
            for (const auto& [k, v] : s.changed) {
                out << k << "=" << variantText(v) << " ";
            }
            out << "} invalidated [";
            for (const auto& i : s.invalidated) {
                out << i << " ";
            }
            out << "]";
        }
        if (s.member == "Crashed") {
            out << " count=" << s.count << " coredump='" << s.coredump << "'";
        }
        out << "\n";
    }
    return out.str();
}

void SignalRecorder::clear() {
    std::lock_guard lock(mutex_);
    signals_.clear();
}

std::shared_future<AsyncPath> SignalRecorder::waitForChannelAsync(const std::string& name,
                                                                  const std::string& processor,
                                                                  uint32_t timeoutMs) {
    auto promise = std::make_shared<std::promise<AsyncPath>>();
    std::shared_future<AsyncPath> future = promise->get_future().share();
    auto proxy = sdbus::createProxy(*conn_, BusName, RootPath);
    proxy->callMethodAsync("WaitForChannel")
        .onInterface(ManagerIface)
        .withArguments(name, processor, timeoutMs)
        .withTimeout(std::chrono::milliseconds(timeoutMs) + 20s)
        .uponReplyInvoke([promise](const sdbus::Error* e, sdbus::ObjectPath path) {
            AsyncPath r;
            if (e != nullptr) {
                r.error = {e->getName(), e->getMessage()};
            } else {
                r.path = path;
            }
            promise->set_value(r);
        });
    std::lock_guard lock(mutex_);
    proxies_.push_back(std::move(proxy));
    return future;
}

void SignalRecorder::sync() {
    auto proxy = sdbus::createProxy(*conn_, BusName, RootPath);
    proxy->callMethod("Ping").onInterface("org.freedesktop.DBus.Peer");
}

// ---- rpmsg fds -------------------------------------------------------------------------------

std::string errnoName(int e) {
    if (e == 0) {
        return "0";
    }
    const char* name = ::strerrorname_np(e);
    return name != nullptr ? name : "errno " + std::to_string(e) + " (" + std::strerror(e) + ")";
}

int sendMsg(int fd, const std::string& data) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
        return errno;
    }
    return static_cast<size_t>(n) == data.size() ? 0 : EIO;
}

std::pair<int, std::string> recvMsg(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r < 0) {
        return {errno, ""};
    }
    if (r == 0) {
        return {ETIMEDOUT, ""};
    }
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
        return {errno, ""};
    }
    return {0, std::string(buf, static_cast<size_t>(n))};
}

std::string roundTrip(int fd, const std::string& text, std::chrono::milliseconds timeout) {
    if (int e = sendMsg(fd, text); e != 0) {
        return "<write: " + errnoName(e) + ">";
    }
    auto [e, data] = recvMsg(fd, timeout);
    if (e != 0) {
        return "<read: " + errnoName(e) + ">";
    }
    return data;
}

// ---- children --------------------------------------------------------------------------------

void ChildIo::send(const std::string& line) {
    const std::string l = line + "\n";
    (void)!::write(out_, l.data(), l.size());
}

std::string ChildIo::recv() {
    std::string line;
    char c;
    while (::read(in_, &c, 1) == 1) {
        if (c == '\n') {
            return line;
        }
        line += c;
    }
    return line;
}

Child::Child(const Cred& cred, const std::function<int(ChildIo&)>& body) {
    int up[2];
    int down[2];
    if (::pipe2(up, O_CLOEXEC) != 0 || ::pipe2(down, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::close(up[0]);
        ::close(down[1]);
        ChildIo io(down[0], up[1]);
        int rc = 98;
        if (!harness::switchTo(cred)) {
            io.send(std::string("child failed: cannot switch to ") + cred.describe() + ": " +
                    std::strerror(errno));
            ::_exit(rc);
        }
        try {
            rc = body(io);
        } catch (const sdbus::Error& e) {
            io.send("error " + e.getName() + ": " + e.getMessage());
            rc = 99;
        } catch (const std::exception& e) {
            io.send(std::string("exception: ") + e.what());
            rc = 99;
        }
        ::_exit(rc);
    }
    ::close(up[1]);
    ::close(down[0]);
    fromChild_ = up[0];
    lines_.setFd(fromChild_);
    toChild_ = down[1];
}

Child::~Child() {
    if (!status_) {
        kill(SIGKILL);
        wait(10s);
    }
    ::close(fromChild_);
    ::close(toChild_);
}

std::optional<std::string> Child::readLine(std::chrono::milliseconds timeout) {
    return lines_.readLine(timeout, true);
}

std::string Child::readAll(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string out;
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            break;
        }
        auto line = readLine(left);
        if (!line) {
            break;
        }
        out += *line + "\n";
    }
    return out;
}

void Child::writeLine(const std::string& line) {
    const std::string l = line + "\n";
    (void)!::write(toChild_, l.data(), l.size());
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
    if (status_) {
        return status_;
    }
    const auto deadline = Clock::now() + timeout;
    while (true) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            status_ = status;
            return status_;
        }
        if ((r < 0 && errno != EINTR) || Clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(2ms);
    }
}

void Child::kill(int sig) {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, sig);
    }
}

std::string runAs(const Cred& cred, const std::function<std::string(Client&)>& body) {
    Child child(cred, [&](ChildIo& io) {
        Client client;
        io.send(body(client));
        return 0;
    });
    std::string out = child.readAll(30s);
    auto status = child.wait(5s);
    if (!status) {
        return "child failed: did not exit; output: " + out;
    }
    if (!out.empty() && out.back() == '\n') {
        out.pop_back();
    }
    if (!WIFEXITED(*status) || (WEXITSTATUS(*status) != 0 && WEXITSTATUS(*status) != 99)) {
        return "child failed: wait status " + std::to_string(*status) + "; output: " + out;
    }
    return out;
}

} // namespace itest
