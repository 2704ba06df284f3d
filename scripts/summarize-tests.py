#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""Count test cases from meson's testlog.json and GoogleTest JSON reports.

GoogleTest binaries are counted per case (their JSON report); other meson tests
count as one each. A gtest binary that failed without writing a report (crash,
timeout) counts as one failure. Prints "N passed, N failed, N skipped" last.

With --fail-on-sanitizer-report (the sanitizer build), a test whose output holds an
AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer report counts as one more failure,
even when the test itself passed.
"""
import json
import os
import sys


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error: ",
                     "SUMMARY: UndefinedBehaviorSanitizer")


def sanitizer_report(test: dict) -> bool:
    output = (test.get("stdout") or "") + (test.get("stderr") or "")
    return any(m in output for m in SANITIZER_MARKERS)


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    check_sanitizers = "--fail-on-sanitizer-report" in sys.argv[1:]
    testlog, results_dir = args[0], args[1]
    reports = {}
    if os.path.isdir(results_dir):
        for name in os.listdir(results_dir):
            if name.endswith(".json"):
                try:
                    with open(os.path.join(results_dir, name)) as f:
                        reports[name[:-5]] = json.load(f)
                except (OSError, ValueError):
                    pass
    passed = failed = skipped = 0
    failures = []
    try:
        lines = open(testlog).read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        name, result = t["name"], t["result"]
        exe = os.path.basename(t.get("command", [""])[0]) if t.get("command") else ""
        report = reports.get(exe)
        if check_sanitizers and sanitizer_report(t):
            # A plain test counts as failed instead of passed; a GoogleTest binary keeps its
            # per-case counts (the report cannot be pinned on a case) plus this one failure.
            failures.append("%s (sanitizer report in its output)" % name)
            failed += 1
            if report is None:
                continue
        if report is not None:
            for suite in report.get("testsuites", []):
                for case in suite.get("testsuite", []):
                    full = "%s.%s" % (suite["name"], case["name"])
                    if case.get("failures"):
                        failed += 1
                        failures.append(full)
                    elif case.get("result") == "SKIPPED" or case.get("status") == "NOTRUN":
                        skipped += 1
                    else:
                        passed += 1
            if result in ("FAIL", "TIMEOUT", "ERROR") and report.get("failures", 0) == 0:
                failed += 1
                failures.append("%s (%s)" % (name, result))
        elif result == "OK":
            passed += 1
        elif result == "SKIP":
            skipped += 1
        elif result in ("EXPECTEDFAIL",):
            passed += 1
        else:
            failed += 1
            failures.append("%s (%s)" % (name, result))
    if not lines:
        failed += 1
        failures.append("no test results (%s missing)" % testlog)
    for f in failures:
        print("FAILED: %s" % f)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
