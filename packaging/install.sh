#!/usr/bin/env bash
# Installs or upgrades the Pressluft control plane from this unpacked release tarball (README "Run it as a service").
# Run as root on Debian 12 or Ubuntu 24.04:   sudo ./install.sh [--node <path-to-node-binary>] [--no-start]
#
#  - apt: ansible and openssh-client (what the job runner needs), curl and ca-certificates (the Node.js download).
#  - Node.js: --node <binary>, else /opt/pressluft/bin/node or the `node` on PATH if it satisfies package.json's
#    engines, else the official build for this CPU from nodejs.org, checked against the release's SHASUMS256.txt
#    (node-dist.sh). Debian 12 and Ubuntu 24.04 ship Node 18, which is too old.
#  - the system user `pressluft` (home /var/lib/pressluft), the data directory /var/lib/pressluft/control-plane (0700),
#    /etc/pressluft/pressluft.env (0600; written once, never overwritten). Not /var/lib/pressluft itself: on a host that
#    is also a Pressluft node (the control plane's own node, registered as localhost) node-provision owns that directory
#    (0755, WordPress core source, backup work space; ansible/roles/node-stack) and the same `pressluft` user.
#  - this release to /opt/pressluft/releases/<version>, then /opt/pressluft/current switched to it in one rename;
#    the two releases before it are kept, older ones removed. The data directory is never touched: an upgrade keeps it.
#  - the unit /etc/systemd/system/pressluft.service, enabled and (re)started when systemd runs.
# PRESSLUFT_NODE_VERSION chooses the downloaded Node.js version, PRESSLUFT_NODE_DIST_URL a mirror of nodejs.org/dist.
set -euo pipefail
umask 022

src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=node-dist.sh
. "$src/node-dist.sh"

PREFIX=/opt/pressluft
STATE_DIR=/var/lib/pressluft
DATA_DIR=$STATE_DIR/control-plane
ETC_DIR=/etc/pressluft
UNIT=/etc/systemd/system/pressluft.service
USER_NAME=pressluft
NODE_VERSION=${PRESSLUFT_NODE_VERSION:-24.21.0}
KEEP_RELEASES=3

node_binary=
start=1
while [ $# -gt 0 ]; do
  case $1 in
    --node) node_binary=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { echo "pressluft install: $*"; }
die() { echo "pressluft install: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root"
[ -f "$src/VERSION" ] && [ -f "$src/dist/runtime/main.js" ] || die "run install.sh from an unpacked release tarball (npm run release)"
version=$(cat "$src/VERSION")
[[ $version =~ ^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$ ]] || die "invalid VERSION \"$version\""
min_node=$(sed -n 's/.*"node": *">= *\([0-9][0-9.]*\)".*/\1/p' "$src/package.json" | head -n1)
[ -n "$min_node" ] || die "package.json has no engines.node \">=x.y\""

if [ -r /etc/os-release ]; then
  . /etc/os-release
  case "${ID:-}:${VERSION_ID:-}" in
    debian:12|ubuntu:24.04) ;;
    *) say "warning: tested on Debian 12 and Ubuntu 24.04, this is ${PRETTY_NAME:-unknown}" ;;
  esac
fi

case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) die "unsupported CPU $(uname -m) (x86_64 and aarch64 only)" ;;
esac

say "installing $version"

# 1. System packages.
packages=(ansible openssh-client ca-certificates curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 2. Node.js: /opt/pressluft/bin/node is what the unit runs.
mkdir -p "$PREFIX/bin" "$PREFIX/node" "$PREFIX/releases"
use_node() { ln -sfn "$1" "$PREFIX/bin/.node.tmp" && mv -T "$PREFIX/bin/.node.tmp" "$PREFIX/bin/node"; }
if [ -n "$node_binary" ]; then
  node_dist_satisfies "$node_binary" "$min_node" || die "$node_binary is not a Node.js >= $min_node"
  v=$("$node_binary" -e 'process.stdout.write(process.versions.node)')
  # A copy: the given file may live where the service cannot read it (/root, /tmp).
  if [ ! -x "$PREFIX/node/local-v$v/bin/node" ] || ! cmp -s "$node_binary" "$PREFIX/node/local-v$v/bin/node"; then
    rm -rf "$PREFIX/node/local-v$v.tmp"
    install -D -m 0755 "$node_binary" "$PREFIX/node/local-v$v.tmp/bin/node"
    rm -rf "$PREFIX/node/local-v$v" && mv "$PREFIX/node/local-v$v.tmp" "$PREFIX/node/local-v$v"
  fi
  use_node "$PREFIX/node/local-v$v/bin/node"
  say "Node.js $v from $node_binary"
elif node_dist_satisfies "$PREFIX/bin/node" "$min_node"; then
  say "Node.js $("$PREFIX/bin/node" --version) kept"
elif command -v node >/dev/null && node_dist_satisfies "$(command -v node)" "$min_node"; then
  use_node "$(command -v node)"
  say "Node.js $(node --version) from $(command -v node)"
else
  node_dist_version_ge "$NODE_VERSION" "$min_node" || die "PRESSLUFT_NODE_VERSION $NODE_VERSION is older than $min_node"
  dest=$PREFIX/node/v${NODE_VERSION#v}-linux-$arch
  if ! node_dist_satisfies "$dest/bin/node" "$min_node"; then
    rm -rf "$dest"
    node_dist_fetch "$NODE_VERSION" "$arch" "$dest" || die "could not install Node.js $NODE_VERSION"
  fi
  use_node "$dest/bin/node"
  say "Node.js $("$dest/bin/node" --version) from ${PRESSLUFT_NODE_DIST_URL:-https://nodejs.org/dist}"
fi

# 3. User, data directory, settings file.
# The same identity node-provision creates on nodes (ansible/roles/node-stack/tasks/layout.yml), so either may come first.
if ! getent passwd "$USER_NAME" >/dev/null; then
  getent group "$USER_NAME" >/dev/null || groupadd --system "$USER_NAME"
  useradd --system --gid "$USER_NAME" --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
  say "created system user $USER_NAME"
else
  say "system user $USER_NAME exists"
fi
[ -d "$STATE_DIR" ] || install -d -m 0755 -o "$USER_NAME" -g "$USER_NAME" "$STATE_DIR"
install -d -m 0700 -o "$USER_NAME" -g "$USER_NAME" "$DATA_DIR"
chmod 0700 "$DATA_DIR"
install -d -m 0755 "$ETC_DIR"
if [ ! -e "$ETC_DIR/pressluft.env" ]; then
  install -m 0600 -o root -g root "$src/pressluft.env" "$ETC_DIR/pressluft.env"
  say "wrote $ETC_DIR/pressluft.env"
else
  chmod 0600 "$ETC_DIR/pressluft.env"
  say "kept $ETC_DIR/pressluft.env"
fi

# 4. The release, then `current` switched in one rename.
target=$PREFIX/releases/$version
staging=$PREFIX/releases/.$version.tmp
rm -rf "$staging"
mkdir -p "$staging"
tar -C "$src" --exclude=./install.sh.log -cf - . | tar -C "$staging" -xf - --no-same-owner
chown -R root:root "$staging"
chmod -R go-w "$staging"
previous=$(readlink "$PREFIX/current" 2>/dev/null || true)
if [ -e "$target" ]; then
  # Re-installing the same version: the old copy goes aside first so `current` never points at a half copy for long.
  rm -rf "$PREFIX/releases/.$version.old"
  mv "$target" "$PREFIX/releases/.$version.old"
fi
mv "$staging" "$target"
touch "$target" # install time, for pruning (tar gave it the time of the build)
ln -sfn "releases/$version" "$PREFIX/.current.tmp"
mv -T "$PREFIX/.current.tmp" "$PREFIX/current"
rm -rf "$PREFIX/releases/.$version.old"
say "current -> releases/$version${previous:+ (was $previous)}"

# Prune: keep the newest KEEP_RELEASES by install time, never the current one.
mapfile -t old < <(cd "$PREFIX/releases" && ls -1t | grep -v '^\.' | grep -vxF "$version" | tail -n +"$KEEP_RELEASES")
for r in "${old[@]}"; do rm -rf "${PREFIX:?}/releases/$r"; say "removed old release $r"; done

# 5. The unit.
install -m 0644 "$target/pressluft.service" "$UNIT"
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable pressluft.service >/dev/null
  if [ "$start" = 1 ]; then
    systemctl restart pressluft.service
    say "pressluft.service (re)started; first start prints the generated admin password: journalctl -u pressluft"
  fi
else
  say "systemd is not running here: the unit is installed but not started"
fi
say "done: $version"
