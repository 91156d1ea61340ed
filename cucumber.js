// Cucumber profiles: `portable` runs every scenario over socat ptys with SLCAN framing (no
// privileges, works anywhere); `vcan` runs the same scenarios on real SocketCAN (natively where
// the kernel has vcan, otherwise inside the VM of scripts/vcan-vm.sh, where timeScale stretches
// every delay because JavaScript runs many times slower under TCG).
const common = {
  requireModule: ['ts-node/register/transpile-only'],
  require: ['features/support/**/*.ts', 'features/step_definitions/**/*.ts'],
  format: ['progress', 'summary'],
  strict: true,
};

module.exports = {
  default: { ...common, worldParameters: { transport: 'slcan-pty', timeScale: 1 } },
  portable: { ...common, parallel: 2, worldParameters: { transport: 'slcan-pty', timeScale: 1 } },
  vcan: {
    ...common,
    // @slcan scenarios exercise the SLCAN adapter itself (junk on its serial line): no vcan counterpart.
    // @native-speed scenarios measure rates that mean nothing under the VM's CPU emulation (20-40x
    // slower: a headless browser driving the page, a storm of 300 requests a second); they run in
    // the portable pass and on a native vcan, not inside scripts/vcan-vm.sh (VCAN_VM=1).
    tags: process.env.VCAN_VM === '1' ? 'not @slcan and not @native-speed' : 'not @slcan',
    worldParameters: {
      transport: 'vcan',
      timeScale: Number(process.env.RIG_TIME_SCALE ?? 1),
      vcanInterface: process.env.RIG_VCAN ?? 'vcan0',
    },
  },
};
