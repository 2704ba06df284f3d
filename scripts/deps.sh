# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
# Sourced by scripts/check and scripts/quickstart: the Debian 12 packages rpmsgd needs, and a
# function that installs the missing ones (apt-get; root only). RPMSGD_NO_APT=1 skips it.

rpmsgd_packages=(
  g++ pkg-config meson ninja-build python3
  libsystemd-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libfuse3-dev fuse3 libsdbus-c++-dev libsdbus-c++-bin dbus-daemon
  binutils util-linux iproute2 libxml2-utils python3-dbus
  systemd groff-base
  zsh bash-completion
  clang-format-15 reuse
)

rpmsgd_install_missing() {
  [[ "${RPMSGD_NO_APT:-0}" == 1 ]] && return 0
  local missing=() p
  for p in "${rpmsgd_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing packages and not root; install them first: apt-get install ${missing[*]}" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
