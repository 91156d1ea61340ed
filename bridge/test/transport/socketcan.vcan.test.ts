/**
 * The CanBus contract on a real SocketCAN interface. Runs only inside the vcan VM
 * (vitest.vcan.config.ts), whose kernel has CAN and where vcan0 exists and is up; needs root
 * for `ip link`.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { canFrame } from '../../src/protocol/can/frame';
import { linuxSocketCanHost, SocketCanBus } from '../../src/transport/socketcan-bus';
import type { TransportError } from '../../src/transport/types';
import { expectTransportError } from './support/byte-link-contract';
import { canBusContract, listeningPeer } from './support/can-bus-contract';
import { eventually } from './support/eventually';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** JavaScript under the VM's TCG emulation runs 20-40 times slower than natively. */
const timing = { patienceMs: 20_000, settleMs: 1000 };

canBusContract(
  'socketcan-bus on a real vcan0',
  async () => {
    const bus = new SocketCanBus({ iface: 'vcan0' });
    const other = new SocketCanBus({ iface: 'vcan0' });
    await other.open();
    return {
      bus,
      peer: listeningPeer(other),
      disappear: async () => ip('link', 'set', 'vcan0', 'down'),
      stampsReceiveTime: true,
      unreachable: async () => new SocketCanBus({ iface: 'nosuchcan0' }),
      dispose: async () => {
        await bus.close();
        await other.close();
        ip('link', 'set', 'vcan0', 'up');
      },
    };
  },
  timing,
);

describe('socketcan-bus on a real kernel', () => {
  it('sees AF_CAN and vcan0 up through /proc and /sys', () => {
    const host = linuxSocketCanHost();
    expect(host.canRawAvailable()).toBe(true);
    expect(host.interfaceState('vcan0')).toBe('up');
  });

  it('reports an interface that is deleted under it as removed, then fails to reopen', async () => {
    ip('link', 'add', 'dev', 'vcantest0', 'type', 'vcan');
    try {
      ip('link', 'set', 'vcantest0', 'up');
      const bus = new SocketCanBus({ iface: 'vcantest0' });
      const lost: TransportError[] = [];
      bus.onDisconnect((e) => lost.push(e));
      await bus.open();
      await bus.send(canFrame(0x351, [1]));
      ip('link', 'delete', 'vcantest0');
      await eventually(() => lost.length > 0, 'the disconnect', timing.patienceMs);
      expect(lost.map((e) => e.message)).toEqual(['DISCONNECTED: socketcan vcantest0: interface was removed (USB CAN adapter unplugged?)']);
      const error = await expectTransportError(bus.open(), 'OPEN_FAILED');
      expect(error.message).toContain('no such network interface');
    } finally {
      execFileSync('sh', ['-c', 'ip link delete vcantest0 2>/dev/null || true']);
    }
  });

  it('refuses to open an interface that is down', async () => {
    ip('link', 'set', 'vcan0', 'down');
    try {
      const error = await expectTransportError(new SocketCanBus({ iface: 'vcan0' }).open(), 'OPEN_FAILED');
      expect(error.message).toBe('OPEN_FAILED: socketcan vcan0: interface is down (ip link set vcan0 up; a real adapter first needs its bit rate: ip link set vcan0 type can bitrate 500000)');
    } finally {
      ip('link', 'set', 'vcan0', 'up');
    }
  });
});
