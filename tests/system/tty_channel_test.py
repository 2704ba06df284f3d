#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""A Python (python3-dbus) client of API 1.1's tty channels: rpmsgd over rpmsg-sim, on a private
system-type bus with the repository's bus policy, publishes the firmware's rpmsg-tty service
(bound to the sim's rpmsg_tty) with Kind "tty" and Device "ttyRPMSG0"; the client, as nobody
allowed by a channel rule, reads Kind and Device, calls Channel.Open, gets the tty (isatty),
writes bytes and reads them back (the firmware's tty service echoes), closes the lease and then
reads end of file (the tty was hung up). Root only (mounts rpmsg-sim over FUSE, drops to nobody);
skips otherwise.

Usage: tty_channel_test.py BUILDDIR REPO_DBUS_POLICY
       tty_channel_test.py --client ADDRESS
"""
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile

import busenv
import cases as cases_module
from busenv import Bus, stop, system_defaults, wait_for, world_readable_copies
from cases import Cases, Skip

NAME = "org.rpmsgd.Broker1"
ROOT_PATH = "/org/rpmsgd/Broker1"
CHANNEL_IFACE = "org.rpmsgd.Broker1.Channel"
PROPS = "org.freedesktop.DBus.Properties"
NOBODY = 65534


def read_bytes(fd, want):
    """Reads until want bytes came, end of file ("<eof>"), EIO ("<eio>") or 5 s of nothing."""
    got = b""
    while len(got) < want:
        ready, _, _ = select.select([fd], [], [], 5)
        if not ready:
            return got.decode(errors="replace") + "<timeout>"
        try:
            chunk = os.read(fd, 256)
        except OSError as e:
            return got.decode(errors="replace") + ("<eio>" if e.errno == 5 else "<%s>" % e)
        if not chunk:
            return got.decode(errors="replace") + "<eof>"
        got += chunk
    return got.decode(errors="replace")


def client(address):
    """As whoever runs us: Kind, Device, Open, echo, Close, then the hung-up tty; prints JSON."""
    import dbus
    bus = dbus.bus.BusConnection(address)
    manager = dbus.Interface(bus.get_object(NAME, ROOT_PATH), "org.rpmsgd.Broker1.Manager")
    path = str(manager.WaitForChannel("rpmsg-tty", "cm4", dbus.UInt32(5000)))
    chan = bus.get_object(NAME, path)
    kind = str(chan.Get(CHANNEL_IFACE, "Kind", dbus_interface=PROPS))
    device = str(chan.Get(CHANNEL_IFACE, "Device", dbus_interface=PROPS))
    fd_obj, endpoint, mtu = dbus.Interface(chan, CHANNEL_IFACE).Open(
        dbus.Dictionary({}, signature="sv"))
    fd = fd_obj.take()
    is_tty = os.isatty(fd)
    text = "hello from python\n"
    os.write(fd, text.encode())
    echoed = read_bytes(fd, len(text))
    dbus.Interface(bus.get_object(NAME, str(endpoint)), "org.rpmsgd.Broker1.Endpoint").Close()
    after = read_bytes(fd, 1)
    os.close(fd)
    print(json.dumps({"kind": kind, "device": device, "tty": is_tty, "echoed": echoed,
                      "after_close": after, "uid": os.getuid()}), flush=True)
    return 0


def run(builddir, policy, cases):
    try:
        import dbus  # noqa: F401
    except ImportError as e:
        raise Skip("python3-dbus missing: %s" % e)
    if os.geteuid() != 0:
        raise Skip("needs root (mounts rpmsg-sim, drops to nobody)")
    if not os.path.exists("/dev/fuse"):
        raise Skip("no /dev/fuse")
    sim_bin = os.path.join(builddir, "sim", "rpmsg-sim")
    rpmsgd_bin = os.path.join(builddir, "daemon", "rpmsgd")
    with tempfile.TemporaryDirectory(prefix="rpmsgd-tty-") as tmp:
        os.chmod(tmp, 0o755)
        fw, mnt, state = (os.path.join(tmp, d) for d in ("fw", "mnt", "state"))
        for d in (fw, mnt, state):
            os.makedirs(d)
        spec = os.path.join(tmp, "spec.json")
        with open(spec, "w") as f:
            json.dump({"boot_ms": 10, "trace": ["boot ok"],
                       "services": [{"name": "rpmsg-echo", "addr": 1024, "kind": "echo"},
                                    {"name": "rpmsg-tty", "addr": 30, "kind": "tty"}]}, f)
        subprocess.run([sim_bin, "mkfw", "--spec", spec, "--out", os.path.join(fw, "tty.elf")],
                       check=True, stdout=subprocess.DEVNULL)
        simcfg = os.path.join(tmp, "sim.json")
        with open(simcfg, "w") as f:
            json.dump({"kernel": "6.6", "processors": [
                {"name": "cm4", "firmware": "tty.elf", "recovery": "enabled",
                 "coredump": "disabled", "auto_boot": False}]}, f)
        sim = subprocess.Popen([sim_bin, mnt, "--config", simcfg, "--firmware-dir", fw],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        bus = None
        children = [sim]  # stopped in reverse order
        children_dirs = []
        try:
            ready = sim.stdout.readline()
            assert ready.startswith("ready "), "rpmsg-sim did not start: %r" % ready
            with open(policy) as f:
                body = f.read().split("<busconfig>", 1)[1].rsplit("</busconfig>", 1)[0]
            bus = Bus(tmp, system_defaults() + body)
            config = os.path.join(tmp, "rpmsgd.json")
            with open(config, "w") as f:
                json.dump({"paths": {"sysfs": mnt + "/sys", "dev": mnt + "/dev",
                                     "debugfs": mnt + "/sys/kernel/debug", "firmware": fw,
                                     "state": state},
                           "watch": {"mode": "poll", "poll_interval_ms": 50,
                                     "state_interval_ms": 50},
                           "channels": [{"match": "rpmsg-tty", "processor": "*",
                                         "users": ["nobody"], "groups": []}]}, f)
            log = open(os.path.join(tmp, "rpmsgd.log"), "w+")
            children.append(subprocess.Popen(
                [rpmsgd_bin, "--config", config], stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)))
            import dbus
            root = dbus.bus.BusConnection(bus.address)
            wait_for(lambda: root.name_has_owner(NAME), "rpmsgd on the bus", 20)
            manager = dbus.Interface(root.get_object(NAME, ROOT_PATH), "org.rpmsgd.Broker1.Manager")
            path = str(manager.GetProcessor("cm4"))
            dbus.Interface(root.get_object(NAME, path), "org.rpmsgd.Broker1.Processor").Start(
                timeout=20)
            # nobody runs a copy: the checkout may sit where only root may enter.
            copies = world_readable_copies(__file__, busenv.__file__, cases_module.__file__)
            children_dirs.append(copies)
            out = subprocess.run(
                [sys.executable, os.path.join(copies, os.path.basename(__file__)), "--client",
                 bus.address], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                user=NOBODY, group=NOBODY, extra_groups=[], cwd="/", timeout=60).stdout

            def check():
                assert out.strip(), "the Python client printed nothing"
                result = json.loads(out.strip().splitlines()[-1])
                assert result["kind"] == "tty", out
                assert result["device"] == "ttyRPMSG0", out
                assert result["uid"] == NOBODY, out
                assert result["tty"] is True, out
                assert result["echoed"] == "hello from python\n", out
                assert result["after_close"] in ("<eof>", "<eio>"), out
            cases.run("NobodyOpensTheTtyChannelAndItEchoes", check)
        finally:
            for child in reversed(children):
                if child is sim and bus:
                    bus.close()
                stop(child.pid)
                child.wait()
            subprocess.run(["umount", "-l", mnt], stderr=subprocess.DEVNULL)
            for d in children_dirs:
                shutil.rmtree(d, ignore_errors=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        return client(sys.argv[2])
    cases = Cases("TtyChannelPython")
    try:
        run(sys.argv[1], sys.argv[2], cases)
    except Skip as e:
        cases.skip("NobodyOpensTheTtyChannelAndItEchoes", str(e))
    return cases.finish()


if __name__ == "__main__":
    sys.exit(main())
