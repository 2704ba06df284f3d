#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""D-Bus activation: a private bus whose service directory holds an activation file for the
built rpmsgd. Nothing owns org.rpmsgd.Broker1 until the first call; that call starts the
daemon (forked by dbus-daemon from the file's Exec= line) and is answered by it; a second call
reaches the same process.

A session-type bus config with <servicedir> is used because system-bus activation needs the
setuid dbus-daemon-launch-helper and /usr/share/dbus-1/system-services. The daemon reaches the
bus through DBUS_SYSTEM_BUS_ADDRESS, inherited from dbus-daemon's environment. No root needed.

Usage: activation_test.py BUILDDIR
"""
import os
import shutil
import sys
import tempfile

from busenv import Bus, alive, fake_kernel, stop, wait_for
from cases import Cases

NAME = "org.rpmsgd.Broker1"
ROOT_PATH = "/org/rpmsgd/Broker1"

# As /usr/share/dbus-1/session.conf (without <allow eavesdrop="true"/> no reply reaches anyone).
SESSION_POLICY = """  <type>session</type>
  <servicedir>%s</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
"""


def main():
    (builddir,) = sys.argv[1:]
    import dbus
    c = Cases("Activation")
    daemon = os.path.realpath(os.path.join(builddir, "daemon", "rpmsgd"))
    work = tempfile.mkdtemp(prefix="rpmsgd-activation-")
    bus = conn = None
    started = []
    try:
        services = os.path.join(work, "services")
        os.makedirs(services)
        config = fake_kernel(os.path.join(work, "kernel"))
        log = os.path.join(work, "rpmsgd.log")
        with open(os.path.join(services, NAME + ".service"), "w") as f:
            # stderr to a file: dbus-daemon would otherwise pass its own on.
            f.write("[D-BUS Service]\nName=%s\nExec=/bin/sh -c 'exec %s --config %s 2>>%s'\n"
                    % (NAME, daemon, config, log))
        busdir = os.path.join(work, "bus")
        os.makedirs(busdir)
        address = "unix:path=" + os.path.join(busdir, "bus")
        bus = Bus(busdir, SESSION_POLICY % services, env={"DBUS_SYSTEM_BUS_ADDRESS": address})
        conn = dbus.bus.BusConnection(bus.address)
        dbus_iface = "org.freedesktop.DBus"

        def call(iface, member, sig="", args=()):
            return conn.call_blocking(NAME, ROOT_PATH, iface, member, sig, args, timeout=30)

        def daemon_log():
            return open(log).read() if os.path.exists(log) else "(no rpmsgd log)"

        def before():
            assert NAME in conn.list_activatable_names(), (
                "%s is not activatable: %s" % (NAME, conn.list_activatable_names()))
            assert not conn.name_has_owner(NAME), "something owns %s before any call" % NAME
        c.run("ActivatableButNotRunning", before)

        def first_call():
            try:
                version = call("org.freedesktop.DBus.Properties", "Get", "ss",
                               ("org.rpmsgd.Broker1.Manager", "Version"))
            except dbus.exceptions.DBusException as e:
                raise AssertionError("first call failed: %s\n%s" % (e, daemon_log()))
            assert str(version), "empty Version"
            pid = int(conn.call_blocking(dbus_iface, "/org/freedesktop/DBus", dbus_iface,
                                         "GetConnectionUnixProcessID", "s", (NAME,)))
            started.append(pid)
            exe = os.path.realpath("/proc/%d/exe" % pid)
            assert exe == daemon, "%s is owned by pid %d running %s, not %s" % (
                NAME, pid, exe, daemon)
        c.run("FirstCallStartsBuiltDaemon", first_call)

        def second_call():
            assert started, "no daemon was started"
            processors = call("org.rpmsgd.Broker1.Manager", "ListProcessors")
            assert list(processors) == [], "processors on an empty kernel: %s" % processors
            pid = int(conn.call_blocking(dbus_iface, "/org/freedesktop/DBus", dbus_iface,
                                         "GetConnectionUnixProcessID", "s", (NAME,)))
            assert pid == started[0], "the second call reached pid %d, not %d" % (pid, started[0])
        c.run("SecondCallSameDaemon", second_call)

        def stops():
            assert started, "no daemon was started"
            stop(started[0])
            wait_for(lambda: not conn.name_has_owner(NAME), NAME + " to be released")
            assert not alive(started[0])
        c.run("DaemonStopsAndReleasesName", stops)
    finally:
        for pid in started:
            stop(pid)
        if conn:
            conn.close()
        if bus:
            bus.close()
        shutil.rmtree(work, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
