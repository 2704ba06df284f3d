#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""Rehearses the unit's privilege limits without systemd: the daemon integration cases that
touch the kernel interfaces (processor lifecycle, firmware upload, core dumps, channels,
endpoints) run again with rpmsgd started as root but with an empty capability bounding set and
no_new_privs, as rpmsgd.service does (CapabilityBoundingSet=, NoNewPrivileges=yes). A marker
written from inside the sandbox, just before exec, proves each daemon ran with CapEff 0.

The GoogleTest report is written under this script's name so the summary counts these cases
separately from the normal daemon-integration run. Root only; skips otherwise.

Usage: unprivileged_daemon_test.py BUILDDIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

FILTER = "Processor.*:Channel.*:Endpoint.*:LoadFirmware.*:Coredumps.*"


def main():
    (builddir,) = sys.argv[1:]
    if os.geteuid() != 0:
        print("SKIP: needs root (the integration cases mount rpmsg-sim and drop to nobody)")
        return 77
    if not shutil.which("setpriv"):
        print("SKIP: setpriv is not installed (Debian package util-linux)")
        return 77
    rpmsgd = os.path.join(builddir, "daemon", "rpmsgd")
    work = tempfile.mkdtemp(prefix="rpmsgd-capless-")
    try:
        os.chmod(work, 0o755)
        marker = os.path.join(work, "capless-starts")
        wrapper = os.path.join(work, "rpmsgd-capless")
        with open(wrapper, "w") as f:
            # setpriv and sh both exec, so the pid the harness started is rpmsgd's.
            f.write("#!/bin/sh\n"
                    "exec setpriv --no-new-privs --bounding-set=-all --inh-caps=-all "
                    "--ambient-caps=-all -- /bin/sh -c '"
                    "grep -q \"^CapEff:[[:space:]]*0000000000000000$\" /proc/self/status && "
                    "grep -q \"^NoNewPrivs:[[:space:]]*1$\" /proc/self/status && "
                    "echo $$ >> %s; exec \"$0\" \"$@\"' %s \"$@\"\n" % (marker, rpmsgd))
        os.chmod(wrapper, 0o755)
        env = dict(os.environ,
                   RPMSGD=wrapper,
                   RPMSG_SIM=os.path.join(builddir, "sim", "rpmsg-sim"),
                   RPMSGD_POLICY=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                              "..", "..", "dbus", "org.rpmsgd.Broker1.conf"))
        out = env.get("GTEST_OUTPUT", "")
        if out.startswith("json:") and out.endswith("/"):
            env["GTEST_OUTPUT"] = out + os.path.basename(sys.argv[0]) + ".json"
        r = subprocess.run([os.path.join(builddir, "tests", "integration", "daemon-integration"),
                            "--gtest_filter=" + FILTER], env=env)
        starts = open(marker).read().split() if os.path.exists(marker) else []
        print("rpmsgd started %d times without capabilities" % len(starts))
        if not starts:
            print("FAILED: no rpmsgd ran through the capability-less wrapper")
            return 1
        return r.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
