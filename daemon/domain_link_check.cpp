// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Built from the whole rpmsgd-domain library and nothing of sdbus-c++ (daemon/meson.build): if
// a domain file used a D-Bus type, this program would not link. It is never run.

int main() {
    return 0;
}
