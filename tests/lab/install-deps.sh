#!/usr/bin/env bash
# Installs the Debian 12 packages the test lab (tests/lab) needs on the host; idempotent, non-interactive, run as root.
set -euo pipefail

packages=(
  debootstrap     # builds the nodes' Debian 12 root filesystem
  apt-cacher-ng   # the nodes' only way to Debian packages
  dnsmasq-base    # DNS for *.lab.test and sslip.io names (the binary only; no system service)
  pebble          # ACME test server
  bind9           # authoritative DNS for the zones that take RFC 2136 updates (DNS-01); never started as a service
  bind9-dnsutils  # nsupdate: tests set records in those zones
  iproute2        # ip netns / veth / bridge, ss
  util-linux      # unshare, nsenter
  openssh-client  # ssh, ssh-keygen
  openssl         # the lab CA behind pebble's HTTPS
  ansible         # ansible-core plus the collections the playbooks use
  git             # git http-backend: the lab's repository server (deploys from git)
  zip             # packages of the lab's WordPress update source (tests/lab/wp-updates.ts)
  xz-utils        # reads Debian's Packages.xz there
  curl
  systemd         # systemd-analyze: tests/e2e/installer.test.ts verifies the control plane's unit file
  rclone          # S3 client of tests/lab/s3-sigv4.test.ts (the nodes get it from node-provision)
  python3
  ca-certificates
)

if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: run as root" >&2
  exit 1
fi

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all lab packages already installed"
  exit 0
fi

acng_was_installed=0
installed apt-cacher-ng && acng_was_installed=1
bind_was_installed=0
installed bind9 && bind_was_installed=1

# apt-cacher-ng's (and bind9's) postinst would start the system daemon on port 3142 on every interface. The lab runs its own
# instance bound to a lab address, so keep the packaged daemon from starting (policy-rc.d 101 = "action forbidden").
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

if [ "$acng_was_installed" = 0 ]; then
  # Also keep it from starting at the next boot; an apt-cacher-ng that was already installed is left as it was.
  if [ -d /run/systemd/system ]; then
    systemctl disable --now apt-cacher-ng.service
  else
    update-rc.d apt-cacher-ng disable >/dev/null 2>&1 || true
    service apt-cacher-ng stop >/dev/null 2>&1 || true
  fi
fi
if [ "$bind_was_installed" = 0 ]; then
  # The packaged named would answer on port 53 of every interface, where the lab's dnsmasq binds its gateway.
  if [ -d /run/systemd/system ]; then
    systemctl disable --now named.service
  else
    update-rc.d named disable >/dev/null 2>&1 || true
    service named stop >/dev/null 2>&1 || true
  fi
fi
echo "install-deps.sh: installed ${missing[*]}"
