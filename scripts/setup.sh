#!/usr/bin/env bash
# One-time set-up of a fresh machine: the system tools the rig and tests use, then npm packages.
#   socat      pseudo-terminal pairs for the virtual BMS and the SLCAN-over-pty inverter link
#   can-utils  candump/cansend for real-interface checks (the vcan VM runner installs qemu itself)
#   mosquitto  the real MQTT broker the observer tests and scenarios start on their own ports
#   openssl    makes the CA and server certificate of the TLS broker in the MQTT tests
#   chromium   the real headless browser (puppeteer-core drives /usr/bin/chromium; nothing downloads one)
#   systemd    systemd-analyze, which verifies the service unit in the package test
#   libfaketime  a fake wall clock for one bridge child (the wall-clock jump scenario)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v socat >/dev/null || need+=(socat)
command -v candump >/dev/null || need+=(can-utils)
[ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v openssl >/dev/null || need+=(openssl)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v systemd-analyze >/dev/null || need+=(systemd)
compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null || need+=(libfaketime)
if [ "${#need[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: please install ${need[*]} with your package manager" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]} (Debian packages)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
# Build once here: `npm run bridge` runs the built JavaScript and compiles nothing at start-up.
npm run -s build
