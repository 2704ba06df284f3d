# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""Named test cases for the system-integration scripts (install, unit, policy, activation).

Each script runs several checks. They are reported like a GoogleTest binary: one line per case
on stdout, and, when GTEST_OUTPUT=json:DIR/ is set (scripts/check sets it), a GoogleTest-format
JSON report DIR/<script name>.json, which scripts/summarize-tests.py counts per case. Exit code:
0 all passed, 1 any failed, 77 (meson's skip) when every case was skipped.
"""
import json
import os
import sys
import traceback


class Skip(Exception):
    """Raise inside a case to skip it with a reason."""


class Cases:
    def __init__(self, suite):
        self.suite = suite
        self.results = []  # (name, "ok" | "fail" | "skip", message)

    def run(self, name, fn, *args):
        try:
            fn(*args)
        except Skip as e:
            self._record(name, "skip", str(e))
        except AssertionError as e:
            self._record(name, "fail", str(e) or traceback.format_exc())
        except Exception:  # an unexpected error fails the case, with where it happened
            self._record(name, "fail", traceback.format_exc())
        else:
            self._record(name, "ok", "")

    def skip(self, name, reason):
        self._record(name, "skip", reason)

    def _record(self, name, result, message):
        self.results.append((name, result, message))
        label = {"ok": "[       OK ]", "fail": "[  FAILED  ]", "skip": "[  SKIPPED ]"}[result]
        print("%s %s.%s" % (label, self.suite, name), flush=True)
        if message:
            for line in message.rstrip().splitlines():
                print("    " + line, flush=True)

    def finish(self):
        failed = [n for n, r, _ in self.results if r == "fail"]
        skipped = [n for n, r, _ in self.results if r == "skip"]
        self._write_report()
        print("%d cases: %d passed, %d failed, %d skipped" %
              (len(self.results), len(self.results) - len(failed) - len(skipped), len(failed),
               len(skipped)))
        if failed or not self.results:
            return 1
        return 77 if len(skipped) == len(self.results) else 0

    def _write_report(self):
        out = os.environ.get("GTEST_OUTPUT", "")
        if not out.startswith("json:"):
            return
        target = out[len("json:"):]
        if target.endswith("/"):
            os.makedirs(target, exist_ok=True)
            target = os.path.join(target, os.path.basename(sys.argv[0]) + ".json")
        cases = []
        for name, result, message in self.results:
            case = {"name": name, "status": "RUN",
                    "result": "SKIPPED" if result == "skip" else "COMPLETED"}
            if result == "fail":
                case["failures"] = [{"failure": message, "type": ""}]
            cases.append(case)
        report = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if "failures" in c),
            "testsuites": [{"name": self.suite, "tests": len(cases), "testsuite": cases}],
        }
        with open(target, "w") as f:
            json.dump(report, f, indent=1)


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root (to drop to nobody and own names on a system-type bus)")


def parse_dirs(argv):
    """--dir NAME=PATH arguments (the configured install directories) into a dict."""
    dirs, rest, i = {}, [], 0
    while i < len(argv):
        if argv[i] == "--dir" and i + 1 < len(argv):
            name, _, path = argv[i + 1].partition("=")
            dirs[name] = path
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    return dirs, rest


def tool(name, package=""):
    """The path of program name; raises Skip when it is not installed."""
    import shutil
    path = shutil.which(name)
    if not path:
        hint = " (Debian package %s)" % package if package else ""
        raise Skip("%s is not installed%s" % (name, hint))
    return path


def run(cmd, **kw):
    """Runs cmd with its stdout and stderr together, as text."""
    import subprocess
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def run_ok(cmd, what, **kw):
    """run(); an exit code other than 0 raises AssertionError naming what, with the output."""
    r = run(cmd, **kw)
    assert r.returncode == 0, "%s failed (%d):\n%s" % (what, r.returncode, r.stdout[-4000:])
    return r.stdout


def meson_install(builddir, destdir):
    """Installs the build into destdir (DESTDIR); raises AssertionError with meson's output."""
    run_ok(["meson", "install", "-C", builddir, "--no-rebuild", "--destdir", destdir],
           "meson install")


def staged(destdir, path):
    """An absolute install path inside destdir."""
    return os.path.join(destdir, path.lstrip("/"))
