import { describe, expect, it } from 'vitest';
import { canFrame } from '../../src/protocol/can/frame';
import { encodePylonHvEnsemble, parseCandumpLine } from '../../src/protocol/can';
import { baseState } from '../protocol/can/helpers';
import { StdoutBus, type TextSink } from '../../src/transport/stdout-bus';
import { expectTransportError } from './support/byte-link-contract';

/** A sink that records what it is given, and can be made to fail like a closed pipe. */
function recordingSink(): TextSink & { text: string; failWith?: Error } {
  const sink = {
    text: '',
    failWith: undefined as Error | undefined,
    write(chunk: string, callback: (error?: Error | null) => void) {
      if (sink.failWith) callback(sink.failWith);
      else {
        sink.text += chunk;
        callback(null);
      }
      return true;
    },
  };
  return sink;
}

describe('stdout-bus (dry run)', () => {
  it('prints each sent frame as a candump -L line', async () => {
    const out = recordingSink();
    let now = 1_700_000_000_123.456;
    const bus = new StdoutBus({ out, now: () => now });
    await bus.open();
    await bus.send(canFrame(0x351, [0x10, 0x02, 0xc0, 0x12, 0xc0, 0x12, 0xc2, 0x01]));
    now = 1_700_000_001_000;
    await bus.send(canFrame(0x1806e5f4, [0xab], true));
    await bus.send(canFrame(0x35e, []));
    expect(out.text).toBe(
      '(1700000000.123456) can0 351#1002C012C012C201\n' + '(1700000001.000000) can0 1806E5F4#AB\n' + '(1700000001.000000) can0 35E#\n',
    );
  });

  it('writes a Pylon HV reply with its 29-bit id as 8 hex digits, which candump parsing reads back as extended', async () => {
    const out = recordingSink();
    const bus = new StdoutBus({ out, now: () => 1_700_000_003_000 });
    await bus.open();
    const [reply] = encodePylonHvEnsemble({ ...baseState(), voltageV: 246.9, currentA: 0, temperatureC: 18.1, socPct: 46, sohPct: 100 });
    await bus.send(reply);
    expect(out.text).toBe('(1700000003.000000) can0 00004210#A50930759D042E64\n');
    const parsed = parseCandumpLine(out.text.trim());
    expect(parsed.ok && [parsed.frame.id, parsed.frame.ext]).toEqual([0x4210, true]);
  });

  it('names the interface it was given, so canplayer can replay onto it', async () => {
    const out = recordingSink();
    const bus = new StdoutBus({ out, iface: 'vcan0', now: () => 1_700_000_002_500 });
    expect(bus.description).toBe('stdout (candump -L as vcan0)');
    await bus.open();
    await bus.send(canFrame(0x305, []));
    expect(out.text).toBe('(1700000002.500000) vcan0 305#\n');
  });

  it('refuses sends while closed and prints nothing', async () => {
    const out = recordingSink();
    const bus = new StdoutBus({ out });
    await expectTransportError(bus.send(canFrame(0x351, [1])), 'NOT_OPEN');
    await bus.open();
    await bus.close();
    await expectTransportError(bus.send(canFrame(0x351, [1])), 'NOT_OPEN');
    expect(out.text).toBe('');
  });

  it('refuses frames classical CAN cannot carry', async () => {
    const out = recordingSink();
    const bus = new StdoutBus({ out });
    await bus.open();
    await expectTransportError(bus.send(canFrame(0x351, [1, 2, 3, 4, 5, 6, 7, 8, 9])), 'WRITE_FAILED');
    expect(out.text).toBe('');
  });

  it('turns a failed write (closed pipe) into WRITE_FAILED', async () => {
    const out = recordingSink();
    out.failWith = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const bus = new StdoutBus({ out });
    await bus.open();
    const error = await expectTransportError(bus.send(canFrame(0x351, [1])), 'WRITE_FAILED');
    expect(error.message).toBe('WRITE_FAILED: stdout (candump -L as can0): write EPIPE');
  });

  it('never receives frames nor loses its link', async () => {
    const bus = new StdoutBus({ out: recordingSink() });
    const events: unknown[] = [];
    const offFrame = bus.onFrame((f) => events.push(f));
    const offLost = bus.onDisconnect((e) => events.push(e));
    await bus.open();
    await bus.send(canFrame(0x351, [1]));
    await bus.close();
    expect(events).toEqual([]);
    offFrame();
    offLost();
  });
});
