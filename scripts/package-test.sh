#!/usr/bin/env bash
# `npm run test:package`: the product as a user gets it. Packs the tarball (prepack builds it),
# installs it with `npm install -g` into an empty prefix with a PATH that holds only node, npm and
# sh (no compiler, no dev dependency), then runs the installed command: --help, check on the
# sample config, the socketcan refusal when the optional addon is absent, the rig (virtual BMS and
# inverter) on the sample config, one Cucumber scenario whose bridge is the installed command, and
# install-service inside a scratch root, whose unit (with its SocketCAN drop-in) must pass
# `systemd-analyze verify`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/jk-package-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '\n== package test: %s\n' "$*"; }
fail() { printf 'package test FAILED: %s\n' "$*" >&2; exit 1; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

step "npm pack, then npm install -g of the tarball with only node, npm and sh on PATH"
cmd=$(bash scripts/install-packed.sh "$work")
tarball=$(ls "$work"/jk-can-bridge-*.tgz)
listing=$(tar -tzf "$tarball")
grep -qx 'package/dist/cli/src/jk-can-bridge.js' <<<"$listing" || fail "no prebuilt command in $tarball"
grep -qx 'package/dist/rig/src/live-rig.js' <<<"$listing" || fail "no rig in $tarball"
grep -qx 'package/bridge/web/index.html' <<<"$listing" || fail "no web page in $tarball"
if grep -E '\.ts$|/test/|^package/(features|bench|scripts)/' <<<"$listing"; then fail "sources or tests in $tarball (above)"; fi
bare=(env PATH="$work/bin")
installed="$work/prefix/lib/node_modules/jk-can-bridge"
for dev in typescript ts-node vitest @cucumber/cucumber eslint; do
  [ ! -e "$installed/node_modules/$dev" ] || fail "dev dependency $dev was installed"
done

step "jk-can-bridge --help"
help=$("${bare[@]}" "$cmd" --help)
grep -q '^  jk-can-bridge rig' <<<"$help" || fail "--help does not list the subcommands"

step "jk-can-bridge check --config deploy/bridge.example.yaml"
"${bare[@]}" "$cmd" check --config "$installed/deploy/bridge.example.yaml" >"$work/check.json"
grep -q '"profile": "pylon-lv"' "$work/check.json" || fail "check did not print the configuration"

if [ ! -e "$installed/node_modules/socketcan/build/Release/can.node" ]; then
  step "socketcan: absent (nothing compiled it), so a socketcan: bus is refused in one line"
  set +e
  "${bare[@]}" "$cmd" --bms /dev/null --can socketcan:can0 2>"$work/refusal.txt"
  code=$?
  set -e
  cat "$work/refusal.txt"
  [ "$code" -eq 2 ] && [ "$(wc -l <"$work/refusal.txt")" -eq 1 ] && grep -q 'socketcan addon is not available' "$work/refusal.txt" ||
    fail "expected exit 2 and one line naming the fix, got $code"
fi

step "jk-can-bridge rig --config deploy/bridge.example.yaml (virtual BMS and inverter, 8 s)"
ln -s "$(command -v socat)" "$work/bin/socat"
"${bare[@]}" "$cmd" rig --config "$installed/deploy/bridge.example.yaml" --duration 8s --no-view </dev/null

step "a scenario whose bridge is the installed command"
# Through a wrapper that notes each start, so the run proves the scenario used it.
printf '#!/bin/sh\necho started >>"%s"\nexec "%s" "$@"\n' "$work/bridge-starts" "$cmd" >"$work/bridge"
chmod +x "$work/bridge"
RIG_BRIDGE_COMMAND="$work/bridge" npx cucumber-js --profile default --name '^Every frame matches the battery$' features/normal_operation.feature
[ -s "$work/bridge-starts" ] || fail "the scenario did not start the installed command"

step "install-service inside a scratch root"
root="$work/root"
mkdir -p "$root/etc"
# useradd --prefix edits the scratch root's account files, so it starts from a copy of the real ones.
$sudo cp /etc/passwd /etc/group /etc/shadow /etc/gshadow "$root/etc/"
$sudo "$cmd" install-service --root "$root" --command "$cmd"
grep -q '^jkbridge:' "$root/etc/passwd" || fail "no user jkbridge"
grep -Eq '^dialout:[^:]*:[^:]*:(.*,)?jkbridge(,|$)' "$root/etc/group" || fail "jkbridge is not in dialout"
cmp -s "$root/etc/jk-can-bridge.yaml" "$installed/deploy/bridge.example.yaml" || fail "/etc/jk-can-bridge.yaml is not the sample"
unit="$root/etc/systemd/system/jk-can-bridge.service"
[ -L "$root/etc/systemd/system/multi-user.target.wants/jk-can-bridge.service" ] || fail "the unit is not enabled"
grep -qx "ExecStart=$(readlink -f "$(command -v node)") $cmd --config /etc/jk-can-bridge.yaml" "$unit" || fail "ExecStart does not run the installed command"
$sudo "$cmd" install-service --root "$root" --command "$cmd" | grep -q '^ok       keep .*jk-can-bridge.yaml (it exists)' || fail "a second run must keep the config"

step "install-service --dry-run on this machine changes nothing"
before=$(ls -l /etc/passwd /etc/group /etc/systemd/system 2>&1 | md5sum)
"$cmd" install-service --dry-run
[ "$before" = "$(ls -l /etc/passwd /etc/group /etc/systemd/system 2>&1 | md5sum)" ] || fail "--dry-run changed /etc"

step "systemd-analyze verify (the unit with its SocketCAN drop-in for the sample's can0)"
dropin="$root/etc/systemd/system/jk-can-bridge.service.d/socketcan.conf"
grep -q '^ExecStartPre=-+/.*/ip link set can0 up$' "$dropin" || fail "no drop-in bringing can0 up"
# verify reads drop-ins only from the system's own directories: check the unit as systemd merges it.
mkdir "$work/verify"
cat "$unit" "$dropin" >"$work/verify/jk-can-bridge.service"
out=$(systemd-analyze verify "$work/verify/jk-can-bridge.service" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"

step "passed"
