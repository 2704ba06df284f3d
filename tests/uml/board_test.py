#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""The kernel's own remoteproc core with our test driver and remote, checked from inside
scripts/virtual-board (tests/uml/README.md, "The virtual board"): nothing of rpmsgd runs here,
only the kernel's sysfs, debugfs, devcoredump and rpmsg char devices, as on a board.

    scripts/virtual-board --kernel 6.12 -- python3 tests/uml/board_test.py -v

Needs RPMSG_SIM (the rpmsg-sim binary) to build the extra images it writes into the firmware
directory (firmware_class.path, writable on the virtual board)."""

import errno
import fcntl
import glob
import os
import struct
import subprocess
import time
import unittest

RPROC = "/sys/class/remoteproc"
DEBUG = "/sys/kernel/debug/remoteproc"
RPMSG_DEVICES = "/sys/bus/rpmsg/devices"
WAIT = 20.0  # seconds to wait for something the guest does asynchronously (not a speed check)

# include/uapi/linux/rpmsg.h: RPMSG_CREATE_EPT_IOCTL = _IOW(0xb5, 0x1, struct rpmsg_endpoint_info)
ENDPOINT_INFO = struct.Struct("<32sII")
CREATE_EPT = (1 << 30) | (ENDPOINT_INFO.size << 16) | (0xB5 << 8) | 0x1
DESTROY_EPT = (0xB5 << 8) | 0x2  # _IO(0xb5, 0x2)
ADDR_ANY = 0xFFFFFFFF


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def wait_for(what, predicate):
    deadline = time.monotonic() + WAIT
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting %g s for %s\n%s" % (WAIT, what, diagnostics()))
        time.sleep(0.05)


def diagnostics():
    """The firmware programs' logs and the kernel's last lines."""
    out = []
    for log in sorted(glob.glob("/run/rpmsg-sim/*.log")):
        out.append("---- " + log + "\n" + read(log))
    dmesg = subprocess.run(["dmesg"], stdout=subprocess.PIPE, text=True).stdout
    out.append("---- dmesg (last 25 lines)\n" + "\n".join(dmesg.splitlines()[-25:]))
    return "\n".join(out)


def processor(name):
    for d in sorted(glob.glob(RPROC + "/remoteproc*")):
        if read(d + "/name").strip() == name:
            return d
    raise AssertionError("no remote processor named %s under %s" % (name, RPROC))


def channels(proc_dir, name=None):
    """rpmsg devices whose sysfs path lies under the processor's device."""
    real = os.path.realpath(proc_dir)
    out = []
    for d in glob.glob(RPMSG_DEVICES + "/*"):
        if not os.path.realpath(d).startswith(real + "/"):
            continue
        if name is None or read(d + "/name").strip() == name:
            out.append(d)
    return out


def open_eptdev(proc_dir, name, dst):
    """An endpoint device through the processor's rpmsg_ctrl (RPMSG_CREATE_EPT_IOCTL)."""
    real = os.path.realpath(proc_dir) + "/"
    ctrl = wait_for("rpmsg_ctrl under " + proc_dir,
                    lambda: [c for c in glob.glob("/sys/class/rpmsg/rpmsg_ctrl*")
                             if os.path.realpath(c).startswith(real)])[0]
    before = set(glob.glob("/dev/rpmsg[0-9]*"))
    fd = os.open("/dev/" + os.path.basename(ctrl), os.O_RDWR)
    try:
        fcntl.ioctl(fd, CREATE_EPT, ENDPOINT_INFO.pack(name.encode(), ADDR_ANY, dst))
    finally:
        os.close(fd)
    dev = wait_for("the new eptdev",
                   lambda: sorted(set(glob.glob("/dev/rpmsg[0-9]*")) - before))[0]
    return os.open(dev, os.O_RDWR)


def firmware_dir():
    return read("/sys/module/firmware_class/parameters/path").strip()


def mkfw(spec_json, out_name, *extra):
    sim = os.environ["RPMSG_SIM"]
    spec = os.path.join(firmware_dir(), out_name + ".json")
    write(spec, spec_json)
    subprocess.run([sim, "mkfw", "--spec", spec, "--out", os.path.join(firmware_dir(), out_name)]
                   + list(extra), check=True, stdout=subprocess.DEVNULL)


class Board(unittest.TestCase):
    def setUp(self):
        self.cm4 = processor("cm4")
        self.debug = DEBUG + "/" + os.path.basename(self.cm4)
        self.assertEqual(read(self.cm4 + "/state").strip(), "offline")
        write(self.cm4 + "/firmware", "rproc-cm4-fw")
        write(self.debug + "/recovery", "enabled")
        write(self.debug + "/coredump", "enabled")
        for d in glob.glob("/sys/class/devcoredump/devcd*"):
            write(d + "/data", "1")  # dismiss dumps from earlier cases

    def tearDown(self):
        if read(self.cm4 + "/state").strip() != "offline":
            write(self.cm4 + "/state", "stop")

    def start(self):
        write(self.cm4 + "/state", "start")
        self.assertEqual(read(self.cm4 + "/state").strip(), "running")
        return wait_for("the echo channel of cm4", lambda: channels(self.cm4, "rpmsg-echo"))[0]

    def test_processors_from_the_command_line(self):
        dsp = processor("dsp")
        self.assertEqual(read(self.cm4 + "/firmware").strip(), "rproc-cm4-fw")
        self.assertEqual(read(dsp + "/firmware").strip(), "rproc-dsp-fw")
        self.assertEqual(read(dsp + "/state").strip(), "offline")

    def test_start_announces_channels_under_the_processor_and_an_eptdev_echoes(self):
        echo = self.start()
        self.assertEqual(int(read(echo + "/dst"), 0), 1024)
        self.assertTrue(channels(self.cm4, "rpmsg-sensor"))
        ept = open_eptdev(self.cm4, "rpmsg-echo", 1024)
        try:
            for i in range(3):
                msg = b"hello %d" % i
                self.assertEqual(os.write(ept, msg), len(msg))
                self.assertEqual(os.read(ept, 512), msg)
            fcntl.ioctl(ept, DESTROY_EPT)
        finally:
            os.close(ept)

    def test_trace_buffer_holds_the_firmware_lines(self):
        self.start()
        self.assertEqual(read(self.debug + "/trace0"),
                         "cm4 firmware booted\necho service ready\n")

    def test_stop_removes_the_channels(self):
        self.start()
        write(self.cm4 + "/state", "stop")
        self.assertEqual(read(self.cm4 + "/state").strip(), "offline")
        self.assertEqual(channels(self.cm4), [])

    def test_crash_with_recovery_saves_a_core_of_the_segments_and_restarts(self):
        self.start()
        write(self.debug + "/crash", "1")  # RPROC_WATCHDOG
        dump = wait_for("a devcoredump", lambda: glob.glob("/sys/class/devcoredump/devcd*"))[0]
        self.assertTrue(os.path.realpath(dump + "/failing_device").startswith(
            os.path.realpath(self.cm4)))
        with open(dump + "/data", "rb") as f:
            core = f.read()
        write(dump + "/data", "1")
        self.assertEqual(core[:4], b"\x7fELF")
        self.assertEqual(core[4], 1)  # ELFCLASS32, as the firmware
        self.assertEqual(struct.unpack_from("<H", core, 16)[0], 4)  # ET_CORE
        self.assertEqual(struct.unpack_from("<H", core, 18)[0], 40)  # EM_ARM, as the firmware
        phoff, = struct.unpack_from("<I", core, 28)
        phnum, = struct.unpack_from("<H", core, 44)
        loads = []
        for i in range(phnum):
            p_type, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIIII", core,
                                                                      phoff + 32 * i)
            if p_type == 1:
                loads.append((p_vaddr, core[p_offset:p_offset + p_filesz]))
        self.assertEqual(len(loads), 1)
        vaddr, data = loads[0]
        self.assertEqual(vaddr, 0x1FFE0000)
        with open(os.path.join(firmware_dir(), "rproc-cm4-fw"), "rb") as f:
            image = f.read()
        # The dump starts with what the image loaded there (its vector table) ...
        self.assertIn(data[:16], image)
        # ... and holds the trace the firmware wrote at run time.
        self.assertIn(b"cm4 firmware booted\n", data)
        wait_for("cm4 running again", lambda: read(self.cm4 + "/state").strip() == "running")
        wait_for("the echo channel again", lambda: channels(self.cm4, "rpmsg-echo"))

    def test_crash_without_recovery_stays_crashed_until_recover(self):
        self.start()
        write(self.debug + "/recovery", "disabled")
        write(self.debug + "/coredump", "disabled")
        write(self.debug + "/crash", "2")  # RPROC_FATAL_ERROR
        wait_for("cm4 crashed", lambda: read(self.cm4 + "/state").strip() == "crashed")
        self.assertEqual(glob.glob("/sys/class/devcoredump/devcd*"), [])
        write(self.debug + "/recovery", "recover")
        wait_for("cm4 running again", lambda: read(self.cm4 + "/state").strip() == "running")
        wait_for("the echo channel again", lambda: channels(self.cm4, "rpmsg-echo"))

    def test_a_crash_the_firmware_reports_reaches_the_kernel(self):
        mkfw('{"services": [{"name": "rpmsg-echo", "addr": 1024, "kind": "echo"}],'
             ' "crash_after_messages": 1}', "cm4-crashing.elf")
        write(self.cm4 + "/firmware", "cm4-crashing.elf")
        write(self.debug + "/recovery", "disabled")
        self.start()
        ept = open_eptdev(self.cm4, "rpmsg-echo", 1024)
        try:
            os.write(ept, b"boom")
        finally:
            os.close(ept)
        wait_for("cm4 crashed", lambda: read(self.cm4 + "/state").strip() == "crashed")

    # No watchdog: the kernel (like the twin with a stalled remote) keeps the processor running
    # and its channels; messages are never consumed, so the TX buffers run out and a
    # non-blocking write fails with EAGAIN. stop still works, and a new firmware program serves
    # the next start.
    def test_a_firmware_that_dies_silently_goes_unnoticed_until_stop(self):
        self.start()

        def cmdline(pid):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    return f.read().decode(errors="replace")
            except OSError:
                return ""
        pids = [p for p in os.listdir("/proc")
                if p.isdigit() and "/dev/virtual-rproc-cm4" in cmdline(p)]
        self.assertEqual(len(pids), 1, "one firmware program serves cm4")
        os.kill(int(pids[0]), 9)
        wait_for("the firmware program gone", lambda: not os.path.exists("/proc/" + pids[0]))
        self.assertEqual(read(self.cm4 + "/state").strip(), "running")
        self.assertTrue(channels(self.cm4, "rpmsg-echo"))
        ept = open_eptdev(self.cm4, "rpmsg-echo", 1024)
        sent = 0
        try:
            fcntl.fcntl(ept, fcntl.F_SETFL, fcntl.fcntl(ept, fcntl.F_GETFL) | os.O_NONBLOCK)
            while sent < 1024:
                try:
                    os.write(ept, b"x")
                except BlockingIOError:
                    break
                sent += 1
        finally:
            os.close(ept)
        self.assertEqual(sent, 256, "every TX buffer (half of 512) taken, none returned")
        write(self.cm4 + "/state", "stop")
        self.assertEqual(read(self.cm4 + "/state").strip(), "offline")
        subprocess.run(["sh", "-c", '"$0" remote --rproc /dev/virtual-rproc-cm4 '
                        '>>/run/rpmsg-sim/cm4.log 2>&1 &', os.environ["RPMSG_SIM"]], check=True)
        wait_for("a new firmware program", lambda: read("/run/rpmsg-sim/cm4.log").count(
            "ready /dev/virtual-rproc-cm4") == 2)
        self.start()

    def test_missing_firmware_fails_start_with_enoent(self):
        write(self.cm4 + "/firmware", "no-such-image.elf")
        with self.assertRaises(OSError) as e:
            write(self.cm4 + "/state", "start")
        self.assertEqual(e.exception.errno, errno.ENOENT)
        self.assertEqual(read(self.cm4 + "/state").strip(), "offline")


if __name__ == "__main__":
    unittest.main()
