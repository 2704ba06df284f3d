// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The remote processor of a virtio-rpmsg transport without a remoteproc, under a test's control,
// on either target of the real-kernel lane (tests/uml/README.md) and of the rpmsg conformance
// suite (tests/conformance/README.md): the FUSE twin (`rpmsg-sim ctl`
// on a `"remoteproc": false` processor) or the real kernel in the UML guest, whose remote is
// `rpmsg-sim remote --vhost-user` reached over a line stream (the guest's /dev/ttyS0). Both speak
// the same vocabulary: stall, resume, announce NAME ADDR, destroy NAME ADDR, send SRC DST TEXT,
// peer ADDR, hangup, ping.

#include "sim_harness.h"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lane {

using namespace std::chrono_literals;

/// @brief The answer to one command.
struct RemoteReply {
    bool ok = false;
    std::string output; ///< on success
    std::string error;  ///< on failure: what went wrong
};

class Remote {
public:
    virtual ~Remote() = default;
    virtual RemoteReply command(const std::vector<std::string>& args) = 0;
};

/// @brief True when the tests run on the real kernel (RPMSG_TARGET=kernel, set by uml-lane).
bool onRealKernel();

/// @brief The guest's remote: RPMSG_REMOTE_CONTROL names the stream (a tty is put in raw mode;
/// a UNIX socket, as `rpmsg-sim remote --control PATH` makes, is connected to).
/// Requests are one JSON array of strings per line; answers one JSON object per line. Lines that
/// are not a JSON object (a guest console's noise) are skipped, a CR before the newline is
/// tolerated, and input left over from an earlier command (a late reply to one that timed out)
/// is discarded before the next request goes out.
class StreamRemote : public Remote, simtest::NonCopyable {
public:
    /// @brief Opens @p path; error() says why when it could not.
    explicit StreamRemote(const std::string& path, std::chrono::milliseconds timeout = 10s);
    ~StreamRemote() override;

    const std::string& error() const { return error_; }
    RemoteReply command(const std::vector<std::string>& args) override;
    /// @brief The last 200 lines sent ("> ...") and received ("< ...", "(ignored) ...").
    const std::deque<std::string>& transcript() const { return transcript_; }

private:
    void note(std::string line);
    bool readLine(std::string& line, std::chrono::steady_clock::time_point deadline,
                  std::string& error);

    int fd_ = -1;
    std::string path_, error_, pending_;
    std::chrono::milliseconds timeout_;
    std::deque<std::string> transcript_;
};

/// @brief The twin's remote: @p ctl runs `rpmsg-sim ctl MOUNT ARGS...` and returns "" on
/// success or the error; processor @p proc is inserted after the command word (hangup is
/// `remove-processor PROC`).
class TwinRemote : public Remote {
public:
    using Ctl = std::function<bool(const std::vector<std::string>& args, std::string& out)>;
    TwinRemote(std::string proc, Ctl ctl) : proc_(std::move(proc)), ctl_(std::move(ctl)) {}
    RemoteReply command(const std::vector<std::string>& args) override;

private:
    std::string proc_;
    Ctl ctl_;
};

} // namespace lane
