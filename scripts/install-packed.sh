#!/usr/bin/env bash
# scripts/install-packed.sh [--ignore-scripts] <dir>: the product as a user installs it. Packs this
# tree into <dir> (prepack builds it; with --ignore-scripts the current dist/ is packed as it is),
# then `npm install -g` of the tarball into <dir>/prefix with a PATH that holds only node, npm and
# sh (<dir>/bin): no compiler, no dev dependency. Prints the installed command's path on stdout.
# Used by scripts/package-test.sh and bench/installed.ts.
set -euo pipefail
pack_args=()
if [ "${1:-}" = "--ignore-scripts" ]; then
  pack_args+=(--ignore-scripts)
  shift
fi
dir=${1:?usage: install-packed.sh [--ignore-scripts] <dir>}
dir=$(cd "$dir" && pwd)
cd "$(dirname "$0")/.."
npm pack --silent "${pack_args[@]}" --pack-destination "$dir" >/dev/null
tarball=$(ls "$dir"/jk-can-bridge-*.tgz)
mkdir -p "$dir/bin" "$dir/prefix"
ln -sf "$(command -v node)" "$dir/bin/node"
ln -sf "$(readlink -f "$(command -v npm)")" "$dir/bin/npm"
ln -sf "$(command -v sh)" "$dir/bin/sh"
# --globalconfig: the machine's npm settings (CA file, registry) also apply under another prefix.
env PATH="$dir/bin" npm install -g --prefix "$dir/prefix" --globalconfig "$(npm config get globalconfig)" \
  --prefer-offline --no-audit --no-fund --loglevel=error "$tarball" >&2
echo "$dir/prefix/bin/jk-can-bridge"
