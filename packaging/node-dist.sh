#!/usr/bin/env bash
# Node.js for the installer: the version check against package.json's engines, and the download of an official build
# from nodejs.org verified against the release's published SHASUMS256.txt. install.sh sources this file; it also runs
# on its own, which is how tests/unit/node-dist.test.ts checks the verification without reaching nodejs.org:
#   node-dist.sh verify <tarball> <SHASUMS256.txt>            exit 0 when the tarball's SHA-256 is the one listed for its name
#   node-dist.sh satisfies <node-binary> <minimum-version>    exit 0 when that node is at least the minimum (e.g. 20.19)
#   node-dist.sh fetch <version> <arch> <dest-dir>            download, verify, unpack to <dest-dir> (bin/node inside)
# PRESSLUFT_NODE_DIST_URL replaces https://nodejs.org/dist (a mirror; tests use a file:// directory).

# The SHA-256 listed for the tarball's file name in a SHASUMS256.txt must match the file; prints why not and returns 1.
node_dist_verify() {
  local tarball=$1 shasums=$2 name expected actual
  name=$(basename "$tarball")
  if [ ! -f "$tarball" ] || [ ! -f "$shasums" ]; then
    echo "node-dist: $tarball or $shasums does not exist" >&2; return 1
  fi
  # Lines are "<sha256>  <file name>"; exactly one line may name the tarball.
  expected=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$shasums")
  if [ -z "$expected" ]; then
    echo "node-dist: $shasums lists no checksum for $name" >&2; return 1
  fi
  if [ "$(printf '%s\n' "$expected" | wc -l)" -ne 1 ] || ! [[ $expected =~ ^[0-9a-f]{64}$ ]]; then
    echo "node-dist: $shasums has no single valid SHA-256 for $name" >&2; return 1
  fi
  actual=$(sha256sum "$tarball" | cut -d' ' -f1)
  if [ "$actual" != "$expected" ]; then
    echo "node-dist: SHA-256 mismatch for $name: expected $expected, got $actual" >&2; return 1
  fi
}

# major.minor.patch comparison: is $1 >= $2 ("20.19" means 20.19.0)?
node_dist_version_ge() {
  local IFS=. have want i
  read -r -a have <<< "${1#v}"
  read -r -a want <<< "${2#v}"
  for i in 0 1 2; do
    local h=${have[$i]:-0} w=${want[$i]:-0}
    h=${h%%[!0-9]*} w=${w%%[!0-9]*}
    if [ "${h:-0}" -gt "${w:-0}" ]; then return 0; fi
    if [ "${h:-0}" -lt "${w:-0}" ]; then return 1; fi
  done
  return 0
}

# Does the node binary $1 run and report a version >= $2?
node_dist_satisfies() {
  local binary=$1 minimum=$2 version
  [ -x "$binary" ] || return 1
  version=$("$binary" -e 'process.stdout.write(process.versions.node)' 2>/dev/null) || return 1
  node_dist_version_ge "$version" "$minimum"
}

# Downloads node-v<version>-linux-<arch>.tar.gz and SHASUMS256.txt of that release, verifies, unpacks into $3.
# Nothing is unpacked unless the checksum matched; $3 must not exist yet.
node_dist_fetch() {
  local version=v${1#v} arch=$2 dest=$3 base tmp name
  base=${PRESSLUFT_NODE_DIST_URL:-https://nodejs.org/dist}
  name=node-$version-linux-$arch.tar.gz
  if [ -e "$dest" ]; then echo "node-dist: $dest already exists" >&2; return 1; fi
  tmp=$(mktemp -d) || return 1
  local curl_opts=(-fsSL --retry 3 --connect-timeout 20)
  # HTTPS only for the real download; a mirror given by the operator may be another scheme (tests: file://).
  [ -z "${PRESSLUFT_NODE_DIST_URL:-}" ] && curl_opts+=(--proto '=https' --tlsv1.2)
  echo "node-dist: downloading $base/$version/$name" >&2
  if ! curl "${curl_opts[@]}" -o "$tmp/$name" "$base/$version/$name" \
    || ! curl "${curl_opts[@]}" -o "$tmp/SHASUMS256.txt" "$base/$version/SHASUMS256.txt"; then
    echo "node-dist: download from $base/$version failed" >&2; rm -rf "$tmp"; return 1
  fi
  if ! node_dist_verify "$tmp/$name" "$tmp/SHASUMS256.txt"; then
    echo "node-dist: refusing to install $name" >&2; rm -rf "$tmp"; return 1
  fi
  mkdir -p "$tmp/unpacked"
  if ! tar -xzf "$tmp/$name" -C "$tmp/unpacked" --strip-components=1 --no-same-owner || [ ! -x "$tmp/unpacked/bin/node" ]; then
    echo "node-dist: $name did not unpack to bin/node" >&2; rm -rf "$tmp"; return 1
  fi
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/unpacked" "$dest"
  rm -rf "$tmp"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case ${1:-} in
    verify) [ $# -eq 3 ] || { echo "usage: $0 verify <tarball> <SHASUMS256.txt>" >&2; exit 2; }; node_dist_verify "$2" "$3" ;;
    satisfies) [ $# -eq 3 ] || { echo "usage: $0 satisfies <node-binary> <minimum>" >&2; exit 2; }; node_dist_satisfies "$2" "$3" ;;
    fetch) [ $# -eq 4 ] || { echo "usage: $0 fetch <version> <arch> <dest-dir>" >&2; exit 2; }; node_dist_fetch "$2" "$3" "$4" ;;
    *) echo "usage: $0 verify|satisfies|fetch …" >&2; exit 2 ;;
  esac
fi
