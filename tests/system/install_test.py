#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""DESTDIR install: the file list matches expected-install.txt, and every installed data file
is well-formed (xmllint), the default config is valid for the installed daemon, and the
sysusers.d/tmpfiles.d snippets do what they say when applied to a scratch root.

Usage: install_test.py BUILDDIR EXPECTED_LIST --dir NAME=PATH...
"""
import os
import shutil
import sys
import tempfile

from cases import Cases, meson_install, parse_dirs, run_ok, staged, tool


def expected_files(listfile, dirs):
    out = set()
    for raw in open(listfile):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        for name, path in dirs.items():
            line = line.replace("@%s@" % name, path)
        assert "@" not in line, "%s: unknown placeholder in %r (known: %s)" % (
            listfile, raw.strip(), ", ".join(sorted(dirs)))
        out.add(os.path.normpath(line))
    return out


def installed_files(destdir):
    out = set()
    for root, dirnames, filenames in os.walk(destdir):
        for n in filenames + [d for d in dirnames if os.path.islink(os.path.join(root, d))]:
            out.add("/" + os.path.relpath(os.path.join(root, n), destdir))
    return out


def main():
    dirs, rest = parse_dirs(sys.argv[1:])
    builddir, listfile = rest
    c = Cases("Install")
    destdir = tempfile.mkdtemp(prefix="rpmsgd-install-")
    try:
        c.run("MesonInstallToDestdir", meson_install, builddir, destdir)

        def file_list():
            want, have = expected_files(listfile, dirs), installed_files(destdir)
            missing, extra = sorted(want - have), sorted(have - want)
            assert not missing and not extra, (
                "installed files differ from %s\n" % listfile +
                "".join("  missing:    %s\n" % f for f in missing) +
                "".join("  unexpected: %s\n" % f for f in extra))
        c.run("FileListMatchesExpected", file_list)

        xml = sorted(f for f in installed_files(destdir)
                     if f.endswith(".xml") or f.startswith(dirs["dbus_policydir"] + "/"))

        def lint(path):
            out = run_ok(["xmllint", "--noout", "--nonet", staged(destdir, path)],
                         "xmllint " + path)
            assert not out, "xmllint %s:\n%s" % (path, out)
        if not xml:
            c.run("XmlFilesInstalled", lambda: (_ for _ in ()).throw(
                AssertionError("no XML or policy file was installed")))
        for f in xml:
            c.run("Xmllint_" + os.path.basename(f).replace(".", "_"), lint, f)

        def config_valid():
            daemon = staged(destdir, dirs["sbindir"] + "/rpmsgd")
            config = staged(destdir, dirs["sysconfdir"] + "/rpmsgd/rpmsgd.json")
            out = run_ok([daemon, "--check-config", config], "rpmsgd --check-config " + config)
            assert out.strip().endswith(": valid"), out
        c.run("DefaultConfigIsValid", config_valid)

        def sysusers():
            with tempfile.TemporaryDirectory() as root:
                os.makedirs(root + "/etc")
                snippet = staged(destdir, dirs["sysusersdir"] + "/rpmsgd.conf")
                run_ok([tool("systemd-sysusers"), "--root=" + root, snippet], "systemd-sysusers")
                groups = [l.split(":")[0] for l in open(root + "/etc/group")]
                assert "rpmsg" in groups and "rpmsg-admin" in groups, (
                    "groups created: %s" % groups)
        c.run("SysusersCreatesGroups", sysusers)

        def tmpfiles():
            with tempfile.TemporaryDirectory() as root:
                snippet = staged(destdir, dirs["tmpfilesdir"] + "/rpmsgd.conf")
                run_ok([tool("systemd-tmpfiles"), "--create", "--root=" + root, snippet],
                       "systemd-tmpfiles")
                for d, mode in ((dirs["statedir"], 0o750), (dirs["statedir"] + "/coredumps", 0o750),
                                (dirs["firmwaredir"] + "/rpmsgd", 0o755)):
                    p = staged(root, d)
                    assert os.path.isdir(p), "%s was not created" % d
                    got = os.stat(p).st_mode & 0o7777
                    assert got == mode, "%s: mode %o, want %o" % (d, got, mode)
        c.run("TmpfilesCreatesDirectories", tmpfiles)
    finally:
        shutil.rmtree(destdir, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
