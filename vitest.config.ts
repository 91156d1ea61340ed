import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{bridge,cli,sim-bms,sim-inverter,sim-kit,rig}/test/**/*.test.ts'],
    // Real-vcan contract tests run only where vcan exists: `npm run test:vcan` (vitest.vcan.config.ts).
    exclude: [...configDefaults.exclude, '**/*.vcan.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
