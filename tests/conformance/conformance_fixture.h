// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// GoogleTest fixture of the rpmsg conformance suite: one fresh target per test (see target.h),
// ready once the firmware's announced channels exist; names found from the target, never
// assumed; helpers for files, the remote, the ctrl device and eptdevs. The target's log is
// printed when a test fails.

#include "eptdev_checks.h"
#include "rpmsg_uapi.h"
#include "sim_harness.h"
#include "target.h"

#include <chrono>
#include <cstdint>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace conformance {

using simtest::Background;
using simtest::blockingRead;
using simtest::blockingWrite;
using simtest::CallOutcome;
using simtest::expectDeadEptdev;
using simtest::Fd;
using simtest::Message;
using simtest::readMessage;
using simtest::SigusrNoRestart;
using simtest::waitFor;
using simtest::writeUntilFailure;
using namespace std::chrono_literals;

class ConformanceTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    RpmsgTarget& target() { return *target_; }

    // ---- the firmware (conformance-fw.json) ----
    /// @brief The remote address of the spec's service @p name; fails the test if absent.
    uint32_t serviceAddr(const std::string& name) const;
    uint32_t echoAddr() const { return serviceAddr("rpmsg-echo"); } ///< echo, announced
    uint32_t rawAddr() const { return serviceAddr("rpmsg-raw"); }   ///< echo, bound to rpmsg_char
    uint32_t sinkAddr() const { return serviceAddr("rpmsg-sink"); } ///< consumes, never answers

    // ---- names found at SetUp ----
    /// @brief "virtioK", the transport's virtio device.
    const std::string& virtio() const { return virtio_; }
    /// @brief "rpmsg_ctrlN", the one ctrl device.
    const std::string& ctrlName() const { return ctrl_; }
    /// @brief The bus device name of a remote channel: virtioK.NAME.-1.ADDR.
    std::string channel(const std::string& name, uint32_t addr) const;
    /// @brief The bus device names of the channels the firmware announces at boot.
    std::vector<std::string> announcedChannels() const;
    /// @brief "rpmsgN" that rpmsg_char made for the firmware's rpmsg-raw channel.
    std::string rawEptdev();
    static std::string busDev(const std::string& dev, const std::string& attr = "");
    static std::string classRpmsg(const std::string& dev, const std::string& attr = "");
    /// @brief A bus attribute's rendering of an address: "0x%x\n".
    static std::string hexLine(long v);

    // ---- files ----
    std::string path(const std::string& rel) const { return target_->path(rel); }
    /// @brief Reads a whole file; a read error fails the test and returns "<errno N>".
    std::string readAttr(const std::string& rel);
    /// @brief 0 when the whole write was accepted, else errno (kShortWrite for short writes).
    int writeAttr(const std::string& rel, std::string_view data);
    bool exists(const std::string& rel) const;
    bool isSymlink(const std::string& rel) const;
    bool isDir(const std::string& rel) const;
    /// @brief Permission bits (following symlinks); 0 when stat fails.
    mode_t mode(const std::string& rel) const;
    /// @brief realpath() of @p rel ("" when it does not resolve).
    std::string canonical(const std::string& rel) const;
    /// @brief Sorted names in directory @p rel.
    std::vector<std::string> list(const std::string& rel) const;

    // ---- the remote ----
    RemoteReply remote(const std::vector<std::string>& args);
    /// @brief A remote command that must succeed; returns its output.
    std::string remoteOk(const std::vector<std::string>& args);
    /// @brief The Linux address that last sent to the remote's service @p addr (`peer`),
    /// waiting up to 5 s for a message to reach it; -1 (test failed) otherwise.
    long peer(uint32_t addr);
    /// @brief Returns once every message the remote sent before the call has been handed to
    /// its endpoint (or dropped): the remote sends in order, so an echo through a separate
    /// eptdev comes after them. The first call creates and opens that eptdev (taking the lowest
    /// free address from 1024).
    void barrier();

    // ---- rpmsg ----
    Fd openCtrl(int flags = O_RDWR);
    /// @brief The `rpmsgN` entries of sys/class/rpmsg, sorted by N.
    std::vector<std::string> eptdevs() const;
    /// @brief N of "rpmsgN".
    static int indexOf(const std::string& dev);
    /// @brief The lowest N with no sys/class/rpmsg/rpmsgN and not in @p held (indices of
    /// destroyed eptdevs whose fds are still open).
    int lowestFreeIndex(const std::vector<int>& held = {}) const;
    /// @brief CREATE_EPT and return the new eptdev's name (rpmsgN); fails the test otherwise.
    std::string createEptDev(int ctrlFd, const std::string& name, uint32_t src, uint32_t dst);
    Fd openDev(const std::string& dev, int flags = O_RDWR);
    /// @brief The address @p fd's endpoint is bound to. The eptdev must send to the echo
    /// service: one message goes there and back (and is consumed), then `peer` names the sender.
    long boundAddress(int fd);
    /// @brief /dev entries starting with "rpmsg".
    std::vector<std::string> devNodes() const;

    /// @brief A thread for a call that blocks; if it is still blocked when the object goes,
    /// the test fails and the target releases it (releaseBlockedCalls).
    std::unique_ptr<Background> background(std::function<void()> fn);

private:
    nlohmann::json spec_;
    std::unique_ptr<RpmsgTarget> target_;
    std::string virtio_;
    std::string ctrl_;
    Fd barrierFd_;
    std::string barrierDev_;

    /// @brief Empty once the target shows every announced channel, one ctrl device and the
    /// rpmsg-raw nodes; otherwise what is missing.
    std::string notReady();
};

} // namespace conformance
