// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "target.h"

#include "lane_remote.h"
#include "sim_harness.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#ifndef RPMSG_CONFORMANCE_FW_SPEC_DEFAULT
#error "meson passes the source tree's conformance-fw.json as RPMSG_CONFORMANCE_FW_SPEC_DEFAULT"
#endif

#ifndef RPMSG_TWIN_KERNEL_DEFAULT
#define RPMSG_TWIN_KERNEL_DEFAULT "6.1" // rpmsg-conformance-6.6 is built with "6.6"
#endif

namespace conformance {

namespace {

using namespace std::chrono_literals;

std::string envOr(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string targetName() {
    return envOr("RPMSG_TARGET", "twin");
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

// ---- the twin -------------------------------------------------------------------------------

/// A fresh rpmsg-sim per test: kernel profile @p kernel (6.1, the lane's kernel, or 6.6) and one
/// virtio transport without a remoteproc, as the lane's vhost-user device, running
/// conformance.elf. Its only processor owns virtio0 and rpmsg_ctrl0, as in the guest.
class TwinTarget : public RpmsgTarget {
public:
    static constexpr const char* Processor = "vhost0";

    explicit TwinTarget(std::string kernel) : kernel_(std::move(kernel)) {}

    bool start(const std::string& specPath, std::string& error) {
        tmp_ = std::make_unique<simtest::TempDir>("rpmsg-conformance");
        sim_ = std::make_unique<simtest::Sim>(tmp_->path());
        const auto mkfw = simtest::runCommand({simtest::simBinary(), "mkfw", "--spec", specPath,
                                               "--out", sim_->firmwareDir() + "/conformance.elf"});
        if (mkfw.exitCode != 0) {
            error = "rpmsg-sim mkfw --spec " + specPath + " failed:\n" + mkfw.err + mkfw.out;
            return false;
        }
        simtest::SimOptions options;
        options.config = nlohmann::json{
            {"kernel", kernel_},
            {"processors",
             nlohmann::json::array(
                 {{{"name", Processor}, {"firmware", "conformance.elf"}, {"remoteproc", false}}})},
        };
        return sim_->start(options, error);
    }

    std::string name() const override { return "twin"; }
    std::string path(std::string_view rel) const override { return sim_->path(rel); }
    std::string kernel() const override { return kernel_; }
    std::string log() override { return sim_->log(); }
    bool has(Quirk) const override { return true; } // every documented quirk is the twin's

    RemoteReply remote(const std::vector<std::string>& args) override {
        if (args.empty()) {
            return {false, "", "no command"};
        }
        const std::string& cmd = args[0];
        std::vector<std::string> ctl;
        if (cmd == "ping") {
            ctl = {"dump"}; // answers while the sim serves its mount
        } else if (cmd == "hangup") {
            ctl = {"remove-processor", Processor}; // the transport goes, as when UML's socket does
        } else {
            ctl = {cmd, Processor};
        }
        if (cmd == "ping" || cmd == "hangup") {
            if (args.size() != 1) {
                return {false, "", cmd + " takes no arguments"};
            }
        } else {
            ctl.insert(ctl.end(), args.begin() + 1, args.end());
        }
        const auto r = sim_->ctl(ctl);
        RemoteReply reply;
        reply.ok = r.exitCode == 0;
        if (reply.ok) {
            reply.output = cmd == "ping" ? "" : r.out;
        } else {
            reply.error = trimmed(r.err);
            const std::string prefix = "rpmsg-sim ctl: ";
            if (reply.error.rfind(prefix, 0) == 0) {
                reply.error.erase(0, prefix.size());
            }
        }
        return reply;
    }

    void awaitReleased(const std::string& dev) override {
        simtest::waitFor([&] {
            try {
                const auto dump = sim_->dump();
                for (const auto& e : dump.at("eptdevs")) {
                    if (e.value("device", "") == dev) {
                        return !e.value("open", false);
                    }
                }
                return true;
            } catch (const std::exception&) {
                return true; // the sim is gone: nothing is open any more
            }
        });
    }

    void releaseBlockedCalls() override {
        sim_->signal(SIGKILL); // aborts the FUSE connection: every pending call fails
    }

    std::string finish() override {
        sim_->shutdown();
        const auto report = simtest::sanitizerReport(sim_->log());
        return report.empty() ? "" : "rpmsg-sim reported a sanitizer error:\n" + report;
    }

private:
    std::string kernel_;
    std::unique_ptr<simtest::TempDir> tmp_;
    std::unique_ptr<simtest::Sim> sim_;
};

// ---- the real kernel ------------------------------------------------------------------------

/// The kernel of the lane's UML guest. Its remote is on the host; commands go over the stream
/// $RPMSG_REMOTE_CONTROL (the guest's /dev/ttyS0) in the lane's protocol (lane::StreamRemote):
/// one JSON array of strings per line out, one JSON object per line back,
/// `{"ok":true,"output":"..."}` or `{"ok":false,"error":"..."}`.
class KernelTarget : public RpmsgTarget {
public:
    KernelTarget(const std::string& stream, std::chrono::milliseconds replyTimeout)
        : stream_(stream), remote_(std::make_unique<lane::StreamRemote>(stream, replyTimeout)) {}

    bool start(std::string& error) {
        error = remote_->error();
        return error.empty();
    }

    std::string name() const override { return "kernel"; }
    std::string path(std::string_view rel) const override { return "/" + std::string(rel); }
    bool has(Quirk) const override { return false; }
    void awaitReleased(const std::string&) override {}

    std::string kernel() const override {
        utsname u{};
        if (::uname(&u) != 0) {
            return "?";
        }
        // "6.1.192" -> "6.1"
        const std::string release = u.release;
        const auto first = release.find('.');
        const auto second = release.find_first_not_of("0123456789", first + 1);
        return release.substr(0, second);
    }

    RemoteReply remote(const std::vector<std::string>& args) override {
        if (!remote_) {
            return {false, "", "the remote's control stream " + stream_ + " is closed"};
        }
        const auto r = remote_->command(args);
        return {r.ok, r.output, r.error};
    }

    std::string log() override {
        std::string out = "remote control transcript (" + stream_ + "):\n";
        if (remote_) {
            for (const auto& l : remote_->transcript()) {
                out += "  " + l + "\n";
            }
        }
        return out + "kernel log (last lines):\n" + kernelLogTail(80);
    }

    void releaseBlockedCalls() override { remote({"hangup"}); }

    std::string finish() override {
        remote_.reset();
        return "";
    }

private:
    /// The last @p lines messages of /dev/kmsg ("timeout waiting for a tx buffer", WARNs).
    static std::string kernelLogTail(size_t lines) {
        const int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            return std::string("  (cannot read /dev/kmsg: ") + std::strerror(errno) + ")\n";
        }
        std::deque<std::string> tail;
        char rec[8192];
        while (true) {
            const ssize_t n = ::read(fd, rec, sizeof rec - 1);
            if (n < 0 && errno == EPIPE) {
                continue; // overwritten records
            }
            if (n <= 0) {
                break;
            }
            std::string r(rec, static_cast<size_t>(n));
            const auto semi = r.find(';');
            std::string text = semi == std::string::npos ? r : r.substr(semi + 1);
            text = text.substr(0, text.find('\n'));
            tail.push_back(text);
            if (tail.size() > lines) {
                tail.pop_front();
            }
        }
        ::close(fd);
        std::string out;
        for (const auto& l : tail) {
            out += "  " + l + "\n";
        }
        return out;
    }

    std::string stream_;
    std::unique_ptr<lane::StreamRemote> remote_;
};

} // namespace

std::unique_ptr<RpmsgTarget> makeKernelTarget(const std::string& stream,
                                              std::chrono::milliseconds replyTimeout,
                                              std::string& error) {
    auto t = std::make_unique<KernelTarget>(stream, replyTimeout);
    if (t->start(error)) {
        return t;
    }
    return nullptr;
}

std::string firmwareSpecPath() {
    return envOr("RPMSG_CONFORMANCE_FW_SPEC", RPMSG_CONFORMANCE_FW_SPEC_DEFAULT);
}

std::string targetSkipReason() {
    if (targetName() == "kernel") {
        return ::geteuid() == 0 ? ""
                                : "the real-kernel target needs root (/dev/rpmsg* are 0600 root)";
    }
    return simtest::skipReason();
}

std::unique_ptr<RpmsgTarget> makeTarget(const std::string& specPath, std::string& error) {
    const std::string which = targetName();
    if (which == "kernel") {
        const std::string stream = envOr("RPMSG_REMOTE_CONTROL", "");
        if (stream.empty()) {
            error = "RPMSG_TARGET=kernel needs RPMSG_REMOTE_CONTROL, the remote's control stream "
                    "(/dev/ttyS0 in the lane's guest)";
            return nullptr;
        }
        return makeKernelTarget(stream, 10s, error);
    }
    if (which == "twin") {
        const std::string kernel = envOr("RPMSG_TWIN_KERNEL", RPMSG_TWIN_KERNEL_DEFAULT);
        if (kernel != "6.1" && kernel != "6.6") {
            error = "RPMSG_TWIN_KERNEL=" + kernel + ": expected 6.1 or 6.6";
            return nullptr;
        }
        auto t = std::make_unique<TwinTarget>(kernel);
        if (t->start(specPath, error)) {
            return t;
        }
        error += "\n" + t->log();
        return nullptr;
    }
    error = "RPMSG_TARGET=" + which + ": expected twin (the default) or kernel";
    return nullptr;
}

} // namespace conformance
