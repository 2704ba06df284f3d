#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""The installed man pages: each lints clean with groff (-ww: all warnings, -z: no output),
has the NAME/SYNOPSIS/DESCRIPTION sections, a .TH matching its file name, no unfilled @...@
placeholder, and man(1) finds it by name in the installed manual tree.

Usage: man_test.py BUILDDIR --dir NAME=PATH...
"""
import os
import re
import shutil
import sys
import tempfile

from cases import Cases, meson_install, parse_dirs, run, staged, tool

PAGES = ["man8/rpmsgd.8", "man1/rpmsgctl.1", "man1/rpmsg-sim.1"]


def main():
    dirs, rest = parse_dirs(sys.argv[1:])
    (builddir,) = rest
    c = Cases("Man")
    destdir = tempfile.mkdtemp(prefix="rpmsgd-man-")
    try:
        c.run("MesonInstallToDestdir", meson_install, builddir, destdir)
        mandir = staged(destdir, dirs["mandir"])

        def lint(page):
            tool("groff", "groff-base")
            path = os.path.join(mandir, page)
            r = run(["groff", "-man", "-t", "-ww", "-z", path])
            assert r.returncode == 0 and not r.stdout.strip(), "groff -ww %s:\n%s" % (
                page, r.stdout)
            text = open(path).read()
            name, section = os.path.basename(page).rsplit(".", 1)
            th = re.search(r"^\.TH\s+(\S+)\s+(\S+)", text, re.M)
            assert th, page + ": no .TH line"
            assert th.group(1).replace("\\-", "-") == name.upper() and th.group(2) == section, (
                "%s: .TH %s %s" % (page, th.group(1), th.group(2)))
            for sh in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
                assert re.search(r"^\.SH\s+\"?%s\"?\s*$" % sh, text, re.M), (
                    "%s: no %s section" % (page, sh))
            left = re.findall(r"@[A-Z_]+@", text)
            assert not left, "%s: unfilled placeholders %s" % (page, left)
            if shutil.which("man"):
                m = run(["man", "-w", "-M", mandir, section, name])
                assert m.returncode == 0 and m.stdout.strip() == path, (
                    "man -w %s %s: %s" % (section, name, m.stdout))
        for page in PAGES:
            c.run("Lint_" + os.path.basename(page).replace(".", "_").replace("-", "_"), lint, page)
    finally:
        shutil.rmtree(destdir, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
