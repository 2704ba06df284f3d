// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// librpmsgd-client: the C++ client of rpmsgd (org.rpmsgd.Broker1). Lists and manages remote
// processors, opens channels as Endpoints, and reports events either through the caller's own
// poll loop (pollFd() + process()) or on a thread of its own. No sdbus-c++ types here.
//
//     rpmsgd::client::Client client;                      // the system bus
//     auto ep = client.openChannel("rpmsg-echo", "", std::chrono::seconds(5));
//     ep.send("hello");
//     std::string reply = ep.receive(std::chrono::seconds(1));

#include "rpmsgd/endpoint.h"
#include "rpmsgd/error.h"
#include "rpmsgd/export.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rpmsgd::client {

/// @brief How to connect.
struct ConnectOptions {
    /// @brief A D-Bus address ("unix:path=/run/x"); empty means the system bus
    ///        ($DBUS_SYSTEM_BUS_ADDRESS or the default socket).
    std::string address;
    /// @brief How long a call may wait for rpmsgd's reply before failing with NoReply.
    std::chrono::milliseconds callTimeout = std::chrono::seconds(25);
};

/// @brief A remote processor (the Processor object's properties).
struct ProcessorInfo {
    std::string id;                    ///< sysfs name, e.g. "remoteproc0"
    std::string name;                  ///< kernel name, e.g. "imx-rproc"
    std::string state;                 ///< offline, running, crashed, attached, ...
    std::string firmware;              ///< current firmware name
    std::string recovery;              ///< "enabled" or "disabled"
    std::string coredump;              ///< "disabled", "enabled" or "inline"
    std::uint32_t crashCount = 0;      ///< crashes seen since rpmsgd started
    std::string lastError;             ///< last failure in words; empty if none
    std::string lastCoredump;          ///< path of the last saved core file; empty if none
    std::vector<std::string> channels; ///< names of its published channels
    std::string path;                  ///< D-Bus object path
};

/// @brief A published channel (the Channel object's properties).
struct ChannelInfo {
    std::string name;                ///< service name, e.g. "rpmsg-echo"
    std::string processor;           ///< its processor's id
    std::uint32_t remoteAddress = 0; ///< the remote's address (dst)
    std::string device;              ///< rpmsg bus device, e.g. "virtio0.rpmsg-echo.-1.1024"
    std::uint32_t mtu = 0;           ///< maximum payload of one message
    std::uint32_t endpoints = 0;     ///< endpoints currently open on it
    std::string path;                ///< D-Bus object path
};

/// @brief What rpmsgd counts of a processor (API 1.1; a separate call, so that ProcessorInfo keeps
///        its version 1.0 layout).
struct ProcessorCounters {
    std::uint32_t startCount = 0;   ///< boots seen since rpmsgd started
    std::uint64_t runningSince = 0; ///< CLOCK_REALTIME µs when it last came up; 0 when not up
};

/// @brief Something that happened in rpmsgd.
struct Event {
    /// @brief What happened.
    enum class Type {
        ProcessorAdded,   ///< processor appeared
        ProcessorRemoved, ///< processor went away
        ProcessorChanged, ///< a processor property changed (property, value)
        Crashed,          ///< a processor crashed (crashCount, coredump)
        ChannelAdded,     ///< a channel was announced (channel, processor)
        ChannelRemoved,   ///< a channel went away (channel, processor)
        EndpointOpened,   ///< an endpoint was opened (channel, processor, path)
        EndpointClosed,   ///< an endpoint ended (path)
        DaemonStarted,    ///< rpmsgd took its bus name
        DaemonStopped,    ///< rpmsgd left the bus
        TraceLines,       ///< a running processor wrote to a trace buffer (traceIndex, lines)
    };
    Type type = Type::ProcessorChanged; ///< what happened
    std::string processor;              ///< processor id, when it concerns one
    std::string channel;                ///< channel name, when it concerns one
    std::string property;               ///< ProcessorChanged: the property, e.g. "State"
    std::string value;                  ///< ProcessorChanged: its new value, as text
    std::uint32_t crashCount = 0;       ///< Crashed: the crash count after this crash
    std::string coredump;               ///< Crashed: saved core file, empty if none
    std::string path;                   ///< the object's D-Bus path
    // Added in library version 1.1, after the 1.0 members so that their offsets stay.
    std::uint32_t traceIndex = 0;   ///< TraceLines: the trace buffer (trace0 is 0)
    std::vector<std::string> lines; ///< TraceLines: the new lines; a gap is a line
                                    ///< "-- N bytes of trace lost --"
};

/// @brief The type's name, e.g. "ChannelAdded".
RPMSGD_CLIENT_API const char* eventTypeName(Event::Type type) noexcept;

/// @brief What to wait for before calling Client::process() (for poll(2)).
struct PollFd {
    int fd = -1;        ///< the bus connection's fd
    short events = 0;   ///< poll events to ask for
    int timeoutMs = -1; ///< call process() after at most this long; -1: no deadline
};

/// @brief A connection to rpmsgd. Methods throw Error. One Client may be used from several
///        threads; event handlers run on the thread that calls process() or on the event thread.
class RPMSGD_CLIENT_API Client {
public:
    /// @brief Connects (Disconnected when the bus cannot be reached). rpmsgd itself need not
    ///        run yet: calls fail with ServiceUnknown until it does.
    explicit Client(const ConnectOptions& options = {});
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// @brief rpmsgd's version.
    std::string daemonVersion();
    /// @brief The D-Bus API version rpmsgd implements (Manager.ApiVersion), e.g. "1.1"; "1.0"
    ///        for a daemon from before API 1.1, which has no such property.
    std::string apiVersion();

    // ---- processors ----
    /// @brief Every processor, with its properties.
    std::vector<ProcessorInfo> processors();
    /// @brief One processor by id ("remoteproc0") or kernel name; NotFound.
    ProcessorInfo processor(const std::string& key);
    /// @brief Boots it; returns once it runs (success if it already does).
    void start(const std::string& processor);
    /// @brief Shuts it down (success if it is already offline).
    void stop(const std::string& processor);
    /// @brief Stop, then start.
    void restart(const std::string& processor);
    /// @brief Selects firmware @p name from the firmware directory (processor offline).
    void setFirmware(const std::string& processor, const std::string& name);
    /// @brief Uploads the file at @p path, stores it as @p name (default: the file's base name)
    ///        and selects it; returns the name now set. IoError if the file cannot be opened.
    std::string loadFirmware(const std::string& processor, const std::string& path,
                             const std::string& name = {});
    /// @brief Kernel crash recovery on or off.
    void setRecovery(const std::string& processor, bool enabled);
    /// @brief Coredump mode: "disabled", "enabled" or "inline".
    void setCoredump(const std::string& processor, const std::string& mode);
    /// @brief Recovers a crashed processor.
    void recover(const std::string& processor);
    /// @brief Current content of trace buffer @p index.
    std::string trace(const std::string& processor, std::uint32_t index = 0);
    /// @brief StartCount and RunningSince of @p processor (API 1.1).
    ProcessorCounters processorCounters(const std::string& processor);

    // ---- channels ----
    /// @brief Every channel, or those of @p processor (id or kernel name).
    std::vector<ChannelInfo> channels(const std::string& processor = {});
    /// @brief One channel by name (and processor, when the name exists on several); NotFound,
    ///        or InvalidArgument when the name is ambiguous.
    ChannelInfo channel(const std::string& name, const std::string& processor = {});
    /// @brief Successful Opens of channel @p name since rpmsgd started (API 1.1 OpenCount);
    ///        the channel is found as channel() finds it.
    std::uint32_t channelOpenCount(const std::string& name, const std::string& processor = {});
    /// @brief What channel @p name is (API 1.1 Kind): "message" (an rpmsg endpoint: one read
    ///        is one message) or "tty" (the kernel made it a tty: openChannel() hands out the
    ///        tty itself, a byte stream, to one holder at a time; its fd reads end of file once
    ///        the lease ends). Found as channel() finds it.
    std::string channelKind(const std::string& name, const std::string& processor = {});
    /// @brief Waits up to @p timeout for channel @p name (on @p processor; empty = any).
    ///        Timeout when it does not appear.
    ChannelInfo waitForChannel(const std::string& name, const std::string& processor,
                               std::chrono::milliseconds timeout);
    /// @brief Waits up to @p timeout for channel @p name, then opens an endpoint of one's own.
    Endpoint openChannel(const std::string& name, const std::string& processor = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// @brief A raw endpoint @p name to @p remoteAddress on @p processor (for services that do
    ///        not announce themselves).
    Endpoint openEndpoint(const std::string& processor, const std::string& name,
                          std::uint32_t remoteAddress);

    // ---- events ----
    /// @brief Subscribes @p handler to every event (replaces an earlier one). Events arrive only
    ///        while process() is called or the event thread runs. An exception thrown by the
    ///        handler stops further events and is rethrown by process() or stopEventThread().
    void onEvent(std::function<void(const Event&)> handler);
    /// @brief What to poll: wait for @c events on @c fd, or at most @c timeoutMs, then process().
    PollFd pollFd() const;
    /// @brief Handles everything the bus has ready (calls the handler); never blocks.
    void process();
    /// @brief Blocking mode: waits up to @p timeout (negative: forever) for bus traffic and
    ///        handles it. Returns false when the timeout passed with nothing to do.
    bool processEvents(std::chrono::milliseconds timeout);
    /// @brief Threaded mode: a thread of the library handles the bus and calls the handler.
    void startEventThread();
    /// @brief Stops the event thread (never from inside the handler).
    void stopEventThread();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace rpmsgd::client
