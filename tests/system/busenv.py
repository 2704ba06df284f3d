# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""A private dbus-daemon and an rpmsgd on it with an empty fake kernel, for the policy and
activation tests. Processes are tracked by pid and stopped by pid."""
import json
import os
import signal
import subprocess
import time


def system_defaults():
    """The defaults of Debian's system.conf that decide what a policy file adds, shared with the
    C++ harness (tests/harness/system-bus-defaults.xml)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness",
                           "system-bus-defaults.xml")) as f:
        return f.read()


def world_readable_copies(*paths):
    """Copies of paths that any user can read (and run, when executable) in a fresh directory
    under /tmp (mode 0755): what a test runs as another user must not depend on the checkout's
    permissions (it may be in a directory only root may enter). Returns the directory; the caller
    removes it."""
    import shutil
    import tempfile
    work = tempfile.mkdtemp(prefix="rpmsgd-for-nobody-")
    os.chmod(work, 0o755)
    for path in paths:
        copy = os.path.join(work, os.path.basename(path))
        shutil.copyfile(path, copy)
        os.chmod(copy, 0o755 if os.access(path, os.X_OK) else 0o644)
    return work

HEADER = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
"""


def wait_for(cond, what, timeout=30.0):
    """Polls cond() until true; raises AssertionError naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop(pid, timeout=20.0):
    if pid and alive(pid):
        os.kill(pid, signal.SIGTERM)
        try:
            wait_for(lambda: not alive(pid), "pid %d to exit" % pid, timeout)
        except AssertionError:
            os.kill(pid, signal.SIGKILL)


def fake_kernel(root):
    """An empty kernel (no processors yet) and an rpmsgd config pointing at it."""
    paths = {k: os.path.join(root, k) for k in ("sys", "dev", "debug", "firmware", "state")}
    for sub in ("sys/class/remoteproc", "sys/class/rpmsg", "sys/class/devcoredump",
                "sys/bus/rpmsg/devices", "dev", "debug", "firmware", "state"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    config = {
        "paths": {"sysfs": paths["sys"], "dev": paths["dev"], "debugfs": paths["debug"],
                  "firmware": paths["firmware"], "state": paths["state"]},
        "watch": {"mode": "poll", "poll_interval_ms": 200, "state_interval_ms": 200},
    }
    path = os.path.join(root, "rpmsgd.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return path


class Bus:
    """dbus-daemon --nofork on unix:path=DIR/bus with the given config body."""

    def __init__(self, workdir, body, env=None):
        os.chmod(workdir, 0o755)  # nobody must reach the socket
        self.address = "unix:path=" + os.path.join(workdir, "bus")
        self.config = os.path.join(workdir, "bus.conf")
        with open(self.config, "w") as f:
            f.write(HEADER + "  <listen>%s</listen>\n  <auth>EXTERNAL</auth>\n" % self.address
                    + body + "</busconfig>\n")
        self.log = open(os.path.join(workdir, "dbus-daemon.log"), "w+")
        penv = dict(os.environ, **(env or {}))
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--nofork", "--config-file=" + self.config, "--print-address=1"],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=penv)
        line = self.proc.stdout.readline()  # printed once it listens
        if not line.startswith("unix:"):
            self.close()
            raise AssertionError("dbus-daemon did not start:\n" + self.read_log())

    def read_log(self):
        self.log.seek(0)
        return self.log.read()

    def close(self):
        if self.proc:
            stop(self.proc.pid)
            self.proc.wait()
            self.proc = None
