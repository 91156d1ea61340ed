import { defineConfig } from 'vitest/config';

/**
 * Tests that need a kernel with SocketCAN and a vcan0 that is up. They run inside the vcan VM
 * (shared/notes/vcan-vm.md), not in `npm test`.
 */
export default defineConfig({
  test: {
    include: ['{bridge,sim-bms,sim-inverter,rig}/test/**/*.vcan.test.ts'],
    environment: 'node',
    // JavaScript under the VM's TCG emulation runs 20-40 times slower than natively.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // The tests take vcan0 down and up, so no two files may run at once.
    fileParallelism: false,
  },
});
