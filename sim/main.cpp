// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsg-sim: the kernel twin (see sim/README.md).

#include "fuse_server.h"
#include "kernel_model.h"
#include "mkfw.h"
#include "project_version.h"
#include "scheduler.h"
#include "sim_config.h"
#include "uevent.h"
#include "vfs.h"
#include "vhost_user.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <systemd/sd-event.h>

using namespace rpmsgsim;

namespace {

const char* const Usage =
    "Usage:\n"
    "  rpmsg-sim MOUNTDIR [--config FILE] [--kernel 6.12|6.6|6.1|5.15] [--firmware-dir DIR] "
    "[--uevents]\n"
    "  rpmsg-sim ctl MOUNTDIR COMMAND [ARGS...]\n"
    "  rpmsg-sim mkfw --spec FILE --out FILE [--defect KIND]\n"
    "  rpmsg-sim remote --vhost-user SOCKET --firmware FW.elf [--control PATH] [--control-fd N]\n"
    "\n"
    "Serves the Linux remoteproc/rpmsg userspace ABI under MOUNTDIR (FUSE), backed by simulated\n"
    "remote processors. Runs until SIGTERM/SIGINT, then unmounts.\n"
    "\n"
    "Options:\n"
    "  --config FILE        processors and timings (JSON; see sim/README.md)\n"
    "  --kernel VERSION     kernel behaviour profile: 6.6 (default), 6.12, 6.1 or 5.15\n"
    "  --firmware-dir DIR   where `start` looks up firmware names (default /lib/firmware)\n"
    "  --uevents            send kernel-format uevents to udev monitors; only allowed inside a\n"
    "                       private network namespace (unshare -n)\n"
    "  -h, --help           this help;  --version  the version\n"
    "\n"
    "ctl commands: crash PROC [TYPE] | stall PROC | resume PROC | announce PROC NAME ADDR |\n"
    "  destroy PROC NAME ADDR | send PROC SRC DST TEXT | peer PROC ADDR |\n"
    "  add-processor NAME [FIRMWARE] | remove-processor PROC | dump\n";

/// The `.rpmsg-sim/control` file: write one JSON array of strings, read the answer.
class ControlHandle : public FileHandle {
public:
    explicit ControlHandle(Simulator& sim) : sim_(sim) {}
    void write(RequestPtr req, std::span<const uint8_t> data, uint64_t, int) override {
        pending_.append(reinterpret_cast<const char*>(data.data()), data.size());
        if (pending_.size() > 65536) {
            pending_.clear();
            return req->replyError(E2BIG);
        }
        std::vector<std::string> args;
        try {
            auto doc = nlohmann::json::parse(pending_);
            if (!doc.is_array()) {
                throw std::runtime_error("expected a JSON array of strings");
            }
            for (const auto& a : doc) {
                if (!a.is_string()) {
                    throw std::runtime_error("expected a JSON array of strings");
                }
                args.push_back(a.get<std::string>());
            }
        } catch (const nlohmann::json::parse_error&) {
            // Possibly a partial write: keep it and wait for the rest.
            return req->replyWritten(data.size());
        } catch (const std::exception& e) {
            pending_.clear();
            reply_ = std::string("error: ") + e.what() + "\n";
            return req->replyWritten(data.size());
        }
        pending_.clear();
        auto result = sim_.control(args);
        reply_ = result.ok ? "ok\n" + result.output : "error: " + result.output + "\n";
        req->replyWritten(data.size());
    }
    void read(RequestPtr req, size_t size, uint64_t offset, int) override {
        if (offset >= reply_.size()) {
            return req->replyData(nullptr, 0);
        }
        req->replyData(reply_.data() + offset, std::min(size, reply_.size() - size_t(offset)));
    }

private:
    Simulator& sim_;
    std::string pending_, reply_;
};

int runCtl(int argc, char** argv) {
    // argv[0] = "ctl"
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        std::cout << Usage;
        return 0;
    }
    if (argc < 3) {
        std::cerr << "rpmsg-sim ctl: usage: rpmsg-sim ctl MOUNTDIR COMMAND [ARGS...]\n";
        return 2;
    }
    std::string path = std::string(argv[1]) + "/.rpmsg-sim/control";
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        std::cerr << "rpmsg-sim ctl: cannot open " << path << ": " << strerror(errno)
                  << " (is rpmsg-sim running on " << argv[1] << ", and are you root?)\n";
        return 1;
    }
    nlohmann::json args = nlohmann::json::array();
    for (int i = 2; i < argc; ++i) {
        args.push_back(argv[i]);
    }
    std::string msg = args.dump();
    if (write(fd, msg.data(), msg.size()) != ssize_t(msg.size())) {
        std::cerr << "rpmsg-sim ctl: write to " << path << ": " << strerror(errno) << "\n";
        close(fd);
        return 1;
    }
    std::string reply;
    char buf[65536];
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, off);
        if (n < 0) {
            std::cerr << "rpmsg-sim ctl: read " << path << ": " << strerror(errno) << "\n";
            close(fd);
            return 1;
        }
        if (n == 0) {
            break;
        }
        reply.append(buf, size_t(n));
        off += n;
    }
    close(fd);
    if (reply.rfind("ok\n", 0) == 0) {
        std::cout << reply.substr(3);
        return 0;
    }
    std::string err = reply.rfind("error: ", 0) == 0 ? reply.substr(7) : reply;
    while (!err.empty() && err.back() == '\n') {
        err.pop_back();
    }
    std::cerr << "rpmsg-sim ctl: " << (err.empty() ? "no answer from the simulator" : err) << "\n";
    return 1;
}

int runSim(int argc, char** argv) {
    std::string mountpoint, configPath, kernel, firmwareDir = "/lib/firmware";
    bool wantUevents = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* opt) -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "rpmsg-sim: " << opt << " needs a value\n";
                exit(2);
            }
            return argv[++i];
        };
        if (a == "--config") {
            configPath = value("--config");
        } else if (a == "--kernel") {
            kernel = value("--kernel");
        } else if (a == "--firmware-dir") {
            firmwareDir = value("--firmware-dir");
        } else if (a == "--uevents") {
            wantUevents = true;
        } else if (!a.empty() && a[0] == '-') {
            std::cerr << "rpmsg-sim: unknown option " << a << " (see --help)\n";
            return 2;
        } else if (mountpoint.empty()) {
            mountpoint = a;
        } else {
            std::cerr << "rpmsg-sim: unexpected argument " << a << " (see --help)\n";
            return 2;
        }
    }
    if (mountpoint.empty()) {
        std::cerr << "rpmsg-sim: no MOUNTDIR given (see --help)\n";
        return 2;
    }
    SimConfig config = defaultSimConfig();
    if (!configPath.empty()) {
        std::ifstream in(configPath);
        if (!in) {
            std::cerr << "rpmsg-sim: cannot read " << configPath << ": " << strerror(errno) << "\n";
            return 1;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        std::string error;
        if (!parseSimConfig(ss.str(), config, error)) {
            std::cerr << "rpmsg-sim: " << configPath << ": " << error << "\n";
            return 1;
        }
    }
    if (!kernel.empty()) {
        if (kernel != "6.12" && kernel != "6.6" && kernel != "6.1" && kernel != "5.15") {
            std::cerr << "rpmsg-sim: --kernel " << kernel << ": expected 6.12, 6.6, 6.1 or 5.15\n";
            return 2;
        }
        config.kernel = kernel;
    }
    struct stat st {};
    if (stat(mountpoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        std::cerr << "rpmsg-sim: " << mountpoint << " is not a directory\n";
        return 1;
    }
    std::unique_ptr<UeventSender> uevents;
    if (wantUevents) {
        uevents = std::make_unique<UeventSender>();
        std::string error;
        if (!uevents->open(error)) {
            std::cerr << "rpmsg-sim: --uevents refused: " << error << "\n";
            return 1;
        }
    }

    sd_event* event = newCommandLoop();
    if (!event) {
        std::cerr << "rpmsg-sim: cannot create the event loop\n";
        return 1;
    }
    int rc = 0;
    {
        Scheduler scheduler(event);
        Vfs vfs;
        Simulator sim(vfs, scheduler, config, firmwareDir, uevents.get());
        sim.start();
        auto ctlDir = vfs.dir(vfs.root(), ".rpmsg-sim", 0700);
        vfs.file(ctlDir, "control", 0600, 0,
                 [&sim](int, uint32_t, std::unique_ptr<FileHandle>& out) -> int {
                     out = std::make_unique<ControlHandle>(sim);
                     return 0;
                 });
        FuseServer server(vfs, scheduler, event);
        std::string error;
        if (!server.mount(mountpoint, error)) {
            std::cerr << "rpmsg-sim: " << error << "\n";
            rc = 1;
        } else {
            std::cout << "ready " << mountpoint << std::endl;
            int r = sd_event_loop(event);
            if (r < 0) {
                std::cerr << "rpmsg-sim: event loop failed: " << strerror(-r) << "\n";
                rc = 1;
            }
            sim.shutdown();
            server.unmount();
        }
    }
    sd_event_unref(event);
    return rc;
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 2) {
        std::string first = argv[1];
        if (first == "-h" || first == "--help") {
            std::cout << Usage;
            return 0;
        }
        if (first == "--version") {
            std::cout << "rpmsg-sim " << RPMSGD_VERSION << "\n";
            return 0;
        }
        if (first == "ctl") {
            return runCtl(argc - 1, argv + 1);
        }
        if (first == "mkfw") {
            return runMkfw(argc - 1, argv + 1);
        }
        if (first == "remote") {
            return runRemote(argc - 1, argv + 1);
        }
    }
    return runSim(argc, argv);
}
