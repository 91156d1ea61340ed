import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{bridge,sim-bms,sim-inverter,rig}/test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
