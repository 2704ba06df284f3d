// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// `rpmsg-sim remote`: the command line of the vhost-user remote. Reads the firmware image, finds
// its virtio-rpmsg vdev (with or without the name-service feature) and behaviour section, then
// runs a VhostUserRemote on an sd-event loop until the guest goes away or a signal comes.

#include "common/firmware_image.h"
#include "rproc_remote.h"
#include "vhost_user.h"
#include "vhost_user_wire.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include <systemd/sd-event.h>

namespace rpmsgsim {

namespace fw = rpmsgd::fw;
using vhost::HungUpOnRequest;

namespace {

const char* const RemoteUsage =
    "Usage: rpmsg-sim remote --vhost-user SOCKET --firmware FW.elf [--control PATH]\n"
    "                        [--control-fd N]\n"
    "       rpmsg-sim remote --rproc DEVICE\n"
    "\n"
    "With --rproc, plays the firmware of a processor of the real-kernel lane's test remoteproc\n"
    "driver (DEVICE is /dev/virtual-rproc-NAME, inside the guest): each time the kernel starts\n"
    "the processor, runs the services of the image it booted on the vrings the kernel set up.\n"
    "Prints `ready DEVICE`; ends on SIGTERM/SIGINT.\n"
    "\n"
    "Plays the remote processor of a virtio-rpmsg device over vhost-user: listens on SOCKET for\n"
    "one front end (User-Mode Linux's virtio_uml.device=SOCKET:7), then runs the services of\n"
    "FW.elf (an image made by `rpmsg-sim mkfw`) on the guest's vrings. Prints `ready SOCKET` when\n"
    "listening. Ends when the guest goes away, or on SIGTERM/SIGINT.\n"
    "\n"
    "Control (one JSON array of strings per line in, one JSON object per line out):\n"
    "  --control PATH    accept control connections on a UNIX socket\n"
    "  --control-fd N    serve the inherited stream fd N (e.g. a guest serial line)\n"
    "Commands: ping | status | stall | resume | announce NAME ADDR | destroy NAME ADDR |\n"
    "  send SRC DST TEXT | peer ADDR | hangup\n";

} // namespace

int runRemote(int argc, char** argv) {
    std::string socketPath, firmware, controlPath, controlFdText, rprocDevice;
    int controlFd = -1;
    // Every option takes a value.
    const std::map<std::string, std::string*> options = {{"--vhost-user", &socketPath},
                                                         {"--firmware", &firmware},
                                                         {"--control", &controlPath},
                                                         {"--control-fd", &controlFdText},
                                                         {"--rproc", &rprocDevice}};
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::cout << RemoteUsage;
            return 0;
        }
        auto opt = options.find(a);
        if (opt == options.end()) {
            std::cerr << "rpmsg-sim remote: unexpected argument " << a << " (see --help)\n";
            return 2;
        }
        if (i + 1 >= argc) {
            std::cerr << "rpmsg-sim remote: " << a << " needs a value\n";
            return 2;
        }
        *opt->second = argv[++i];
        if (a == "--control-fd") {
            uint32_t n = 0;
            if (!parseU32(controlFdText, n) || n > 1024 || fcntl(int(n), F_GETFD) < 0) {
                std::cerr << "rpmsg-sim remote: --control-fd " << controlFdText
                          << " is not an open fd\n";
                return 2;
            }
            controlFd = int(n);
        }
    }
    if (!rprocDevice.empty()) {
        if (!socketPath.empty() || !firmware.empty() || !controlPath.empty() || controlFd >= 0) {
            std::cerr << "rpmsg-sim remote: --rproc takes no other option (see --help)\n";
            return 2;
        }
        return runRprocRemote(rprocDevice);
    }
    if (socketPath.empty() || firmware.empty()) {
        std::cerr << "rpmsg-sim remote: --vhost-user SOCKET and --firmware FW.elf are required "
                     "(see --help)\n";
        return 2;
    }
    std::ifstream in(firmware, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        std::cerr << "rpmsg-sim remote: cannot read " << firmware << ": " << strerror(errno)
                  << "\n";
        return 1;
    }
    if (bytes.empty()) {
        std::cerr << "rpmsg-sim remote: " << firmware << " is missing or empty\n";
        return 1;
    }
    auto parsed = fw::parse(bytes);
    if (!parsed) {
        std::cerr << "rpmsg-sim remote: " << firmware << ": " << parsed.problem.message << "\n";
        return 1;
    }
    const fw::Resource* vdev = nullptr;
    for (const auto& r : parsed.image->resources) {
        if (r.type == fw::RscVdev && r.id == fw::VirtioIdRpmsg) {
            vdev = &r;
        }
    }
    if (!vdev) {
        std::cerr << "rpmsg-sim remote: " << firmware
                  << " has no virtio-rpmsg vdev in its resource table: nothing to serve\n";
        return 1;
    }
    BehaviourSpec spec;
    if (parsed.image->behaviour) {
        auto b = parseBehaviour(*parsed.image->behaviour);
        if (!b.ok) {
            std::cerr << "rpmsg-sim remote: " << firmware << ": .rpmsg_sim: " << b.error << "\n";
            return 1;
        }
        spec = b.spec;
    }

    sd_event* event = newCommandLoop();
    if (!event) {
        std::cerr << "rpmsg-sim remote: cannot create the event loop\n";
        return 1;
    }
    int rc = 0;
    {
        Scheduler scheduler(event);
        VhostUserRemote remote(event, scheduler, spec, (vdev->dfeatures & fw::VirtioRpmsgFNs) != 0);
        std::string error;
        remote.onDisconnect([&](const std::string& why) {
            // The guest went away: nothing is left to serve. After a requested hang-up the
            // control streams stay up until their other ends close, or a signal comes.
            if (why != HungUpOnRequest) {
                sd_event_exit(event, 0);
            }
        });
        if (!remote.listen(socketPath, error) ||
            (!controlPath.empty() && !remote.listenControl(controlPath, error))) {
            std::cerr << "rpmsg-sim remote: " << error << "\n";
            rc = 1;
        } else {
            if (controlFd >= 0) {
                fcntl(controlFd, F_SETFD, FD_CLOEXEC);
                remote.addControlStream(controlFd);
            }
            rc = vhost::serveReady(event, socketPath);
        }
    }
    sd_event_unref(event);
    return rc;
}

} // namespace rpmsgsim
