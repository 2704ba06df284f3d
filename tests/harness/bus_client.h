// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Clients of rpmsgd for the integration tests: a synchronous client (its own bus connection,
// the generated proxies), a signal recorder that also makes asynchronous calls, helpers for
// D-Bus errors and rpmsg file descriptors, and unprivileged clients in forked children.

#include "daemon_env.h"
#include "fd_io.h"
#include "nobody.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <tuple>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

namespace itest {

inline constexpr const char* ManagerIface = "org.rpmsgd.Broker1.Manager";
inline constexpr const char* ProcessorIface = "org.rpmsgd.Broker1.Processor";
inline constexpr const char* ChannelIface = "org.rpmsgd.Broker1.Channel";
inline constexpr const char* EndpointIface = "org.rpmsgd.Broker1.Endpoint";
inline constexpr const char* ObjectManagerIface = "org.freedesktop.DBus.ObjectManager";
inline constexpr const char* PropertiesIface = "org.freedesktop.DBus.Properties";

/// @brief Error names (docs/dbus-api.md "Errors").
namespace err {
inline const std::string NotFound = "org.rpmsgd.Broker1.Error.NotFound";
inline const std::string InvalidArgument = "org.rpmsgd.Broker1.Error.InvalidArgument";
inline const std::string InvalidState = "org.rpmsgd.Broker1.Error.InvalidState";
inline const std::string InvalidFirmware = "org.rpmsgd.Broker1.Error.InvalidFirmware";
inline const std::string LimitExceeded = "org.rpmsgd.Broker1.Error.LimitExceeded";
inline const std::string Timeout = "org.rpmsgd.Broker1.Error.Timeout";
inline const std::string Unavailable = "org.rpmsgd.Broker1.Error.Unavailable";
inline const std::string KernelError = "org.rpmsgd.Broker1.Error.KernelError";
inline const std::string AccessDenied = "org.freedesktop.DBus.Error.AccessDenied";
inline const std::string UnknownObject = "org.freedesktop.DBus.Error.UnknownObject";
inline const std::string UnknownMethod = "org.freedesktop.DBus.Error.UnknownMethod";
inline const std::string UnknownInterface = "org.freedesktop.DBus.Error.UnknownInterface";
inline const std::string Prefix = "org.rpmsgd.Broker1.Error.";
} // namespace err

/// @brief The outcome of a call: an empty name means success.
struct CallError {
    std::string name;
    std::string message;
    bool ok() const { return name.empty(); }
    std::string str() const { return ok() ? "success" : name + ": " + message; }
};

/// @brief Runs @p fn; returns the sdbus::Error it threw (any other exception becomes
/// "std::exception").
CallError errorOf(const std::function<void()>& fn);

/// @brief Options for Open/OpenEndpoint.
using Options = std::map<std::string, sdbus::Variant>;

/// @brief What Open/OpenEndpoint returned.
struct Opened {
    simtest::Fd fd;
    std::string endpoint;
    uint32_t mtu = 0;
};

struct ProcessorRow {
    std::string id, name, state, path;
};
struct ChannelRow {
    std::string name, processor;
    uint32_t address = 0;
    std::string path;
};

/// @brief path → interface → property → value.
using ManagedObjects =
    std::map<sdbus::ObjectPath, std::map<std::string, std::map<std::string, sdbus::Variant>>>;

/// @brief A synchronous client: its own connection (no event loop thread); every call blocks.
class Client : simtest::NonCopyable {
public:
    Client();
    ~Client();

    sdbus::IConnection& connection() { return *conn_; }
    std::string uniqueName() const { return conn_->getUniqueName(); }

    // Manager
    std::string version();
    std::vector<ProcessorRow> listProcessors();
    std::vector<ChannelRow> listChannels();
    std::string getProcessor(const std::string& key);
    std::string waitForChannel(const std::string& name, const std::string& processor,
                               uint32_t timeoutMs);
    void reload();
    ManagedObjects managedObjects();

    // Processor
    void start(const std::string& processor);
    void stop(const std::string& processor);
    void restart(const std::string& processor);
    void setFirmware(const std::string& processor, const std::string& name);
    std::string loadFirmware(const std::string& processor, int fd, const std::string& name);
    void setRecovery(const std::string& processor, bool enabled);
    void setCoredump(const std::string& processor, const std::string& mode);
    void recover(const std::string& processor);
    std::string readTrace(const std::string& processor, uint32_t index);
    Opened openEndpoint(const std::string& processor, const std::string& name, uint32_t remote,
                        const Options& options = {});

    // Channel and Endpoint
    Opened open(const std::string& channel, const Options& options = {});
    void close(const std::string& endpoint);

    /// @brief Reads one property.
    sdbus::Variant property(const std::string& path, const std::string& iface,
                            const std::string& name);
    template <typename T>
    T get(const std::string& path, const std::string& iface, const std::string& name) {
        return property(path, iface, name).get<T>();
    }
    /// @brief Every property of @p iface on @p path (Properties.GetAll).
    std::map<std::string, sdbus::Variant> getAll(const std::string& path, const std::string& iface);

    /// @brief Processor path of @p key (GetProcessor).
    std::string processorPath(const std::string& key = "remoteproc0") { return getProcessor(key); }
    /// @brief Path of channel @p name (WaitForChannel, up to @p timeoutMs).
    std::string channelPath(const std::string& name = "rpmsg-echo", uint32_t timeoutMs = 5000) {
        return waitForChannel(name, "", timeoutMs);
    }
    /// @brief Starts @p processor and waits for its rpmsg-echo channel; returns its path.
    std::string startAndWaitEcho(const std::string& processor = "remoteproc0");

    /// @brief A proxy on this connection.
    std::unique_ptr<sdbus::IProxy> proxy(const std::string& path);

private:
    std::unique_ptr<sdbus::IConnection> conn_;
};

/// @brief A received signal from rpmsgd, decoded.
struct Signal {
    std::string path, iface, member;
    // InterfacesAdded / InterfacesRemoved
    std::string object;
    std::vector<std::string> interfaces;
    std::map<std::string, std::map<std::string, sdbus::Variant>> added;
    // PropertiesChanged
    std::string propertiesIface;
    std::map<std::string, sdbus::Variant> changed;
    std::vector<std::string> invalidated;
    // Crashed
    uint32_t count = 0;
    std::string coredump;

    bool isAdded(const std::string& obj) const {
        return member == "InterfacesAdded" && object == obj;
    }
    bool isRemoved(const std::string& obj) const {
        return member == "InterfacesRemoved" && object == obj;
    }
    /// @brief PropertiesChanged on @p obj naming @p prop (changed or invalidated).
    bool changes(const std::string& obj, const std::string& prop) const;
};

/// @brief The result of an asynchronous call that returns an object path.
struct AsyncPath {
    CallError error;
    std::string path;
};

/// @brief A connection with its own event loop thread: records every signal rpmsgd sends and
/// makes asynchronous calls. Create it before the action whose signals a test wants.
class SignalRecorder : simtest::NonCopyable {
public:
    SignalRecorder();
    ~SignalRecorder();

    /// @brief Waits until some recorded signal satisfies @p pred; returns it.
    std::optional<Signal> waitFor(const std::function<bool(const Signal&)>& pred,
                                  std::chrono::milliseconds timeout = 5s);
    /// @brief Waits until a signal satisfying @p second was recorded after one satisfying
    /// @p first; returns that second signal.
    std::optional<Signal> waitForSequence(const std::function<bool(const Signal&)>& first,
                                          const std::function<bool(const Signal&)>& second,
                                          std::chrono::milliseconds timeout = 5s);
    /// @brief All signals so far.
    std::vector<Signal> signals();
    /// @brief Human-readable list of the signals so far (for failure messages).
    std::string describe();
    void clear();

    /// @brief WaitForChannel without blocking; the result arrives in the future.
    std::shared_future<AsyncPath>
    waitForChannelAsync(const std::string& name, const std::string& processor, uint32_t timeoutMs);
    /// @brief A synchronous Peer.Ping to rpmsgd on this connection: once it returns, rpmsgd has
    /// handled every earlier call of this connection.
    void sync();
    std::string uniqueName() const { return conn_->getUniqueName(); }

private:
    void onSignal(sdbus::Message& msg);

    std::unique_ptr<sdbus::IConnection> conn_;
    sdbus::Slot match_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Signal> signals_;
    std::vector<std::unique_ptr<sdbus::IProxy>> proxies_;
};

// ---- rpmsg file descriptors ------------------------------------------------------------------

/// @brief write() of one message; 0 or errno.
int sendMsg(int fd, const std::string& data);
/// @brief Waits up to @p timeout for one message; {0, data}, {errno, ""} or {ETIMEDOUT, ""}.
std::pair<int, std::string> recvMsg(int fd, std::chrono::milliseconds timeout = 5s);
/// @brief Sends @p text and reads one message back; the reply or "<errno NAME>".
std::string roundTrip(int fd, const std::string& text, std::chrono::milliseconds timeout = 5s);
/// @brief strerror-like symbolic name ("EPIPE").
std::string errnoName(int e);

// ---- unprivileged clients --------------------------------------------------------------------

using harness::Cred;
/// @brief nobody with nogroup: allowed by the fixture's channel rule, not a manager.
inline const Cred NobodyChannelUser{65534, 65534, {}};
/// @brief nobody in group users (100) only: a manager, no channel rule.
inline const Cred NobodyManager{65534, 100, {}};
/// @brief nobody in group daemon (1) only: nothing but reading.
inline const Cred NobodyStranger{65534, 1, {}};

/// @brief The child's side of a Child: lines to and from the parent.
class ChildIo {
public:
    ChildIo(int in, int out) : in_(in), out_(out) {}
    void send(const std::string& line);
    /// @brief Next line from the parent ("" on EOF).
    std::string recv();

private:
    int in_, out_;
};

/// @brief A forked process running as @p cred; its body talks to the test through lines.
class Child : simtest::NonCopyable {
public:
    /// @brief Forks; the child drops to @p cred (setgroups, setgid, setuid) and runs @p body,
    /// whose return value is its exit code. An exception in the body is reported as a line
    /// "exception: ..." and exit code 99.
    Child(const Cred& cred, const std::function<int(ChildIo&)>& body);
    ~Child();

    /// @brief Next line from the child; nullopt on EOF or timeout.
    std::optional<std::string> readLine(std::chrono::milliseconds timeout = 20s);
    /// @brief Everything until EOF (or the timeout).
    std::string readAll(std::chrono::milliseconds timeout = 30s);
    void writeLine(const std::string& line);
    /// @brief Waits for the exit; the wait status, or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout = 30s);
    void kill(int sig);
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int fromChild_ = -1, toChild_ = -1;
    harness::LineReader lines_;
    std::optional<int> status_;
};

/// @brief Runs @p body as @p cred with a fresh Client and returns what it returned (or
/// "error NAME: MESSAGE" when it threw an sdbus::Error, "exception: ..." for anything else,
/// "child failed: ..." when the child did not finish).
std::string runAs(const Cred& cred, const std::function<std::string(Client&)>& body);

} // namespace itest
