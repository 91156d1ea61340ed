import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canFrame } from '../../src/protocol/can/frame';
import { linuxSocketCanHost, SocketCanBus, socketCanAddonProblem, waitedSinceKernelMs, type SocketCanModule } from '../../src/transport/socketcan-bus';
import type { TransportError } from '../../src/transport/types';
import { expectTransportError } from './support/byte-link-contract';
import { canBusContract, listeningPeer } from './support/can-bus-contract';
import { FakeCanKernel } from './support/fake-socketcan';

/** A SocketCanBus wired to the fake addon and kernel. */
function fakeBus(kernel: FakeCanKernel, iface = 'vcan0'): SocketCanBus {
  return new SocketCanBus({ iface, loadSocketCan: () => kernel.module, host: kernel });
}

// The glue between CanBus and the addon's API, against a fake that follows socketcan 4.0.7's
// native code. The same contract runs on a real vcan0 in socketcan.vcan.test.ts.
canBusContract('socketcan-bus over a fake socketcan addon', async () => {
  const kernel = new FakeCanKernel();
  const bus = fakeBus(kernel);
  const other = fakeBus(kernel);
  await other.open();
  return {
    bus,
    peer: listeningPeer(other),
    disappear: async () => kernel.takeDown('vcan0', 'delete'),
    stampsReceiveTime: true,
    unreachable: async () => fakeBus(kernel, 'can9'),
    dispose: async () => {
      await bus.close();
      await other.close();
    },
  };
});

describe('waitedSinceKernelMs: the kernel stamp made an age', () => {
  it('is the wall-clock time since the stamp', () => {
    expect(waitedSinceKernelMs({ ts_sec: 1_000, ts_usec: 250_500 }, 1_000_260.5)).toBeCloseTo(10, 6);
  });
  it('is unknown without a stamp, or when a wall-clock step put the stamp in the future or a minute back', () => {
    expect(waitedSinceKernelMs({}, 1_000_000)).toBeUndefined();
    expect(waitedSinceKernelMs({ ts_sec: 1_001, ts_usec: 0 }, 1_000_000)).toBeUndefined();
    expect(waitedSinceKernelMs({ ts_sec: 900, ts_usec: 0 }, 1_000_000)).toBeUndefined();
  });
});

describe('socketcan-bus error mapping', () => {
  it('opens a non-blocking channel, so a full queue cannot stall the event loop', async () => {
    const kernel = new FakeCanKernel();
    await fakeBus(kernel).open();
    expect(kernel.channels[0].options).toEqual({ non_block_send: true, timestamps: true });
    expect(kernel.channels[0].started).toBe(true);
  });

  it('explains a kernel without SocketCAN', async () => {
    const kernel = new FakeCanKernel();
    kernel.canRaw = false;
    const error = await expectTransportError(fakeBus(kernel).open(), 'OPEN_FAILED');
    expect(error.message).toBe(
      'OPEN_FAILED: socketcan vcan0: this kernel has no SocketCAN (AF_CAN) support — load it (modprobe can_raw) or use an SLCAN adapter (slcan:/dev/ttyACM0)',
    );
  });

  it('explains a missing interface', async () => {
    const error = await expectTransportError(fakeBus(new FakeCanKernel(), 'can0').open(), 'OPEN_FAILED');
    expect(error.message).toBe(
      'OPEN_FAILED: socketcan can0: no such network interface (ip link show; a test bus: ip link add dev can0 type vcan && ip link set can0 up)',
    );
  });

  it('explains an interface that is not CAN', async () => {
    const kernel = new FakeCanKernel();
    const host = { canRawAvailable: () => true, interfaceState: () => 'not-can' as const };
    const bus = new SocketCanBus({ iface: 'eth0', loadSocketCan: () => kernel.module, host });
    const error = await expectTransportError(bus.open(), 'OPEN_FAILED');
    expect(error.message).toBe('OPEN_FAILED: socketcan eth0: eth0 is not a CAN interface');
  });

  it('passes on the addon message when /proc and /sys cannot tell why', async () => {
    const kernel = new FakeCanKernel();
    const host = { canRawAvailable: () => undefined, interfaceState: () => 'unknown' as const };
    const bus = new SocketCanBus({ iface: 'can0', loadSocketCan: () => kernel.module, host });
    const error = await expectTransportError(bus.open(), 'OPEN_FAILED');
    expect(error.message).toBe('OPEN_FAILED: socketcan can0: cannot open: Error while creating channel');
  });

  it('refuses an interface that is down, so reconnect retries until it is up', async () => {
    const kernel = new FakeCanKernel();
    kernel.interfaces.set('can0', 'down');
    const error = await expectTransportError(fakeBus(kernel, 'can0').open(), 'OPEN_FAILED');
    expect(error.message).toBe('OPEN_FAILED: socketcan can0: interface is down (ip link set can0 up; a real adapter first needs its bit rate: ip link set can0 type can bitrate 500000)');
  });

  it('explains an addon that was never built', async () => {
    const bus = new SocketCanBus({
      iface: 'can0',
      loadSocketCan: (): SocketCanModule => {
        throw new Error("Cannot find module '../build/Release/can.node'");
      },
    });
    const error = await expectTransportError(bus.open(), 'OPEN_FAILED');
    expect(error.message).toMatch(/^OPEN_FAILED: socketcan can0: the socketcan addon is not available \(Cannot find module '..\/build\/Release\/can.node'\); /);
    expect(error.message).toContain('sudo apt-get install -y build-essential python3, then reinstall with its build allowed');
    expect(error.message).not.toContain('\n');
  });

  it('tells start-up whether the addon loads, in one line', () => {
    const kernel = new FakeCanKernel();
    expect(socketCanAddonProblem(() => kernel.module)).toBeUndefined();
    const problem = socketCanAddonProblem(() => {
      throw new Error('Cannot find module \'socketcan\'\nRequire stack:\n- /x.js');
    });
    expect(problem).toMatch(/^the socketcan addon is not available \(Cannot find module 'socketcan'\); .* or use an SLCAN adapter \(--can slcan:\/dev\/ttyACM0\)$/);
  });

  it('hands the addon id, ext, rtr and a Buffer', async () => {
    const kernel = new FakeCanKernel();
    const bus = fakeBus(kernel);
    await bus.open();
    await bus.send(canFrame(0x1806e5f4, [1, 2], true));
    await bus.send(canFrame(0x351, []));
    expect(kernel.channels[0].sent).toEqual([
      { id: 0x1806e5f4, ext: true, rtr: false, data: Buffer.from([1, 2]) },
      { id: 0x351, ext: false, rtr: false, data: Buffer.alloc(0) },
    ]);
  });

  it('maps a failed send on an interface that is up to ENOBUFS and stays open', async () => {
    const kernel = new FakeCanKernel();
    const bus = fakeBus(kernel);
    await bus.open();
    kernel.sendResult = -1;
    const error = await expectTransportError(bus.send(canFrame(0x351, [1])), 'ENOBUFS');
    expect(error.message).toContain('transmit queue full — nobody acknowledges on the bus');
    expect(bus.isOpen).toBe(true);
  });

  it.each([
    ['down', 'interface went down'],
    ['delete', 'interface was removed'],
  ] as const)('maps a failed send after the interface went %s to DISCONNECTED, once', async (how, reason) => {
    const kernel = new FakeCanKernel();
    const bus = fakeBus(kernel);
    const lost: TransportError[] = [];
    bus.onDisconnect((e) => lost.push(e));
    await bus.open();
    // The send fails before the receive thread has reported the error.
    if (how === 'delete') kernel.interfaces.delete('vcan0');
    else kernel.interfaces.set('vcan0', 'down');
    const error = await expectTransportError(bus.send(canFrame(0x351, [1])), 'DISCONNECTED');
    expect(error.message).toBe(`DISCONNECTED: socketcan vcan0: ${reason}`);
    expect(lost.map((e) => e.message)).toEqual([`DISCONNECTED: socketcan vcan0: ${reason}`]);
    expect(kernel.channels[0].started).toBe(false);
    await expectTransportError(bus.send(canFrame(0x351, [1])), 'NOT_OPEN');
  });

  it.each([
    ['down', 'DISCONNECTED: socketcan vcan0: interface went down'],
    ['delete', 'DISCONNECTED: socketcan vcan0: interface was removed (USB CAN adapter unplugged?)'],
  ] as const)('reports the receive thread stopping after the interface went %s', async (how, message) => {
    const kernel = new FakeCanKernel();
    const bus = fakeBus(kernel);
    const lost: TransportError[] = [];
    bus.onDisconnect((e) => lost.push(e));
    await bus.open();
    kernel.takeDown('vcan0', how);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lost.map((e) => e.message)).toEqual([message]);
    // The addon's thread is gone: calling stop() now would throw "Channel not started".
    await bus.close();
    expect(kernel.channels[0].stopCalls).toBe(0);
  });

  it('reports bus-off from an error frame as BUS_OFF and stops the channel', async () => {
    const kernel = new FakeCanKernel();
    const bus = fakeBus(kernel);
    const lost: TransportError[] = [];
    bus.onDisconnect((e) => lost.push(e));
    await bus.open();
    kernel.receive('vcan0', { id: 0x40, err: true, data: Buffer.alloc(8) });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lost.map((e) => e.code)).toEqual(['BUS_OFF']);
    expect(lost[0].message).toContain('controller went bus-off');
    expect(bus.isOpen).toBe(false);
    expect(kernel.channels[0].stopCalls).toBe(1);
  });

  it('ignores other error frames and remote frames, and keeps data frames flowing', async () => {
    const kernel = new FakeCanKernel();
    const bus = fakeBus(kernel);
    const ids: number[] = [];
    const lost: TransportError[] = [];
    bus.onFrame((f) => ids.push(f.id));
    bus.onDisconnect((e) => lost.push(e));
    await bus.open();
    kernel.receive('vcan0', { id: 0x20, err: true, data: Buffer.alloc(8) }); // no ACK
    kernel.receive('vcan0', { id: 0x305, rtr: true, data: Buffer.alloc(0) });
    kernel.receive('vcan0', { id: 0x305, data: Buffer.from([1]) });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ids).toEqual([0x305]);
    expect(lost).toEqual([]);
    expect(bus.isOpen).toBe(true);
  });

  it('stops the channel once on close', async () => {
    const kernel = new FakeCanKernel();
    const bus = fakeBus(kernel);
    await bus.open();
    await bus.close();
    await bus.close();
    expect(kernel.channels[0].stopCalls).toBe(1);
  });
});

describe('linuxSocketCanHost', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  /** A fake /proc and /sys tree; sysfs prints flags in hex, e.g. 0x1003 for UP|BROADCAST... */
  function fakeRoot(protocols: string | undefined, interfaces: Record<string, { type: number; flags: string }>): string {
    const root = mkdtempSync(join(tmpdir(), 'fake-sysfs-'));
    roots.push(root);
    if (protocols !== undefined) {
      mkdirSync(join(root, 'proc/net'), { recursive: true });
      writeFileSync(join(root, 'proc/net/protocols'), protocols);
    }
    for (const [name, { type, flags }] of Object.entries(interfaces)) {
      const dir = join(root, 'sys/class/net', name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'type'), `${type}\n`);
      writeFileSync(join(dir, 'flags'), `${flags}\n`);
    }
    return root;
  }

  const header = 'protocol  size sockets  memory press maxhdr  slab module     cl co di ac io in de sh ss gs se re sp bi br ha uh gp em\n';

  it('finds CAN_RAW among the registered protocols', () => {
    expect(linuxSocketCanHost(fakeRoot(`${header}CAN_RAW    1000      0       -1   NI       0   no  can_raw    n  n  n  n  n  n  n  n  n  n  n  n  n  n  n  n  n  n  n\n`, {})).canRawAvailable()).toBe(true);
    expect(linuxSocketCanHost(fakeRoot(`${header}TCP        2432      5        2   no     320   yes  kernel     y  y  y  y  y  y  y  y  y  y  y  y  y  n  y  y  y  y  y\n`, {})).canRawAvailable()).toBe(false);
    expect(linuxSocketCanHost(fakeRoot(undefined, {})).canRawAvailable()).toBeUndefined();
  });

  it('tells missing, non-CAN, down and up interfaces apart', () => {
    const host = linuxSocketCanHost(
      fakeRoot(undefined, {
        eth0: { type: 1, flags: '0x1003' },
        can0: { type: 280, flags: '0x80' },
        can1: { type: 280, flags: '0xc1' },
      }),
    );
    expect(host.interfaceState('can9')).toBe('missing');
    expect(host.interfaceState('eth0')).toBe('not-can');
    expect(host.interfaceState('can0')).toBe('down');
    expect(host.interfaceState('can1')).toBe('up');
  });

  it('reads the real /sys of this machine', () => {
    expect(linuxSocketCanHost().interfaceState('lo')).toBe('not-can');
    expect(linuxSocketCanHost().interfaceState('nosuchif0')).toBe('missing');
  });
});
