// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The control streams of the vhost-user remote: a UNIX socket or an inherited stream (the
// guest's serial line in the real-kernel lane) carrying one JSON array of strings per line in
// and one JSON object per line out. The commands are the twin's `ctl` ones without PROC
// (RemoteEngine::control), plus ping, status and hangup. No kernel file: this is the twin's
// own control surface.

#include "vhost_user.h"
#include "vhost_user_wire.h"

#include <cerrno>
#include <fcntl.h>
#include <map>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <systemd/sd-event.h>

namespace rpmsgsim {

using namespace vhost;

namespace {

std::string okReply(const std::string& output = "") {
    return nlohmann::json{{"ok", true}, {"output", output}}.dump() + "\n";
}
std::string errorReply(const std::string& error) {
    return nlohmann::json{{"ok", false}, {"error", error}}.dump() + "\n";
}

} // namespace

bool VhostUserRemote::listenControl(const std::string& path, std::string& error) {
    controlListenFd_ = listenUnix(path, error);
    if (controlListenFd_ < 0) {
        return false;
    }
    controlPath_ = path;
    sd_event_add_io(event_, &controlListenSource_, controlListenFd_, EPOLLIN, onControlListen,
                    this);
    return true;
}

void VhostUserRemote::addControlStream(int fd) {
    auto s = std::make_unique<ControlStream>();
    s->fd = fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    // onControl finds the stream again by its fd.
    sd_event_add_io(event_, &s->source, fd, EPOLLIN, onControl, this);
    controls_.push_back(std::move(s));
}

int VhostUserRemote::onControlListen(sd_event_source*, int fd, uint32_t, void* p) {
    auto* self = static_cast<VhostUserRemote*>(p);
    int conn = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn >= 0) {
        self->addControlStream(conn);
    }
    return 0;
}

void VhostUserRemote::closeControl(ControlStream* s) {
    sd_event_source_disable_unref(s->source);
    close(s->fd);
    std::erase_if(controls_, [s](const auto& c) { return c.get() == s; });
    if (hungUp_ && controls_.empty() && controlListenFd_ < 0) {
        sd_event_exit(event_, 0); // hung up, and nobody is left to talk to
    }
}

int VhostUserRemote::onControl(sd_event_source*, int fd, uint32_t, void* p) {
    auto* self = static_cast<VhostUserRemote*>(p);
    ControlStream* s = nullptr;
    for (auto& c : self->controls_) {
        if (c->fd == fd) {
            s = c.get();
        }
    }
    if (!s) {
        return 0;
    }
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return 0;
    }
    if (n <= 0) {
        self->closeControl(s);
        return 0;
    }
    s->in.append(buf, size_t(n));
    size_t nl;
    while ((nl = s->in.find_first_of("\r\n")) != std::string::npos) {
        std::string line = s->in.substr(0, nl);
        s->in.erase(0, nl + 1);
        if (line.empty()) {
            continue;
        }
        std::string answer;
        std::vector<std::string> args;
        try {
            auto doc = nlohmann::json::parse(line);
            if (!doc.is_array() || doc.empty()) {
                throw std::runtime_error("expected a non-empty JSON array of strings");
            }
            for (const auto& a : doc) {
                if (!a.is_string()) {
                    throw std::runtime_error("expected a non-empty JSON array of strings");
                }
                args.push_back(a.get<std::string>());
            }
            answer = self->control(args);
        } catch (const std::exception& e) {
            answer = errorReply(std::string("bad request: ") + e.what());
        }
        if (!writeAll(fd, answer)) {
            self->closeControl(s);
            return 0;
        }
        if (!args.empty() && args[0] == "hangup" && self->connFd_ >= 0 &&
            answer.rfind("{\"ok\":true", 0) == 0) {
            // Answered first, so the test knows the hang-up is on its way.
            self->hungUp_ = true;
            self->disconnect(HungUpOnRequest);
        }
    }
    if (s->in.size() > 65536) {
        writeAll(fd, errorReply("request line longer than 65536 bytes"));
        s->in.clear();
    }
    return 0;
}

std::string VhostUserRemote::control(const std::vector<std::string>& args) {
    const std::string& cmd = args[0];
    auto usage = [&](size_t count, const char* text) -> std::optional<std::string> {
        if (args.size() - 1 != count) {
            return errorReply(std::string("usage: ") + text);
        }
        return std::nullopt;
    };
    auto alive = [&]() -> std::optional<std::string> {
        if (connFd_ < 0) {
            return errorReply(hungUp_ ? "the remote hung up" : "no guest is connected");
        }
        return std::nullopt;
    };
    if (cmd == "ping") {
        return okReply();
    }
    if (cmd == "status") {
        nlohmann::json j{{"connected", connFd_ >= 0},     {"driver_up", driverUp_},
                         {"stalled", engine_->stalled()}, {"held", engine_->heldBuffers()},
                         {"pending", pending_.size()},    {"from_linux", fromLinux_},
                         {"to_linux", toLinux_}};
        return okReply(j.dump());
    }
    // The commands the remote itself answers, as on the twin (RemoteEngine::control).
    static const std::map<std::string, std::pair<size_t, const char*>> remoteCommands = {
        {"stall", {0, "stall | resume"}},
        {"resume", {0, "stall | resume"}},
        {"announce", {2, "announce|destroy NAME ADDR"}},
        {"destroy", {2, "announce|destroy NAME ADDR"}},
        {"send", {3, "send SRC DST TEXT"}},
        {"peer", {1, "peer ADDR"}},
    };
    if (auto rc = remoteCommands.find(cmd); rc != remoteCommands.end()) {
        if (auto e = usage(rc->second.first, rc->second.second)) {
            return *e;
        }
        if (cmd != "peer") {
            if (auto e = alive()) {
                return *e;
            }
        }
        if ((cmd == "announce" || cmd == "destroy") && !nameService_) {
            return errorReply("the firmware's vdev has no VIRTIO_RPMSG_F_NS: no name service");
        }
        const auto r = engine_->control(args);
        sendCalls(); // what the command made the remote send or release
        return r.ok ? okReply(r.text) : errorReply(r.text);
    }
    if (cmd == "hangup") {
        if (auto e = usage(0, "hangup")) {
            return *e;
        }
        if (auto e = alive()) {
            return *e;
        }
        return okReply(); // the caller disconnects once the answer is out
    }
    return errorReply("unknown command \"" + cmd +
                      "\" (ping, status, stall, resume, announce, destroy, send, peer, hangup)");
}

} // namespace rpmsgsim
