// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "sim_fixture.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <iostream>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace simtest {

// ---- children ---------------------------------------------------------------------------

int runInChild(const std::function<int()>& fn, std::chrono::milliseconds timeout) {
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid == 0) {
        int rc = 125;
        try {
            rc = fn();
        } catch (...) {
            rc = 126;
        }
        ::_exit(rc);
    }
    if (pid < 0) {
        return -1;
    }
    int status = 0;
    bool exited = waitFor(
        [&] {
            const pid_t r = ::waitpid(pid, &status, WNOHANG);
            return r == pid;
        },
        timeout, 2ms);
    if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

bool dropToNobody() {
    return harness::switchTo(harness::Nobody) && ::geteuid() == 65534;
}

// ---- SimTest --------------------------------------------------------------------------------

void SimTest::SetUp() {
    if (const auto why = skipReason(); !why.empty()) {
        GTEST_SKIP() << why;
    }
    const std::string bin = simBinary();
    ASSERT_EQ(::access(bin.c_str(), X_OK), 0) << "rpmsg-sim binary not found or not executable: '"
                                              << bin << "' (set RPMSG_SIM to its path)";
    tmp_ = std::make_unique<TempDir>();
    sim_ = std::make_unique<Sim>(tmp_->path());
    up();
}

void SimTest::TearDown() {
    ctrl_.reset();
    if (!sim_) {
        return;
    }
    sim_->shutdown();
    if (const auto report = sanitizerReport(sim_->log()); !report.empty()) {
        ADD_FAILURE() << "rpmsg-sim reported a sanitizer error:\n" << report;
    }
    if (HasFailure()) {
        std::cout << sim_->log();
    }
    sim_.reset();
    tmp_.reset();
}

void SimTest::makeFirmware(const std::string& name, const nlohmann::json& spec,
                           const std::string& defect) {
    const auto r = sim_->mkfw(name, spec, defect);
    ASSERT_EQ(r.exitCode, 0) << "rpmsg-sim mkfw " << name << (defect.empty() ? "" : " --defect ")
                             << defect << " failed:\n"
                             << r.err << r.out;
}

void SimTest::startSim(const SimOptions& options) {
    std::string error;
    ASSERT_TRUE(sim_->start(options, error)) << error;
}

void SimTest::startEchoSim(const nlohmann::json& spec,
                           const std::function<void(nlohmann::json&)>& edit,
                           const std::string& kernel) {
    ASSERT_NO_FATAL_FAILURE(makeFirmware("echo.elf", spec));
    auto config = defaultConfig();
    if (!kernel.empty()) {
        config["kernel"] = kernel;
    }
    if (edit) {
        edit(config);
    }
    SimOptions options;
    options.config = config;
    options.kernel = kernel;
    ASSERT_NO_FATAL_FAILURE(startSim(options));
}

void SimTest::bootProcessor(int n, int virtio) {
    ASSERT_EQ(writeAttr(rproc(n, "state"), "start\n"), 0) << "start remoteproc" << n;
    const std::string chan = "virtio" + std::to_string(virtio) + ".rpmsg-echo.-1.1024";
    ASSERT_TRUE(waitFor([&] { return exists(busDev(chan)); }))
        << chan << " did not appear after start";
}

std::string SimTest::rproc(int n, const std::string& attr) {
    std::string p = "sys/class/remoteproc/remoteproc" + std::to_string(n);
    return attr.empty() ? p : p + "/" + attr;
}

std::string SimTest::debugfs(int n, const std::string& file) {
    std::string p = "sys/kernel/debug/remoteproc/remoteproc" + std::to_string(n);
    return file.empty() ? p : p + "/" + file;
}

std::string SimTest::busDev(const std::string& dev, const std::string& attr) {
    std::string p = "sys/bus/rpmsg/devices/" + dev;
    return attr.empty() ? p : p + "/" + attr;
}

std::string SimTest::classRpmsg(const std::string& dev, const std::string& attr) {
    std::string p = "sys/class/rpmsg/" + dev;
    return attr.empty() ? p : p + "/" + attr;
}

std::string SimTest::readAttr(const std::string& rel) {
    const auto r = readFile(path(rel));
    EXPECT_EQ(r.err, 0) << "reading " << rel << ": " << std::strerror(r.err);
    if (r.err != 0) {
        return "<errno " + std::to_string(r.err) + ">";
    }
    return r.data;
}

int SimTest::readErrno(const std::string& rel) {
    return readFile(path(rel)).err;
}

int SimTest::writeAttr(const std::string& rel, std::string_view data, int extraFlags) {
    return writeFile(path(rel), data, extraFlags);
}

bool SimTest::exists(const std::string& rel) const {
    struct stat st {};
    return ::lstat(path(rel).c_str(), &st) == 0;
}

bool SimTest::isSymlink(const std::string& rel) const {
    struct stat st {};
    return ::lstat(path(rel).c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

bool SimTest::isDir(const std::string& rel) const {
    struct stat st {};
    return ::stat(path(rel).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

mode_t SimTest::mode(const std::string& rel) const {
    struct stat st {};
    if (::stat(path(rel).c_str(), &st) != 0) {
        return 0;
    }
    return st.st_mode & 07777;
}

std::string SimTest::resolved(const std::string& rel) const {
    char buf[PATH_MAX];
    if (::realpath(path(rel).c_str(), buf) == nullptr) {
        return "";
    }
    const std::string full = buf;
    const std::string prefix = sim_->mountDir() + "/";
    if (full.rfind(prefix, 0) != 0) {
        return "";
    }
    return full.substr(prefix.size());
}

std::string SimTest::state(int n) {
    auto s = readAttr(rproc(n, "state"));
    if (!s.empty() && s.back() == '\n') {
        s.pop_back();
    }
    return s;
}

CommandResult SimTest::ctl(std::initializer_list<std::string> args) {
    return sim_->ctl(std::vector<std::string>(args));
}

void SimTest::ctlOk(std::initializer_list<std::string> args) {
    const auto r = ctl(args);
    std::string joined;
    for (const auto& a : args) {
        joined += " " + a;
    }
    EXPECT_EQ(r.exitCode, 0) << "rpmsg-sim ctl" << joined << " failed: " << r.err;
}

nlohmann::json SimTest::dump() {
    try {
        return sim_->dump();
    } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        return nlohmann::json();
    }
}

nlohmann::json SimTest::dumpEntry(const char* list, const char* key, const std::string& value) {
    const auto d = dump(); // a named copy: iterating dump()[list] would dangle
    if (d.is_object() && d.contains(list) && d[list].is_array()) {
        for (const auto& e : d[list]) {
            if (e.value(key, "") == value) {
                return e;
            }
        }
    }
    return nlohmann::json();
}

nlohmann::json SimTest::processor(const std::string& id) {
    return dumpEntry("processors", "id", id);
}

Fd SimTest::openCtrl(int n, int flags) {
    const std::string p = path("dev/rpmsg_ctrl" + std::to_string(n));
    Fd fd(::open(p.c_str(), flags | O_CLOEXEC));
    EXPECT_TRUE(fd.valid()) << "open " << p << ": " << std::strerror(errno);
    return fd;
}

Fd SimTest::openCtrlOf(const std::string& id) {
    const auto p = processor(id);
    if (!p.is_object() || !p["ctrl"].is_string()) {
        ADD_FAILURE() << "the dump names no ctrl device for " << id << ": " << p.dump();
        return Fd();
    }
    const std::string name = p["ctrl"].get<std::string>();
    return openCtrl(std::stoi(name.substr(std::string("rpmsg_ctrl").size())));
}

std::string SimTest::createEptDev(int ctrlFd, const std::string& name, uint32_t src, uint32_t dst) {
    const auto before = eptdevNames(*sim_);
    const int rc = createEpt(ctrlFd, name, src, dst);
    EXPECT_EQ(rc, 0) << "RPMSG_CREATE_EPT_IOCTL: " << std::strerror(rc);
    if (rc != 0) {
        return "";
    }
    for (const auto& n : eptdevNames(*sim_)) {
        if (std::find(before.begin(), before.end(), n) == before.end()) {
            return n;
        }
    }
    ADD_FAILURE() << "no new sys/class/rpmsg/rpmsgN when CREATE_EPT returned";
    return "";
}

void SimTest::expectEcho(const std::string& name, uint32_t dst, const std::string& text) {
    Fd ctrl = openCtrlOf();
    Fd ept = openDev(createEptDev(ctrl.get(), name, RPMSG_ADDR_ANY, dst));
    ASSERT_EQ(::write(ept.get(), text.data(), text.size()), ssize_t(text.size()));
    EXPECT_EQ(readMessage(ept.get()).data, text);
}

Fd SimTest::openDev(const std::string& devName, int flags) {
    const std::string p = path("dev/" + devName);
    Fd fd(::open(p.c_str(), flags | O_CLOEXEC));
    EXPECT_TRUE(fd.valid()) << "open " << p << ": " << std::strerror(errno);
    return fd;
}

nlohmann::json SimTest::eptdevDump(const std::string& devName) {
    return dumpEntry("eptdevs", "device", devName);
}

long SimTest::eptdevAddr(const std::string& devName) {
    const auto e = eptdevDump(devName);
    if (e.is_object() && e.contains("addr") && e["addr"].is_number_integer()) {
        return e["addr"].get<long>();
    }
    return -1;
}

std::vector<std::string> SimTest::devNodes() {
    std::vector<std::string> out;
    for (const auto& n : listDir(path("dev"))) {
        if (n.rfind("rpmsg", 0) == 0) {
            out.push_back(n);
        }
    }
    return out;
}

std::unique_ptr<Background> SimTest::background(std::function<void()> fn) {
    return std::make_unique<Background>(std::move(fn), [this] {
        ADD_FAILURE() << "a background call was still blocked; killing the sim to release it";
        sim_->signal(SIGKILL);
    });
}

} // namespace simtest
