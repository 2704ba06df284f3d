// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// What the rpmsg conformance suite runs against: the FUSE twin (rpmsg-sim, kernel profile 6.1,
// one virtio transport without a remoteproc) or the real kernel inside the real-kernel lane's
// User-Mode Linux guest, whose remote processor is `rpmsg-sim remote --vhost-user` on the host
// and is driven over a serial line. Tests see only paths, the remote-control vocabulary and a
// few named differences; see tests/conformance/README.md.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace conformance {

/// @brief The answer to one remote-control command.
struct RemoteReply {
    bool ok = false;
    std::string output; ///< the command's output when ok (`peer`: "1025\n")
    std::string error;  ///< one sentence when not ok
};

/// @brief Documented differences of the twin from the kernel (sim/README.md) that a test has to
/// allow for. The kernel has none of them.
enum class Quirk {
    /// FUSE never forwards read(fd, buf, 0): the call returns 0 and the message stays queued,
    /// where rpmsg_char drops it.
    ZeroLengthReadKeepsMessage,
    /// A blocking write that gives up waiting for a TX buffer fails with ETIMEDOUT: the kernel
    /// leaks -ERESTARTSYS (errno 512), which a FUSE reply cannot carry.
    TxTimeoutIsETIMEDOUT,
    /// When the transport goes away under a writer waiting for a TX buffer, the twin removes the
    /// devices at once; the kernel removes them only when that writer gives up (it holds the
    /// eptdev's lock, which the removal needs). The writer's result is the same.
    RemovalDoesNotWaitForABlockedWriter,
};

/// @brief The system under test.
class RpmsgTarget {
public:
    virtual ~RpmsgTarget() = default;

    /// @brief "twin" or "kernel".
    virtual std::string name() const = 0;
    /// @brief Absolute path of @p rel ("sys/bus/rpmsg/devices", "dev/rpmsg0").
    virtual std::string path(std::string_view rel) const = 0;
    /// @brief One remote-control command: stall, resume, announce NAME ADDR, destroy NAME ADDR,
    /// send SRC DST TEXT, peer ADDR, hangup, ping.
    virtual RemoteReply remote(const std::vector<std::string>& args) = 0;
    /// @brief The kernel version the target behaves as ("6.1").
    virtual std::string kernel() const = 0;
    /// @brief What to show when a test failed (the sim's log, the guest's kernel log).
    virtual std::string log() = 0;
    /// @brief True when the target has the documented difference @p quirk.
    virtual bool has(Quirk quirk) const = 0;
    /// @brief Returns once the target has processed the last close() of eptdev @p dev: the
    /// kernel releases inside close(), FUSE sends RELEASE after close() returned.
    virtual void awaitReleased(const std::string& dev) = 0;
    /// @brief Last resort when a test thread stays blocked in a call on the target: make every
    /// such call return (the twin is killed; the kernel's remote hangs up).
    virtual void releaseBlockedCalls() = 0;
    /// @brief Ends the target after a test; returns a failure sentence (a sanitizer report of
    /// the twin) or "".
    virtual std::string finish() = 0;
};

/// @brief The firmware behaviour spec both targets run: $RPMSG_CONFORMANCE_FW_SPEC, else the
/// source tree's tests/conformance/conformance-fw.json.
std::string firmwareSpecPath();

/// @brief Why the target that $RPMSG_TARGET names cannot run here (not root, no FUSE, no control
/// stream); empty when it can.
std::string targetSkipReason();

/// @brief Creates the target $RPMSG_TARGET names: `kernel`, or `twin` (the default). On failure
/// returns null and says why in @p error.
std::unique_ptr<RpmsgTarget> makeTarget(const std::string& specPath, std::string& error);

/// @brief The real-kernel target, its remote on control stream @p stream (a tty is put in raw
/// mode); each command waits up to @p replyTimeout for its reply. makeTarget uses 10 s.
std::unique_ptr<RpmsgTarget> makeKernelTarget(const std::string& stream,
                                              std::chrono::milliseconds replyTimeout,
                                              std::string& error);

} // namespace conformance
