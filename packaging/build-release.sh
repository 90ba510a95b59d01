#!/usr/bin/env bash
# npm run release: builds the release tarball tmp/release/pressluft-<version>-linux-<arch>.tar.gz (README "Run it as a
# service"). It holds the compiled server (dist/, with the migrations and the /docs assets), the production
# node_modules (npm ci --omit=dev in a staging directory, so the working tree's node_modules is never touched),
# ansible/, package.json, install.sh, the systemd unit and the Node.js download check. The native libSQL driver in
# node_modules is the one for this machine's CPU: build the tarball on the architecture it will run on.
#   --out DIR        where the tarball goes (default tmp/release)
#   PRESSLUFT_RELEASE_VERSION=<v>   version to stamp (default: package.json's version)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=$repo/tmp/release
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$(realpath -m "$2"); shift 2 ;;
    *) echo "build-release.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
version=${PRESSLUFT_RELEASE_VERSION:-$(node -p 'require("./package.json").version')}
if ! [[ $version =~ ^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$ ]]; then
  echo "build-release.sh: invalid version \"$version\"" >&2; exit 2
fi
case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "build-release.sh: unsupported architecture $(uname -m)" >&2; exit 2 ;;
esac
name=pressluft-$version
work=$(mktemp -d "${TMPDIR:-/tmp}/pressluft-release-XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/$name
mkdir -p "$stage" "$out"

echo "== compiling to $name/dist"
# Own output directory: `npm run build` and its dist/ stay untouched.
npx tsc -p tsconfig.build.json --outDir "$stage/dist"
cp -r runtime/store/migrations "$stage/dist/runtime/store/"
cp -r runtime/http/docs-assets "$stage/dist/runtime/http/"

echo "== production node_modules (npm ci --omit=dev)"
cp package.json package-lock.json "$stage/"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
# The stamped version is the one the installer uses for releases/<version>.
node -e 'const fs=require("fs");const f=process.argv[1];const p=JSON.parse(fs.readFileSync(f));p.version=process.argv[2];delete p.devDependencies;fs.writeFileSync(f,JSON.stringify(p,null,2)+"\n")' "$stage/package.json" "$version"
rm "$stage/package-lock.json"

echo "== ansible/, installer, unit"
# The playbooks and roles the job runner resolves next to dist/ (runtime/config.ts looks for ansible/ansible.cfg).
tar -C "$repo" --exclude='__pycache__' --exclude='*.retry' -cf - ansible | tar -C "$stage" -xf -
cp packaging/install.sh packaging/node-dist.sh packaging/pressluft.service packaging/pressluft.env "$stage/"
chmod 755 "$stage/install.sh" "$stage/node-dist.sh"
printf '%s\n' "$version" > "$stage/VERSION"

tarball=$out/$name-linux-$arch.tar.gz
tar -C "$work" --owner=0 --group=0 -czf "$tarball.tmp" "$name"
mv "$tarball.tmp" "$tarball"
echo "$tarball ($(du -h "$tarball" | cut -f1))"
