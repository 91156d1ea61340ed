#!/bin/sh
# The vcan pass, run on a machine with a real vcan0 (natively, or inside scripts/vcan-vm.sh):
# the CanBus contract tests on real SocketCAN, then every scenario with the inverter on vcan.
# Inside the VM JavaScript runs many times slower, so scenario delays are stretched (RIG_TIME_SCALE).
set -eu
if [ "${VCAN_VM:-0}" = "1" ]; then
  : "${RIG_TIME_SCALE:=4}"
else
  : "${RIG_TIME_SCALE:=1}"
fi
export RIG_TIME_SCALE
echo "vcan suite: contract tests on real SocketCAN"
npx vitest run --config vitest.vcan.config.ts
echo "vcan suite: scenarios on vcan (time scale ${RIG_TIME_SCALE})"
npx cucumber-js --profile vcan "$@"
