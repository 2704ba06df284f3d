#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""A Python (python3-dbus) client of API 1.1's remote logs: rpmsgd over rpmsg-sim, on a private
system-type bus with the repository's bus policy, follows a processor whose firmware writes
"trace line N" every 20 ms; the client, as nobody, reads Manager.ApiVersion, starts nothing
(root starts the processor) and receives Processor.TraceLines with the counted lines in order.
Root only (mounts rpmsg-sim over FUSE, drops to nobody); skips otherwise.

Usage: trace_lines_test.py BUILDDIR REPO_DBUS_POLICY
       trace_lines_test.py --client ADDRESS PROCESSOR_PATH
"""
import json
import os
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
PROC_IFACE = "org.rpmsgd.Broker1.Processor"
NOBODY = 65534


def client(address, path):
    """As whoever runs us: ApiVersion, then TraceLines until line 10; prints JSON."""
    import dbus
    import dbus.mainloop.glib
    from gi.repository import GLib
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    manager = bus.get_object(NAME, ROOT_PATH)
    api = str(manager.Get("org.rpmsgd.Broker1.Manager", "ApiVersion",
                          dbus_interface="org.freedesktop.DBus.Properties"))
    got = []
    loop = GLib.MainLoop()

    def on_lines(index, lines, path=None):
        got.extend("%d:%s" % (int(index), str(line)) for line in lines)
        if any(line.endswith(":trace line 10") for line in got):
            loop.quit()

    bus.add_signal_receiver(on_lines, signal_name="TraceLines", dbus_interface=PROC_IFACE,
                            bus_name=NAME, path=path, path_keyword="path")
    print(json.dumps({"subscribed": True}), flush=True)
    GLib.timeout_add_seconds(20, loop.quit)
    loop.run()
    print(json.dumps({"api": api, "lines": got}), flush=True)
    return 0


def run(builddir, policy, cases):
    try:
        import dbus  # noqa: F401
        from gi.repository import GLib  # noqa: F401
    except ImportError as e:
        raise Skip("python3-dbus or python3-gi missing: %s" % e)
    if os.geteuid() != 0:
        raise Skip("needs root (mounts rpmsg-sim, drops to nobody)")
    if not os.path.exists("/dev/fuse"):
        raise Skip("no /dev/fuse")
    sim_bin = os.path.join(builddir, "sim", "rpmsg-sim")
    rpmsgd_bin = os.path.join(builddir, "daemon", "rpmsgd")
    with tempfile.TemporaryDirectory(prefix="rpmsgd-trace-") as tmp:
        os.chmod(tmp, 0o755)
        fw, mnt, state = (os.path.join(tmp, d) for d in ("fw", "mnt", "state"))
        for d in (fw, mnt, state):
            os.makedirs(d)
        spec = os.path.join(tmp, "spec.json")
        with open(spec, "w") as f:
            json.dump({"boot_ms": 10, "trace": ["boot ok"], "trace_every_ms": 20,
                       "services": [{"name": "rpmsg-echo", "addr": 1024, "kind": "echo"}]}, f)
        subprocess.run([sim_bin, "mkfw", "--spec", spec, "--out", os.path.join(fw, "trace.elf")],
                       check=True, stdout=subprocess.DEVNULL)
        simcfg = os.path.join(tmp, "sim.json")
        with open(simcfg, "w") as f:
            json.dump({"kernel": "6.6", "processors": [
                {"name": "cm4", "firmware": "trace.elf", "recovery": "enabled",
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
                                     "state_interval_ms": 50, "trace_interval_ms": 100}}, f)
            log = open(os.path.join(tmp, "rpmsgd.log"), "w+")
            children.append(subprocess.Popen(
                [rpmsgd_bin, "--config", config], stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)))
            import dbus
            root = dbus.bus.BusConnection(bus.address)
            wait_for(lambda: root.name_has_owner(NAME), "rpmsgd on the bus", 20)
            manager = dbus.Interface(root.get_object(NAME, ROOT_PATH), "org.rpmsgd.Broker1.Manager")
            path = str(manager.GetProcessor("cm4"))
            # nobody runs a copy: the checkout may sit where only root may enter.
            copies = world_readable_copies(__file__, busenv.__file__, cases_module.__file__)
            children_dirs.append(copies)
            listener = subprocess.Popen(
                [sys.executable, os.path.join(copies, os.path.basename(__file__)), "--client",
                 bus.address, path],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, user=NOBODY,
                group=NOBODY, extra_groups=[], cwd="/")
            first = listener.stdout.readline()
            assert "subscribed" in first, "the Python client failed:\n" + first + \
                listener.stdout.read()
            dbus.Interface(root.get_object(NAME, path), PROC_IFACE).Start(timeout=20)
            out, _ = listener.communicate(timeout=60)

            def check():
                result = json.loads(out.strip().splitlines()[-1])
                assert result["api"] == "1.1", result
                lines = result["lines"]
                assert lines[:2] == ["0:boot ok", "0:trace line 1"], lines
                numbers = [int(l.split()[-1]) for l in lines if l.startswith("0:trace line ")]
                assert numbers == list(range(1, len(numbers) + 1)), lines
                assert numbers[-1] >= 10, lines
            cases.run("NobodyReceivesTraceLinesInOrder", check)
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
        return client(sys.argv[2], sys.argv[3])
    cases = Cases("TraceLinesPython")
    try:
        run(sys.argv[1], sys.argv[2], cases)
    except Skip as e:
        cases.skip("NobodyReceivesTraceLinesInOrder", str(e))
    return cases.finish()


if __name__ == "__main__":
    sys.exit(main())
