import { readFileSync } from 'node:fs';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Whether this machine has a real vcan0 the SocketCAN contract can use: a CAN interface (ARPHRD_CAN
 * = 280) that is up (IFF_UP), root to take it down and up as the contract does, and the optional
 * socketcan addon. vcan reports its operstate as "unknown", so the flags decide.
 */
function realVcanHere(): boolean {
  try {
    const sys = (name: string) => readFileSync(`/sys/class/net/vcan0/${name}`, 'utf8').trim();
    require.resolve('socketcan');
    return sys('type') === '280' && (Number(sys('flags')) & 0x1) === 1 && process.getuid?.() === 0;
  } catch {
    return false;
  }
}

export default defineConfig({
  test: {
    include: ['{bridge,cli,sim-bms,sim-inverter,sim-kit,rig}/test/**/*.test.ts'],
    // The CanBus contract on real SocketCAN runs wherever a usable vcan0 exists (a Pi, a laptop
    // after `modprobe vcan`); elsewhere it runs in `npm run test:vcan` (vitest.vcan.config.ts,
    // inside the vcan VM). The contract on the fake addon runs everywhere.
    exclude: realVcanHere() ? [...configDefaults.exclude] : [...configDefaults.exclude, '**/*.vcan.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
