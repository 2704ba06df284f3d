#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""Prints the build outputs the sanitizer run needs, one per line, relative to BUILDDIR.

scripts/check runs the sanitizer build's suites without the uml suite and without benchmarks,
so the targets that only those use (tests/bench, tests/uml) need not be compiled there: a
target is left out when it is defined under one of those directories and no other test
depends on it or runs it. Everything else is built, so a test that finds its helper binaries
by path still finds them.

usage: asan-targets.py BUILDDIR
"""
import json
import os
import subprocess
import sys

SKIPPED_DIRS = ("tests/bench/", "tests/uml/")


def introspect(builddir, what):
    out = subprocess.run(["meson", "introspect", builddir, what], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    builddir = os.path.realpath(sys.argv[1])
    targets = introspect(builddir, "--targets")
    tests = introspect(builddir, "--tests")
    needed = set()
    for t in tests:
        if "rpmsgd:uml" in t["suite"]:
            continue
        needed.update(t["depends"])
        needed.update(os.path.realpath(c) for c in t["cmd"])
    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    for t in targets:
        rel = os.path.relpath(os.path.realpath(t["defined_in"]), root)
        files = [os.path.realpath(f) for f in t["filename"]]
        skip = rel.startswith(SKIPPED_DIRS) and t["id"] not in needed and not needed.intersection(files)
        if skip:
            continue
        for f in files:
            print(os.path.relpath(f, builddir))


if __name__ == "__main__":
    main()
