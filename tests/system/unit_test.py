#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""The installed systemd unit: `systemd-analyze verify` is clean, `systemd-analyze security
--offline=true` stays at or below the recorded exposure level, and the settings the daemon and
the issue rely on are present (Type=notify + BusName, watchdog, restart, device allow list, the
writable paths matching the installed config, the activation file pointing at the unit).

Usage: unit_test.py BUILDDIR --dir NAME=PATH...

systemd-analyze runs with --root= on a scratch root: the DESTDIR install plus a copy of the
host's unit directory (targets and dbus.socket that the unit orders against) and /usr/bin/kill
(ExecReload=), so that ExecStart= is checked against the installed binary.
"""
import json
import os
import re
import shutil
import sys
import tempfile

from cases import Cases, Skip, meson_install, parse_dirs, run, staged

# The exposure level reached (systemd 252, `systemd-analyze security --offline=true`). Raise it
# only with a reason in the unit's comments; lower it when the unit gets tighter.
MAX_EXPOSURE = 1.6
UNIT = "rpmsgd.service"
HOST_UNITS = "/usr/lib/systemd/system"


def make_root(builddir, root):
    for d in ("usr/lib/systemd", "usr/bin", "usr/sbin"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for link in ("lib", "bin", "sbin"):  # merged /usr, as on Debian 12
        os.symlink("usr/" + link, os.path.join(root, link))
    shutil.copytree(HOST_UNITS, os.path.join(root, HOST_UNITS.lstrip("/")), symlinks=True)
    shutil.copy("/usr/bin/kill", os.path.join(root, "usr/bin/kill"))
    destdir = os.path.join(root, ".destdir")
    meson_install(builddir, destdir)
    shutil.copytree(destdir, root, symlinks=True, dirs_exist_ok=True)
    shutil.rmtree(destdir)


def unit_settings(path):
    """[Section] Key=value pairs of a unit file; repeated keys collect into lists."""
    out, section = {}, None
    for raw in open(path):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault((section, key.strip()), []).append(value.strip())
    return out


def main():
    dirs, rest = parse_dirs(sys.argv[1:])
    (builddir,) = rest
    c = Cases("Unit")
    if not shutil.which("systemd-analyze"):
        c.skip("All", "systemd-analyze is not installed (Debian package systemd)")
        return c.finish()
    if not os.path.isdir(HOST_UNITS):
        c.skip("All", HOST_UNITS + " is missing: no systemd units to verify against")
        return c.finish()
    root = tempfile.mkdtemp(prefix="rpmsgd-unit-")
    try:
        c.run("InstallIntoScratchRoot", make_root, builddir, root)
        unit_path = dirs["unitdir"] + "/" + UNIT
        unit_file = staged(root, unit_path)

        def verify():
            man = staged(root, dirs["mandir"])
            env = dict(os.environ, MANPATH=man)
            # --man=yes (Documentation= must resolve) once the man pages are installed.
            r = run(["systemd-analyze", "verify", "--root=" + root,
                     "--man=" + ("yes" if os.path.isdir(man) else "no"), unit_path], env=env)
            # verify exits 0 on warnings such as unknown keys, so any output is a failure too.
            assert r.returncode == 0 and not r.stdout.strip(), (
                "systemd-analyze verify %s (exit %d):\n%s" % (unit_path, r.returncode, r.stdout))
        c.run("SystemdAnalyzeVerify", verify)

        def security():
            r = run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                     "--root=" + root, unit_path])
            m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
            assert m, "no exposure level in:\n" + r.stdout
            level = float(m.group(1))
            print("    exposure level: %.1f (limit %.1f)" % (level, MAX_EXPOSURE))
            assert level <= MAX_EXPOSURE, (
                "exposure level %.1f is above %.1f; the unit got weaker:\n%s" %
                (level, MAX_EXPOSURE, r.stdout))
            # systemd's own gate agrees (--threshold is on the 0..100 scale).
            t = run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                     "--root=" + root, "--threshold=%d" % round(MAX_EXPOSURE * 10), unit_path])
            assert t.returncode == 0, "--threshold=%d failed:\n%s" % (
                round(MAX_EXPOSURE * 10), t.stdout)
        c.run("SecurityExposureAtMostRecorded", security)

        def settings():
            s = unit_settings(unit_file)
            want = {
                ("Service", "Type"): ["notify"],
                ("Service", "BusName"): ["org.rpmsgd.Broker1"],
                ("Service", "Restart"): ["on-failure"],
                ("Service", "ProtectSystem"): ["strict"],
                ("Service", "NoNewPrivileges"): ["yes"],
                ("Service", "DevicePolicy"): ["closed"],
                ("Service", "CapabilityBoundingSet"): [""],
            }
            for key, value in want.items():
                assert s.get(key) == value, "%s=%s, want %s" % (key[1], s.get(key), value)
            assert s.get(("Service", "WatchdogSec")), "no WatchdogSec="
            # The fd store must hold a copy of every endpoint (limits.endpoints_total, 1024 by
            # default) for the next instance to destroy them after a crash.
            store = s.get(("Service", "FileDescriptorStoreMax"), ["0"])
            assert int(store[-1]) >= 1024, "FileDescriptorStoreMax=%s < 1024" % store
            allow = s.get(("Service", "DeviceAllow"), [])
            for dev in ("char-rpmsg_ctrl rw", "char-rpmsg_char rw"):
                assert dev in allow, "DeviceAllow=%s missing (have %s)" % (dev, allow)
            exec_start = s[("Service", "ExecStart")][0].split()
            assert exec_start[0] == dirs["sbindir"] + "/rpmsgd", exec_start
            assert os.access(staged(root, exec_start[0]), os.X_OK), "ExecStart= not installed"
            config = exec_start[exec_start.index("--config") + 1]
            assert os.path.isfile(staged(root, config)), "the --config file is not installed"
            # The writable paths are the ones the installed config makes the daemon write.
            cfg = json.load(open(staged(root, config)))
            rw = " ".join(s.get(("Service", "ReadWritePaths"), []))
            assert cfg["paths"]["firmware"] + "/rpmsgd" in rw.split(), (
                "firmware upload dir not in ReadWritePaths=%s" % rw)
            state = cfg["paths"]["state"]
            state_dirs = s.get(("Service", "StateDirectory"), [])
            assert state in rw.split() or (state.startswith("/var/lib/") and
                                           state[len("/var/lib/"):] in state_dirs), (
                "state dir %s is neither in ReadWritePaths= nor StateDirectory=" % state)
        c.run("UnitSettingsMatchInstall", settings)

        def activation():
            path = staged(root, dirs["dbus_system_servicesdir"] + "/org.rpmsgd.Broker1.service")
            lines = [l.strip() for l in open(path) if l.strip() and not l.startswith("#")]
            assert lines[0] == "[D-BUS Service]", lines
            kv = dict(l.split("=", 1) for l in lines[1:])
            assert kv == {"Name": "org.rpmsgd.Broker1", "Exec": "/bin/false", "User": "root",
                          "SystemdService": UNIT}, kv
        c.run("ActivationFileNamesUnit", activation)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
