// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// `rpmsg-sim ctl`: the fault-injection and scenario commands (crash, stall, resume, announce,
// destroy, send, peer, add-processor, remove-processor) and `dump`, the JSON of the whole
// simulated kernel (sim/README.md). No kernel file: this is the twin's own control surface.

#include "kernel_model_impl.h"

namespace rpmsgsim {

using nlohmann::json;

json Simulator::Impl::dump() {
    json out;
    out["kernel"] = profile.version;
    out["processors"] = json::array();
    for (const auto& p : processors) {
        json j;
        j["id"] = p->id;
        j["name"] = p->name;
        j["state"] = std::string(toString(p->state));
        j["firmware"] = p->firmware;
        j["recovery"] = std::string(toString(p->recovery));
        j["coredump"] = std::string(toString(p->coredump));
        j["crash_count"] = p->crashCount;
        j["power"] = p->power;
        j["stalled"] = p->vdev && p->vdev->engine ? p->vdev->engine->stalled() : false;
        j["virtio"] = nullptr;
        j["ctrl"] = nullptr;
        j["tx_buffers_in_use"] = 0;
        j["channels"] = json::array();
        j["endpoints"] = json::array();
        if (auto v = p->vdev) {
            j["virtio"] = "virtio" + std::to_string(v->virtioIndex);
            if (v->ctrl) {
                j["ctrl"] = "rpmsg_ctrl" + std::to_string(v->ctrl->index);
            }
            j["tx_buffers_in_use"] = v->txTotal - v->txFree;
            for (const auto& b : v->busDevices) {
                if (b->kind == BusDevice::Channel) {
                    j["channels"].push_back(
                        {{"name", b->name}, {"addr", b->dst}, {"device", b->devName}});
                }
            }
            for (const auto& [addr, weak] : v->endpoints) {
                auto e = weak.lock();
                if (!e) {
                    continue;
                }
                j["endpoints"].push_back(
                    {{"addr", addr}, {"eptdev", "rpmsg" + std::to_string(e->index)}});
            }
        }
        out["processors"].push_back(j);
    }
    out["eptdevs"] = json::array();
    for (const auto& e : eptdevs) {
        if (e->index < 0) {
            continue;
        }
        out["eptdevs"].push_back({{"device", "rpmsg" + std::to_string(e->index)},
                                  {"processor", e->processorId},
                                  {"name", e->name},
                                  {"src", int32_t(e->src)},
                                  {"dst", int32_t(e->dst)},
                                  {"alive", e->alive},
                                  {"open", e->isOpen},
                                  {"addr", e->addr ? json(*e->addr) : json(nullptr)},
                                  {"queued", e->rxq.size()}});
    }
    out["devcoredumps"] = json::array();
    for (const auto& d : devcds) {
        out["devcoredumps"].push_back({{"device", "devcd" + std::to_string(d->index)},
                                       {"processor", d->processorId},
                                       {"size", d->data.size()}});
    }
    out["stats"] = {{"messages_to_remote", statToRemote},
                    {"messages_to_linux", statToLinux},
                    {"dropped", statDropped}};
    return out;
}

Simulator::ControlResult Simulator::Impl::control(const std::vector<std::string>& args) {
    auto fail = [](std::string msg) {
        return ControlResult{false, std::move(msg)};
    };
    if (args.empty()) {
        return fail("no command given");
    }
    const std::string& cmd = args[0];
    auto need = [&](size_t min, size_t max, const char* usage) -> std::optional<ControlResult> {
        if (args.size() - 1 < min || args.size() - 1 > max) {
            return fail(std::string("usage: ") + usage);
        }
        return std::nullopt;
    };
    auto proc = [&](const std::string& key,
                    std::shared_ptr<Processor>& out) -> std::optional<ControlResult> {
        out = findProcessor(key);
        if (!out) {
            return fail("no processor \"" + key +
                        "\" (give its id, e.g. remoteproc0, or its name)");
        }
        return std::nullopt;
    };
    auto running = [&](const std::shared_ptr<Processor>& p) -> std::optional<ControlResult> {
        if (!p->vdev || !p->vdev->engine) {
            return fail(p->id + " (" + p->name +
                        ") has no running remote with an rpmsg vdev (state " +
                        std::string(toString(p->state)) + ")");
        }
        return std::nullopt;
    };
    std::shared_ptr<Processor> p;
    if (cmd == "dump") {
        if (auto e = need(0, 0, "dump")) {
            return *e;
        }
        return {true, dump().dump(2) + "\n"};
    }
    if (cmd == "crash") {
        if (auto e = need(1, 2, "crash PROC [TYPE]")) {
            return *e;
        }
        if (auto e = proc(args[1], p)) {
            return *e;
        }
        if (p->bare) {
            return fail(p->id + " is a transport without a remoteproc: it cannot crash");
        }
        unsigned type = 2;
        if (args.size() > 2) {
            const std::string& t = args[2];
            uint32_t n = 0;
            if (t == "mmufault") {
                type = 0;
            } else if (t == "watchdog") {
                type = 1;
            } else if (t == "fatal") {
                type = 2;
            } else if (parseU32(t, n)) {
                type = n;
            } else {
                return fail("crash type \"" + t + "\" is not a number or mmufault/watchdog/fatal");
            }
        }
        reportCrash(p, type);
        return {true, ""};
    }
    // The commands the remote itself answers (RemoteEngine::control), after PROC.
    static const std::map<std::string, std::pair<size_t, const char*>> remoteCommands = {
        {"stall", {1, "stall|resume PROC"}},
        {"resume", {1, "stall|resume PROC"}},
        {"announce", {3, "announce|destroy PROC NAME ADDR"}},
        {"destroy", {3, "announce|destroy PROC NAME ADDR"}},
        {"send", {4, "send PROC SRC DST TEXT"}},
        {"peer", {2, "peer PROC ADDR"}},
    };
    if (auto rc = remoteCommands.find(cmd); rc != remoteCommands.end()) {
        if (auto e = need(rc->second.first, rc->second.first, rc->second.second)) {
            return *e;
        }
        if (auto e = proc(args[1], p)) {
            return *e;
        }
        if (auto e = running(p)) {
            return *e;
        }
        std::vector<std::string> rest{cmd};
        rest.insert(rest.end(), args.begin() + 2, args.end());
        const auto r = p->vdev->engine->control(rest);
        return r.ok ? ControlResult{true, r.text} : fail(r.text);
    }
    if (cmd == "hold") {
        if (auto e = need(
                3, 3, "hold PROC start|stop|recover|firmware|recovery|coredump|create SECONDS")) {
            return *e;
        }
        if (auto e = proc(args[1], p)) {
            return *e;
        }
        static const std::set<std::string> words = {"start",    "stop",     "recover", "firmware",
                                                    "recovery", "coredump", "create"};
        if (!words.count(args[2])) {
            return fail("cannot hold \"" + args[2] +
                        "\": what can be held is start, stop, recover, firmware, recovery, "
                        "coredump, create");
        }
        uint32_t seconds = 0;
        if (!parseU32(args[3], seconds) || seconds > 3600) {
            return fail("\"" + args[3] + "\" is not a number of seconds from 0 to 3600");
        }
        if (seconds == 0) {
            p->holds.erase(args[2]);
        } else {
            p->holds[args[2]] = seconds;
        }
        return {true, ""};
    }
    if (cmd == "add-processor") {
        if (auto e = need(1, 2, "add-processor NAME [FIRMWARE]")) {
            return *e;
        }
        if (findProcessor(args[1])) {
            return fail("a processor named \"" + args[1] + "\" exists already");
        }
        ProcessorConfig pc;
        pc.name = args[1];
        bool okName =
            !pc.name.empty() && pc.name.size() <= 64 &&
            pc.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789-_.") == std::string::npos;
        if (!okName) {
            return fail("\"" + pc.name + "\" is not a valid name (1-64 of A-Z a-z 0-9 - _ .)");
        }
        if (args.size() > 2) {
            pc.firmware = args[2];
        }
        auto np = addProcessor(pc, true);
        return {true, np->id + "\n"};
    }
    if (cmd == "remove-processor") {
        if (auto e = need(1, 1, "remove-processor PROC")) {
            return *e;
        }
        if (auto e = proc(args[1], p)) {
            return *e;
        }
        removeProcessor(p);
        return {true, ""};
    }
    return fail("unknown command \"" + cmd +
                "\" (crash, stall, resume, announce, destroy, send, peer, hold, add-processor, "
                "remove-processor, dump)");
}

} // namespace rpmsgsim
