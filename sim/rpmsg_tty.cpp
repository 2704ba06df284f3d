// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/tty/rpmsg_tty.c (Linux 6.1): a channel named rpmsg-tty becomes a tty, /dev/ttyRPMSGn,
// n from the driver's idr (lowest free from 0). Bytes written to the tty go to the remote as
// messages of at most the MTU (rpmsg_trysend); what the remote sends is pushed into the tty's
// flip buffer as bytes (rpmsg_tty_cb). At remove the tty is hung up (tty_port_tty_hangup) and
// unregistered. Not in the 5.15 profile (the driver came in 5.16).
//
// The tty itself is a pty the sim owns: the slave is the device the user opens (the twin's
// /dev/ttyRPMSGn is an absolute symlink to /dev/pts/N, so opens get the real tty layer), the
// master is the driver side. Closing the master hangs the slave up (pty_close calls
// tty_vhangup on the other side), which is what rpmsg_tty_remove does to its holders.

#include "kernel_model_impl.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace rpmsgsim {

namespace {

/// A dynamic major as the kernel would give rpmsg_tty (major = 0 in rpmsg_tty_init).
constexpr int TtyMajor = 236;

} // namespace

struct TtyPort {
    Simulator::Impl* sim = nullptr;
    int index = -1;
    std::string name; // ttyRPMSGn
    int master = -1;
    int slave = -1; // the sim's own open slave: the pty keeps working between holders
    std::string slavePath;
    sd_event_source* masterSource = nullptr;
    sd_event_source* slaveSource = nullptr;
    Timer retry; // no TX buffer: read the master again later
    std::weak_ptr<Vdev> vdev;
    std::shared_ptr<Eptdev> ept; // the channel's endpoint (rpmsg_dev_probe), no eptdev node
    NodePtr dir, classLink, devNode;
    DeviceInfo info;

    ~TtyPort() { close(); }

    void close() {
        retry.cancel();
        for (auto* s : {&masterSource, &slaveSource}) {
            if (*s) {
                sd_event_source_disable_unref(*s);
                *s = nullptr;
            }
        }
        for (int* fd : {&master, &slave}) {
            if (*fd >= 0) {
                ::close(*fd);
                *fd = -1;
            }
        }
    }

    /// The kernel's init_termios: tty_std_termios without ECHO, ICANON, OPOST, ONLCR.
    void applyTermios() const {
        termios t{};
        if (tcgetattr(slave, &t) != 0) {
            return;
        }
        t.c_iflag = ICRNL | IXON;
        t.c_oflag = 0;
        t.c_cflag = B38400 | CS8 | CREAD | HUPCL;
        t.c_lflag = ISIG | IEXTEN | ECHOE | ECHOK | ECHOCTL | ECHOKE;
        cfsetispeed(&t, B38400);
        cfsetospeed(&t, B38400);
        tcsetattr(slave, TCSANOW, &t);
    }

    bool openSlave() {
        slave = ::open(slavePath.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (slave < 0) {
            return false;
        }
        sd_event_add_io(sim->sched.event(), &slaveSource, slave, EPOLLHUP, onSlaveHup, this);
        return true;
    }

    /// Someone hung the tty up (TIOCVHANGUP, as rpmsgd does when a lease ends): the sim's own
    /// file is hung up with the others; it opens a fresh one so the port stays usable, and
    /// sets the driver's termios again (a pty's hangup resets them: TTY_DRIVER_RESET_TERMIOS,
    /// which rpmsg_tty does not set).
    static int onSlaveHup(sd_event_source*, int, uint32_t, void* userdata) {
        auto* t = static_cast<TtyPort*>(userdata);
        sd_event_source_disable_unref(t->slaveSource);
        t->slaveSource = nullptr;
        ::close(t->slave);
        t->slave = -1;
        if (t->openSlave()) {
            t->applyTermios();
        }
        return 0;
    }

    /// The user wrote to the tty: rpmsg_tty_write sends at most the MTU per message.
    static int onMaster(sd_event_source*, int, uint32_t, void* userdata) {
        static_cast<TtyPort*>(userdata)->pump();
        return 0;
    }

    void pump() {
        auto v = vdev.lock();
        if (!v || !v->alive || !ept || !ept->addr) {
            return;
        }
        while (v->txFree > 0) {
            std::vector<uint8_t> buf(rpmsg::Mtu);
            ssize_t n = ::read(master, buf.data(), buf.size());
            if (n <= 0) {
                if (n < 0 && errno == EIO) {
                    // No slave open for a moment (between a hangup and the reopen): wait.
                    pause(20);
                }
                return;
            }
            buf.resize(size_t(n));
            sim->sendToRemote(v, ept, std::move(buf));
        }
        // rpmsg_trysend() would fail with ENOMEM; here the bytes wait in the pty instead.
        pause(10);
    }

    void pause(uint64_t ms) {
        if (retry.pending()) {
            return;
        }
        sd_event_source_set_enabled(masterSource, SD_EVENT_OFF);
        retry = sim->sched.after(ms, [this] {
            sd_event_source_set_enabled(masterSource, SD_EVENT_ON);
            pump();
        });
    }

    /// rpmsg_tty_cb(): the remote's bytes into the tty; what does not fit is lost.
    void receive(std::span<const uint8_t> data) {
        if (data.empty() || master < 0) {
            return;
        }
        ssize_t n = ::write(master, data.data(), data.size());
        if (n < ssize_t(data.size())) {
            sim->log(name + ": Trunc buffer: available space is " + std::to_string(n < 0 ? 0 : n));
        }
    }
};

bool Simulator::Impl::ttyProbe(const std::shared_ptr<Vdev>& v,
                               const std::shared_ptr<BusDevice>& b) {
    if (!profile.rpmsgTty || b->name != TtyServiceName) {
        return false;
    }
    auto t = std::make_shared<TtyPort>();
    t->sim = this;
    t->vdev = v;
    t->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    char path[64];
    if (t->master < 0 || grantpt(t->master) != 0 || unlockpt(t->master) != 0 ||
        ptsname_r(t->master, path, sizeof path) != 0) {
        log(b->devName + ": Failed to alloc tty port: " + strerror(errno));
        return false;
    }
    t->slavePath = path;
    if (!t->openSlave()) {
        log(b->devName + ": Failed to register tty port: " + strerror(errno));
        return false;
    }
    // The device node's default mode (no udev rule): root only.
    fchmod(t->slave, 0600);
    t->applyTermios();
    sd_event_add_io(sched.event(), &t->masterSource, t->master, EPOLLIN, TtyPort::onMaster,
                    t.get());

    // rpmsg_dev_probe() creates the channel's endpoint (with the driver's callback) first.
    t->ept = std::make_shared<Eptdev>();
    t->ept->name = b->name;
    t->ept->dst = b->dst;
    t->ept->vdev = v;
    t->ept->defaultEndpoint = true;
    std::weak_ptr<TtyPort> weak = t;
    t->ept->onReceive = [weak](std::span<const uint8_t> data) {
        if (auto st = weak.lock()) {
            st->receive(data);
        }
    };
    if (auto a = claimAddress(v, b->src, t->ept)) {
        t->ept->addr = *a;
        t->ept->src = *a;
        b->src = *a;
    }

    t->index = ttyIdr.alloc();
    t->name = "ttyRPMSG" + std::to_string(t->index);
    // tty_port_register_device(): a tty class device below the channel device.
    t->dir = vfs.dir(vfs.dir(b->dir, "tty"), t->name);
    t->info = {"tty",
               {{"MAJOR", std::to_string(TtyMajor)},
                {"MINOR", std::to_string(t->index)},
                {"DEVNAME", t->name}}};
    std::string devnum = std::to_string(TtyMajor) + ":" + std::to_string(t->index);
    roAttr(t->dir, "dev", [devnum] { return devnum + "\n"; });
    deviceFiles(t->dir, "/sys/class/tty", std::make_shared<DeviceInfo>(t->info));
    vfs.symlink(t->dir, "device", b->dir->path());
    t->classLink = vfs.symlink(sysClassTty, t->name, t->dir->path());
    t->devNode = vfs.absoluteSymlink(devDir, t->name, t->slavePath);
    b->tty = t;
    log(b->devName + ": New channel: " + hex(b->src) + " -> " + hex(b->dst) + ": " + t->name);
    emit("add", t->dir, t->info);
    return true;
}

void Simulator::Impl::ttyRemove(const std::shared_ptr<BusDevice>& b) {
    auto t = std::move(b->tty);
    log(b->devName + ": Removing rpmsg tty device " + std::to_string(t->index));
    // tty_port_tty_hangup(): closing the master hangs the slave up for every holder (reads
    // give 0, writes EIO).
    t->close();
    releaseAddress(t->ept);
    t->ept->onReceive = nullptr;
    emit("remove", t->dir, t->info);
    vfs.remove(t->devNode);
    vfs.remove(t->classLink);
    vfs.remove(t->dir);
    ttyIdr.release(t->index);
}

} // namespace rpmsgsim
