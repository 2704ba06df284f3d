#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
# Talk to a remote core from the shell. busctl speaks D-Bus to rpmsgd directly (any tool can);
# the endpoint itself is held by `rpmsgctl open`, because an endpoint lives as long as the bus
# connection that opened it and a one-shot `busctl call` leaves the bus (and closes its copy
# of the fd) as soon as it has printed the reply. Usage: echo.sh [CHANNEL]
set -euo pipefail
channel=${1:-rpmsg-echo}
bus=(busctl --system)

# D-Bus: wait for the channel (returns at once if it exists), then read its properties.
path=$("${bus[@]}" call org.rpmsgd.Broker1 /org/rpmsgd/Broker1 org.rpmsgd.Broker1.Manager \
    WaitForChannel ssu "$channel" "" 5000 | cut -d'"' -f2)
mtu=$("${bus[@]}" get-property org.rpmsgd.Broker1 "$path" org.rpmsgd.Broker1.Channel Mtu)
echo "channel $channel: $path, mtu ${mtu#u }"

# A conversation: rpmsgctl open as a coprocess, one line = one message each way.
coproc EP { rpmsgctl open "$channel"; }
for text in hello "from the shell"; do
    echo "$text" >&"${EP[1]}"
    read -r -t 5 reply <&"${EP[0]}" || { echo "no reply from $channel" >&2; exit 1; }
    echo "$reply"
done
exec {EP[1]}>&-   # stdin ends: rpmsgctl closes the endpoint and exits
wait "$EP_PID"
