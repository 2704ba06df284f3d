#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""The INSTALLED bus policy on a private system-type dbus-daemon: only root may own
org.rpmsgd.Broker1; nobody may call every interface the policy lists (answered by the real
rpmsgd, on an empty fake kernel); the rules open nothing else (other interfaces, calls without
an interface, other destinations); every allow rule is an own rule for root or names
send_destination. Root only (it drops to nobody); skips otherwise.

Usage: policy_test.py BUILDDIR --dir NAME=PATH...
       policy_test.py --client ADDRESS own NAME | call DEST PATH IFACE|- MEMBER [SIG ARGS_JSON]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import busenv
import cases
from busenv import Bus, fake_kernel, stop, system_defaults, wait_for, world_readable_copies
from cases import Cases, Skip, meson_install, parse_dirs, run, staged

NAME = "org.rpmsgd.Broker1"
ROOT_PATH = "/org/rpmsgd/Broker1"
OTHER = "org.rpmsgd.Test.Other"  # another root service; the test config lets root own it
NOBODY = 65534
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"


def client(argv):
    """Runs one bus operation (as whoever runs us) and prints {"ok": ...} or {"error": ...}."""
    import dbus
    address, action = argv[0], argv[1]
    bus = dbus.bus.BusConnection(address)
    try:
        if action == "own":
            result = int(bus.request_name(argv[2], dbus.bus.NAME_FLAG_DO_NOT_QUEUE))
        else:
            dest, path, iface, member = argv[2:6]
            sig, args = (argv[6], json.loads(argv[7])) if len(argv) > 7 else ("", [])
            result = str(bus.call_blocking(dest, path, None if iface == "-" else iface, member,
                                           sig, args, timeout=20))
        print(json.dumps({"ok": result}))
    except dbus.exceptions.DBusException as e:
        print(json.dumps({"error": e.get_dbus_name(), "message": e.get_dbus_message()}))
    return 0


# This script as the other users run it: a world-readable copy with the modules it imports.
CLIENT_SCRIPT = [os.path.abspath(__file__)]


def as_user(uid, address, *args):
    r = run([sys.executable, CLIENT_SCRIPT[0], "--client", address] + list(args), user=uid,
            group=uid, extra_groups=[], cwd="/")
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError("client %s as uid %d failed:\n%s" % (args, uid, r.stdout))


def expect_ok(res, what):
    assert "ok" in res, "%s: %s" % (what, res)
    return res["ok"]


def expect_denied(res, what):
    assert res.get("error") == ACCESS_DENIED, "%s: want AccessDenied, got %s" % (what, res)


def static_rules(policy_file):
    """Every <allow>: own="NAME" for user root, or send_destination="NAME"; no deny needed."""
    tree = ET.parse(policy_file)
    interfaces = []
    rules = 0
    for policy in tree.getroot().iter("policy"):
        for allow in policy.iter("allow"):
            rules += 1
            a = dict(allow.attrib)
            if "own" in a or "own_prefix" in a:
                assert policy.attrib == {"user": "root"} and a == {"own": NAME}, (
                    "own rule %s in <policy %s>: only root may own exactly %s" %
                    (a, policy.attrib, NAME))
                continue
            assert a.get("send_destination") == NAME, (
                "allow rule %s in <policy %s> has no send_destination=\"%s\"" %
                (a, policy.attrib, NAME))
            assert set(a) <= {"send_destination", "send_interface"}, (
                "allow rule %s: unexpected attributes" % a)
            assert "send_interface" in a, "allow rule %s opens every interface" % a
            interfaces.append(a["send_interface"])
    assert rules, "no allow rules in " + policy_file
    return interfaces


def main():
    if sys.argv[1:2] == ["--client"]:
        return client(sys.argv[2:])
    dirs, rest = parse_dirs(sys.argv[1:])
    (builddir,) = rest
    c = Cases("Policy")
    work = tempfile.mkdtemp(prefix="rpmsgd-policy-")
    os.chmod(work, 0o755)  # nobody connects to the socket inside
    copies = world_readable_copies(__file__, busenv.__file__, cases.__file__)
    CLIENT_SCRIPT[0] = os.path.join(copies, os.path.basename(__file__))
    bus = daemon = None
    try:
        destdir = os.path.join(work, "destdir")
        c.run("MesonInstallToDestdir", meson_install, builddir, destdir)
        policy = staged(destdir, dirs["dbus_policydir"] + "/" + NAME + ".conf")
        interfaces = []
        c.run("EveryAllowRuleHasSendDestination", lambda: interfaces.extend(static_rules(policy)))

        names = ["RootCanOwnName", "NobodyCannotOwnName", "NobodyCanCallBroker",
                 "NobodyReachesEveryListedInterface", "NobodyCannotUseOtherInterfaces",
                 "NobodyCannotSendToOtherDestinations"]
        if os.geteuid() != 0:
            for n in names:
                c.skip(n, "needs root (to drop to nobody and own names on a system-type bus)")
            return c.finish()

        body = ("  <type>system</type>\n" + system_defaults() +
                "  <policy user=\"root\"><allow own=\"%s\"/></policy>\n" % OTHER +
                "  <include>%s</include>\n" % policy)
        busdir = os.path.join(work, "bus")
        os.makedirs(busdir)
        bus = Bus(busdir, body)
        addr = bus.address

        c.run("RootCanOwnName", lambda: (
            expect_ok(as_user(0, addr, "own", NAME), "root RequestName") == 1 or
            (_ for _ in ()).throw(AssertionError("root RequestName did not make it the owner"))))
        c.run("NobodyCannotOwnName",
              lambda: expect_denied(as_user(NOBODY, addr, "own", NAME), "nobody RequestName"))

        # The real daemon answers; the name is free again (the root client above has exited).
        import dbus
        kernel = os.path.join(work, "kernel")
        config = fake_kernel(kernel)
        log = open(os.path.join(work, "rpmsgd.log"), "w+")
        daemon = subprocess.Popen([os.path.join(builddir, "daemon", "rpmsgd"), "--config", config],
                                  stdout=log, stderr=subprocess.STDOUT,
                                  env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=addr))
        root_bus = dbus.bus.BusConnection(addr)
        try:
            wait_for(lambda: root_bus.name_has_owner(NAME) or daemon.poll() is not None,
                     "rpmsgd to own " + NAME)
        except AssertionError:
            pass
        if not root_bus.name_has_owner(NAME):
            log.seek(0)
            for n in names[2:]:
                c.run(n, lambda: (_ for _ in ()).throw(
                    AssertionError("rpmsgd did not take the name:\n" + log.read())))
            return c.finish()
        root_bus.request_name(OTHER, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
        assert root_bus.name_has_owner(OTHER)

        def nobody_calls():
            out = expect_ok(as_user(NOBODY, addr, "call", NAME, ROOT_PATH,
                                    "org.rpmsgd.Broker1.Manager", "ListProcessors"),
                            "nobody Manager.ListProcessors")
            assert out == "dbus.Array([], signature=dbus.Signature('o'))" or "Array" in out, out
            expect_ok(as_user(NOBODY, addr, "call", NAME, ROOT_PATH,
                              "org.freedesktop.DBus.Properties", "GetAll", "s",
                              '["org.rpmsgd.Broker1.Manager"]'), "nobody Properties.GetAll")
        c.run("NobodyCanCallBroker", nobody_calls)

        def every_interface():
            assert interfaces, "no interfaces parsed from the policy"
            for iface in interfaces:
                # A member no interface has: the daemon's error proves the bus delivered it.
                res = as_user(NOBODY, addr, "call", NAME, ROOT_PATH, iface, "PolicyProbe")
                assert res.get("error", "").startswith("org.freedesktop.DBus.Error.Unknown"), (
                    "%s.PolicyProbe from nobody: want the daemon's Unknown* error, got %s" %
                    (iface, res))
        c.run("NobodyReachesEveryListedInterface", every_interface)

        def other_interfaces():
            expect_denied(as_user(NOBODY, addr, "call", NAME, ROOT_PATH, "org.example.NotOurs",
                                  "Anything"), "nobody org.example.NotOurs on " + NAME)
            expect_denied(as_user(NOBODY, addr, "call", NAME, ROOT_PATH, "-", "ListProcessors"),
                          "nobody call without an interface")
        c.run("NobodyCannotUseOtherInterfaces", other_interfaces)

        def other_destinations():
            for dest in (OTHER, root_bus.get_unique_name()):
                for iface in interfaces:
                    expect_denied(as_user(NOBODY, addr, "call", dest, ROOT_PATH, iface, "Probe"),
                                  "nobody %s to %s" % (iface, dest))
        c.run("NobodyCannotSendToOtherDestinations", other_destinations)
        root_bus.close()
    finally:
        if daemon:
            stop(daemon.pid)
            daemon.wait()
        if bus:
            bus.close()
        shutil.rmtree(copies, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
