#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
"""Talk to a remote core from Python with Debian's python3-dbus: wait for a channel, open an
endpoint of your own (an fd), exchange messages. Usage: echo.py [CHANNEL]"""
import os
import select
import sys

import dbus

BUS_NAME = 'org.rpmsgd.Broker1'


def main():
    channel = sys.argv[1] if len(sys.argv) > 1 else 'rpmsg-echo'
    bus = dbus.SystemBus()  # $DBUS_SYSTEM_BUS_ADDRESS, or the system bus
    manager = dbus.Interface(bus.get_object(BUS_NAME, '/org/rpmsgd/Broker1'),
                             'org.rpmsgd.Broker1.Manager')
    # Returns at once if the channel exists, else when it appears (or Error.Timeout).
    path = manager.WaitForChannel(channel, '', 5000, timeout=10)
    chan = dbus.Interface(bus.get_object(BUS_NAME, path), 'org.rpmsgd.Broker1.Channel')
    fd, endpoint, mtu = chan.Open(dbus.Dictionary({}, signature='sv'))
    fd = fd.take()  # our own endpoint: one write = one message, one read = one message
    try:
        for text in ('hello', 'from Python'):
            os.write(fd, text.encode())
            if not select.select([fd], [], [], 5)[0]:
                sys.exit('no reply from %s within 5 s' % channel)
            print(os.read(fd, mtu).decode())
    finally:
        os.close(fd)
        # Ends the lease now (leaving the bus would end it too).
        dbus.Interface(bus.get_object(BUS_NAME, endpoint), 'org.rpmsgd.Broker1.Endpoint').Close()


if __name__ == '__main__':
    try:
        main()
    except dbus.exceptions.DBusException as e:
        sys.exit('%s: %s' % (e.get_dbus_name(), e.get_dbus_message()))
