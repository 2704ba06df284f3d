// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// GoogleTest fixture for the rpmsg-sim conformance suite: one temporary directory and one sim
// per test, helpers to read and write attributes by errno, run `ctl`, wait for conditions, and
// drive /dev/rpmsg* nodes. The sim's log is printed when a test fails.

#include "nobody.h"
#include "rpmsg_uapi.h"
#include "sim_harness.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <functional>
#include <initializer_list>
#include <memory>
#include <pthread.h>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace simtest {

class SimTest : public ::testing::Test {
protected:
    /// @brief Skips without root or FUSE, makes the sim's directory, then runs up().
    void SetUp() override;
    /// @brief Closes ctrl_, stops the sim, fails on a sanitizer report in its log.
    void TearDown() override;
    /// @brief What a fixture brings up (start the sim, boot, open ctrl_); runs only when the
    /// test is not skipped. ASSERTs in it stop the test.
    virtual void up() {}

    Sim& sim() { return *sim_; }

    // ---- setup ----
    /// @brief Builds ROOT/firmware/NAME with the mkfw CLI; fails the test on error.
    void makeFirmware(const std::string& name, const nlohmann::json& spec,
                      const std::string& defect = "");
    /// @brief Starts the sim; fails the test (fatal) when it does not get ready.
    void startSim(const SimOptions& options);
    /// @brief echo.elf from @p spec, defaultConfig() (optionally edited by @p edit), start.
    void startEchoSim(const nlohmann::json& spec = echoSpec(),
                      const std::function<void(nlohmann::json&)>& edit = nullptr,
                      const std::string& kernel = "");
    /// @brief `start` on remoteproc @p n and wait for its rpmsg-echo channel (virtio @p virtio).
    void bootProcessor(int n = 0, int virtio = 0);

    // ---- paths ----
    std::string path(const std::string& rel) const { return sim_->path(rel); }
    static std::string rproc(int n, const std::string& attr = "");
    static std::string debugfs(int n, const std::string& file = "");
    static std::string busDev(const std::string& dev, const std::string& attr = "");
    static std::string classRpmsg(const std::string& dev, const std::string& attr = "");

    // ---- files ----
    /// @brief Reads a whole file; a read error fails the test and returns "<errno N>".
    std::string readAttr(const std::string& rel);
    /// @brief errno of reading @p rel (0 on success).
    int readErrno(const std::string& rel);
    /// @brief 0 when the whole write was accepted, else errno (kShortWrite for short writes).
    int writeAttr(const std::string& rel, std::string_view data, int extraFlags = 0);
    bool exists(const std::string& rel) const;
    bool isSymlink(const std::string& rel) const;
    bool isDir(const std::string& rel) const;
    /// @brief Permission bits (following symlinks); 0 when stat fails.
    mode_t mode(const std::string& rel) const;
    /// @brief Canonical path relative to the mount ("" if it does not resolve inside it).
    std::string resolved(const std::string& rel) const;
    /// @brief `state` of remoteproc @p n without the newline.
    std::string state(int n = 0);

    // ---- ctl ----
    CommandResult ctl(std::initializer_list<std::string> args);
    /// @brief ctl that must succeed.
    void ctlOk(std::initializer_list<std::string> args);
    nlohmann::json dump();
    /// @brief The entry of the dump's array @p list whose @p key is @p value (null if absent).
    nlohmann::json dumpEntry(const char* list, const char* key, const std::string& value);
    /// @brief The dump's processor object with id @p id (null if absent).
    nlohmann::json processor(const std::string& id = "remoteproc0");

    // ---- rpmsg ----
    Fd openCtrl(int n = 0, int flags = O_RDWR);
    /// @brief Opens the ctrl device the dump names for processor @p id (its N may not be 0).
    Fd openCtrlOf(const std::string& id = "remoteproc0");
    /// @brief CREATE_EPT and return the new eptdev's name (rpmsgN); fails the test otherwise.
    std::string createEptDev(int ctrlFd, const std::string& name, uint32_t src, uint32_t dst);
    Fd openDev(const std::string& devName, int flags = O_RDWR);
    /// @brief A new eptdev @p name to @p dst on remoteproc0's ctrl device gets @p text back.
    void expectEcho(const std::string& name, uint32_t dst, const std::string& text);
    /// @brief The dump's eptdev entry for @p devName.
    nlohmann::json eptdevDump(const std::string& devName);
    /// @brief The local address bound to eptdev @p devName (from the dump), or -1.
    long eptdevAddr(const std::string& devName);
    /// @brief /dev entries starting with "rpmsg".
    std::vector<std::string> devNodes();

    /// @brief A background thread whose stuck calls are released by killing the sim.
    std::unique_ptr<Background> background(std::function<void()> fn);

    std::unique_ptr<TempDir> tmp_;
    std::unique_ptr<Sim> sim_;
    Fd ctrl_; ///< a ctrl fd a fixture keeps open, closed before the sim stops
};

/// @brief Runs @p fn in a forked child and returns its exit code (128+sig if killed, -1 on
/// timeout, after SIGKILL). Use only from the test's main thread with no other threads in
/// flight; @p fn must avoid locks another thread could hold.
int runInChild(const std::function<int()>& fn, std::chrono::milliseconds timeout = 20s);

/// @brief Drops to uid/gid 65534 with no supplementary groups; false on failure.
bool dropToNobody();

/// @brief GoogleTest parameter name for a defect name ("bad-magic" -> "bad_magic").
inline std::string defectTestName(const ::testing::TestParamInfo<std::string>& info) {
    std::string n = info.param;
    std::replace(n.begin(), n.end(), '-', '_');
    return n;
}

} // namespace simtest
