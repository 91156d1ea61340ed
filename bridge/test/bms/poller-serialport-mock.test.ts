/**
 * The poller over the real SerialLink and node-serialport's stream, with @serialport/binding-mock
 * in place of the OS port (SerialLink's injectable port factory, design/MODELS.md §3). The mock BMS
 * answers each request with a captured reply; time is Vitest's fake time (binding-mock itself
 * only uses process.nextTick, which stays real).
 */
import type { CreatePortOptions, MockPortBinding } from '@serialport/binding-mock';
import { SerialPortMock } from 'serialport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SerialLink, type SerialPortFactory } from '../../src/transport/serial-link';
import { bytesOf } from '../protocol/jk/helpers';
import { CAPTURE, captured, READ_ALL_REQUEST, startPoller } from './support';

/** The registry SerialPortMock really uses (see bridge/test/transport/serial-link.test.ts). */
const MockBinding = SerialPortMock.binding;
const PATH = '/dev/ttyJKMOCK0';

/**
 * A BMS behind the mock port: after each write reaches the binding it emits `answer(n)` for the
 * n-th request, `replyDelayMs` later (a real JK starts answering within a millisecond).
 */
function mockBms(answer: (n: number) => Uint8Array | null, replyDelayMs = 2) {
  const ports: SerialPortMock[] = [];
  let requests = 0;
  const createPort: SerialPortFactory = (options) => {
    const port = new SerialPortMock(options);
    ports.push(port);
    port.on('open', () => {
      const binding = port.port as MockPortBinding;
      const write = binding.write.bind(binding);
      binding.write = async (buffer) => {
        await write(buffer);
        const bytes = answer(requests++);
        if (bytes) setTimeout(() => binding.isOpen && binding.emitData(Buffer.from(bytes)), replyDelayMs);
      };
    });
    return port;
  };
  return {
    link: new SerialLink({ path: PATH, createPort }),
    /** Everything written to the (latest) mock port. */
    recording: () => Uint8Array.from((ports.at(-1)?.port as MockPortBinding).recording),
    portsBuilt: () => ports.length,
  };
}

function createMockPort(options: CreatePortOptions = {}): void {
  MockBinding.createPort(PATH, { record: true, ...options });
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  MockBinding.reset();
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
  MockBinding.reset();
});

describe('BmsPoller with @serialport/binding-mock', () => {
  it('polls, and decodes captured replies that the port delivers in 64-byte reads', async () => {
    // maxReadSize 64: each 291-byte reply reaches the poller in 5 pieces, as a UART would split it.
    createMockPort({ maxReadSize: 64 });
    const order = [CAPTURE.s16a, CAPTURE.s16b, CAPTURE.s16a];
    const bms = mockBms((n) => bytesOf(order[n % order.length]));
    const pieces: number[] = [];
    bms.link.onData((chunk) => pieces.push(chunk.length));
    const probe = startPoller(bms.link);
    await advance(2500);
    await probe.poller.stop();

    expect(pieces.slice(0, 5)).toEqual([64, 64, 64, 64, 291 - 4 * 64]);

    expect(probe.of('snapshot').map((e) => e.snapshot)).toMatchObject(order.map(captured));
    expect(probe.of('snapshot').map((e) => e.atMs)).toEqual([2, 1002, 2002]);
    expect(probe.poller.stats).toMatchObject({ polls: 3, snapshots: 3, timeouts: 0, errors: {} });
    // What went over the wire: the canonical read-all request, three times, nothing else.
    expect([...bms.recording()]).toEqual([...READ_ALL_REQUEST, ...READ_ALL_REQUEST, ...READ_ALL_REQUEST]);
  });

  it('an echoing port (half-duplex RS485 adapter): each echoed request is skipped, each reply counts', async () => {
    createMockPort({ echo: true, maxReadSize: 100 });
    const bms = mockBms(() => bytesOf(CAPTURE.s16a));
    const probe = startPoller(bms.link);
    await advance(1500);
    await probe.poller.stop();

    expect(probe.events.map((e) => e.type)).toEqual(['link-up', 'snapshot', 'snapshot']);
    expect(probe.poller.stats).toMatchObject({ snapshots: 2, timeouts: 0, errors: {} });
  });

  it('a BMS that stays silent behind the port: missed polls at the reply timeout', async () => {
    createMockPort();
    const bms = mockBms(() => null);
    const probe = startPoller(bms.link);
    await advance(1500);
    await probe.poller.stop();

    expect(probe.events.map((e) => [e.type, e.atMs])).toEqual([
      ['link-up', 0],
      ['missed', 300],
      ['missed', 1300],
    ]);
  });

  it('an adapter plugged in late: open failures back off, then the poller opens a new port and polls', async () => {
    const bms = mockBms(() => bytesOf(CAPTURE.s16a));
    const probe = startPoller(bms.link); // no such port yet: fails at 0, retries at 1000 and 3000
    await advance(2000);
    expect(probe.events).toEqual([]);
    createMockPort();
    await advance(1500);
    await probe.poller.stop();

    expect(bms.portsBuilt()).toBe(3);
    expect(probe.events.map((e) => [e.type, e.atMs])).toEqual([
      ['link-up', 3000],
      ['snapshot', 3002],
    ]);
  });
});
