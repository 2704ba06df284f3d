// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "conformance_fixture.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <sys/ioctl.h>
#include <unistd.h>

namespace conformance {

namespace {

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
        out += (out.empty() ? "" : " ") + s;
    }
    return out;
}

} // namespace

// ---- set-up ---------------------------------------------------------------------------------

void ConformanceTest::SetUp() {
    if (const auto why = targetSkipReason(); !why.empty()) {
        GTEST_SKIP() << why;
    }
    const std::string specPath = firmwareSpecPath();
    std::ifstream in(specPath);
    ASSERT_TRUE(in) << "cannot read the firmware spec " << specPath
                    << " (set RPMSG_CONFORMANCE_FW_SPEC)";
    std::stringstream text;
    text << in.rdbuf();
    spec_ = nlohmann::json::parse(text.str(), nullptr, false);
    ASSERT_TRUE(spec_.is_object() && spec_["services"].is_array())
        << specPath << " is not a behaviour spec";

    std::string error;
    target_ = makeTarget(specPath, error);
    ASSERT_TRUE(target_) << error;
    const auto ping = target_->remote({"ping"});
    ASSERT_TRUE(ping.ok) << "the remote does not answer: " << ping.error;
    std::string missing;
    const bool ready = waitFor(
        [&] {
            missing = notReady();
            return missing.empty();
        },
        10s, 10ms);
    ASSERT_TRUE(ready) << "the " << target_->name() << " is not ready after 10 s: " << missing;
}

void ConformanceTest::TearDown() {
    barrierFd_.reset();
    if (!target_) {
        return;
    }
    if (const auto failure = target_->finish(); !failure.empty()) {
        ADD_FAILURE() << failure;
    }
    if (HasFailure()) {
        std::cout << "---- " << target_->name() << " log ----\n" << target_->log();
    }
    target_.reset();
}

std::string ConformanceTest::notReady() {
    const auto devs = list("sys/bus/rpmsg/devices");
    static const std::regex ctrlDev("(virtio[0-9]+)\\.rpmsg_ctrl\\.0\\.0");
    std::smatch m;
    virtio_.clear();
    for (const auto& d : devs) {
        if (std::regex_match(d, m, ctrlDev)) {
            virtio_ = m[1];
        }
    }
    if (virtio_.empty()) {
        return "no virtioK.rpmsg_ctrl.0.0 in sys/bus/rpmsg/devices [" + joined(devs) + "]";
    }
    for (const auto& ch : announcedChannels()) {
        if (std::find(devs.begin(), devs.end(), ch) == devs.end()) {
            return "no " + ch + " in sys/bus/rpmsg/devices [" + joined(devs) + "]";
        }
        if (ch.find(".rpmsg-raw.") != std::string::npos) {
            const auto children = list(busDev(ch, "rpmsg"));
            if (children.size() != 1 || !exists("dev/" + children[0])) {
                return ch + " has no rpmsg_char eptdev and /dev node yet";
            }
        }
    }
    std::vector<std::string> ctrls;
    for (const auto& n : list("sys/class/rpmsg")) {
        if (n.rfind("rpmsg_ctrl", 0) == 0) {
            ctrls.push_back(n);
        }
    }
    if (ctrls.size() != 1) {
        return "expected one rpmsg_ctrlN in sys/class/rpmsg, found [" + joined(ctrls) + "]";
    }
    ctrl_ = ctrls[0];
    if (!exists("dev/" + ctrl_)) {
        return "no /dev/" + ctrl_;
    }
    return "";
}

// ---- names ----------------------------------------------------------------------------------

uint32_t ConformanceTest::serviceAddr(const std::string& name) const {
    for (const auto& s : spec_["services"]) {
        if (s.value("name", "") == name) {
            return s.value("addr", 0u);
        }
    }
    ADD_FAILURE() << "the firmware spec has no service " << name;
    return RPMSG_ADDR_ANY;
}

std::string ConformanceTest::channel(const std::string& name, uint32_t addr) const {
    return virtio_ + "." + name + ".-1." + std::to_string(addr);
}

std::vector<std::string> ConformanceTest::announcedChannels() const {
    std::vector<std::string> out;
    for (const auto& s : spec_["services"]) {
        if (s.value("announce", true)) {
            out.push_back(channel(s.value("name", ""), s.value("addr", 0u)));
        }
    }
    return out;
}

std::string ConformanceTest::rawEptdev() {
    const auto children = list(busDev(channel("rpmsg-raw", rawAddr()), "rpmsg"));
    if (children.size() != 1) {
        ADD_FAILURE() << "the firmware's rpmsg-raw channel has " << children.size()
                      << " eptdevs, expected 1";
        return "";
    }
    return children[0];
}

std::string ConformanceTest::busDev(const std::string& dev, const std::string& attr) {
    std::string p = "sys/bus/rpmsg/devices/" + dev;
    return attr.empty() ? p : p + "/" + attr;
}

std::string ConformanceTest::classRpmsg(const std::string& dev, const std::string& attr) {
    std::string p = "sys/class/rpmsg/" + dev;
    return attr.empty() ? p : p + "/" + attr;
}

std::string ConformanceTest::hexLine(long v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%lx\n", v);
    return buf;
}

// ---- files ----------------------------------------------------------------------------------

std::string ConformanceTest::readAttr(const std::string& rel) {
    const auto r = simtest::readFile(path(rel));
    EXPECT_EQ(r.err, 0) << "reading " << rel << ": " << std::strerror(r.err);
    if (r.err != 0) {
        return "<errno " + std::to_string(r.err) + ">";
    }
    return r.data;
}

int ConformanceTest::writeAttr(const std::string& rel, std::string_view data) {
    return simtest::writeFile(path(rel), data);
}

bool ConformanceTest::exists(const std::string& rel) const {
    struct stat st {};
    return ::lstat(path(rel).c_str(), &st) == 0;
}

bool ConformanceTest::isSymlink(const std::string& rel) const {
    struct stat st {};
    return ::lstat(path(rel).c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

bool ConformanceTest::isDir(const std::string& rel) const {
    struct stat st {};
    return ::stat(path(rel).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

mode_t ConformanceTest::mode(const std::string& rel) const {
    struct stat st {};
    return ::stat(path(rel).c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

std::string ConformanceTest::canonical(const std::string& rel) const {
    char buf[PATH_MAX];
    return ::realpath(path(rel).c_str(), buf) != nullptr ? std::string(buf) : std::string();
}

std::vector<std::string> ConformanceTest::list(const std::string& rel) const {
    return simtest::listDir(path(rel));
}

// ---- the remote -----------------------------------------------------------------------------

RemoteReply ConformanceTest::remote(const std::vector<std::string>& args) {
    return target_->remote(args);
}

std::string ConformanceTest::remoteOk(const std::vector<std::string>& args) {
    const auto r = remote(args);
    EXPECT_TRUE(r.ok) << "remote " << joined(args) << " failed: " << r.error;
    return r.output;
}

long ConformanceTest::peer(uint32_t addr) {
    RemoteReply r;
    waitFor(
        [&] {
            r = remote({"peer", std::to_string(addr)});
            return r.ok;
        },
        5s, 20ms);
    if (!r.ok) {
        ADD_FAILURE() << "remote peer " << addr << " failed: " << r.error;
        return -1;
    }
    static const std::regex decimal("[0-9]+\n");
    EXPECT_TRUE(std::regex_match(r.output, decimal)) << "peer output '" << r.output << "'";
    return std::strtol(r.output.c_str(), nullptr, 10);
}

void ConformanceTest::barrier() {
    // Through the rpmsg-raw service, so that `peer` of the echo service is left alone.
    if (!barrierFd_.valid()) {
        Fd ctrl = openCtrl();
        barrierDev_ = createEptDev(ctrl.get(), "barrier", RPMSG_ADDR_ANY, rawAddr());
        barrierFd_ = openDev(barrierDev_);
    }
    ASSERT_EQ(::write(barrierFd_.get(), "barrier", 7), 7) << std::strerror(errno);
    EXPECT_EQ(readMessage(barrierFd_.get()).data, "barrier");
}

// ---- rpmsg ----------------------------------------------------------------------------------

Fd ConformanceTest::openCtrl(int flags) {
    const std::string p = path("dev/" + ctrl_);
    Fd fd(::open(p.c_str(), flags | O_CLOEXEC));
    EXPECT_TRUE(fd.valid()) << "open " << p << ": " << std::strerror(errno);
    return fd;
}

std::vector<std::string> ConformanceTest::eptdevs() const {
    return simtest::eptdevNames(path("sys/class/rpmsg"));
}

int ConformanceTest::indexOf(const std::string& dev) {
    return dev.size() > 5 ? std::atoi(dev.c_str() + 5) : -1;
}

int ConformanceTest::lowestFreeIndex(const std::vector<int>& held) const {
    std::set<int> taken(held.begin(), held.end());
    for (const auto& d : eptdevs()) {
        taken.insert(indexOf(d));
    }
    int n = 0;
    while (taken.count(n) != 0) {
        ++n;
    }
    return n;
}

std::string ConformanceTest::createEptDev(int ctrlFd, const std::string& name, uint32_t src,
                                          uint32_t dst) {
    const auto before = eptdevs();
    const int rc = simtest::createEpt(ctrlFd, name, src, dst);
    EXPECT_EQ(rc, 0) << "RPMSG_CREATE_EPT_IOCTL: " << std::strerror(rc);
    if (rc != 0) {
        return "";
    }
    for (const auto& n : eptdevs()) {
        if (std::find(before.begin(), before.end(), n) == before.end()) {
            return n;
        }
    }
    ADD_FAILURE() << "no new sys/class/rpmsg/rpmsgN when CREATE_EPT returned";
    return "";
}

Fd ConformanceTest::openDev(const std::string& dev, int flags) {
    const std::string p = path("dev/" + dev);
    Fd fd(::open(p.c_str(), flags | O_CLOEXEC));
    EXPECT_TRUE(fd.valid()) << "open " << p << ": " << std::strerror(errno);
    return fd;
}

long ConformanceTest::boundAddress(int fd) {
    if (::write(fd, "whoami", 6) != 6) {
        ADD_FAILURE() << "write to learn the bound address: " << std::strerror(errno);
        return -1;
    }
    const auto m = readMessage(fd);
    EXPECT_EQ(m.data, "whoami") << "the echo did not come back: " << std::strerror(m.err);
    return peer(echoAddr());
}

std::vector<std::string> ConformanceTest::devNodes() const {
    std::vector<std::string> out;
    for (const auto& n : list("dev")) {
        if (n.rfind("rpmsg", 0) == 0) {
            out.push_back(n);
        }
    }
    return out;
}

std::unique_ptr<Background> ConformanceTest::background(std::function<void()> fn) {
    return std::make_unique<Background>(std::move(fn), [this] {
        ADD_FAILURE() << "a call was still blocked at the end of the test; the " << target_->name()
                      << " releases it";
        target_->releaseBlockedCalls();
    });
}

} // namespace conformance
