import type { MockPortBinding } from '@serialport/binding-mock';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair } from '../../../sim-kit/src/pty';
import { describeSerialOpenError, SerialLink, type SerialPortFactory, type SerialPortLike } from '../../src/transport/serial-link';
import type { TransportError } from '../../src/transport/types';
import { byteLinkContract, expectTransportError } from './support/byte-link-contract';
import { concatBytes, eventually } from './support/eventually';

/**
 * The registry SerialPortMock really uses. Importing '@serialport/binding-mock' here would load its
 * ESM build, a second registry that the CommonJS 'serialport' never sees.
 */
const MockBinding = SerialPortMock.binding;

/** Captures every SerialPortMock the link builds, so a test can reach the port's binding. */
function mockPorts(): { createPort: SerialPortFactory; current(): MockPortBinding } {
  const ports: SerialPortMock[] = [];
  return {
    createPort: (options) => {
      const port = new SerialPortMock(options);
      ports.push(port);
      return port;
    },
    current: () => {
      const binding = ports.at(-1)?.port;
      if (!binding) throw new Error('no mock port has been opened');
      return binding;
    },
  };
}

/**
 * binding-mock has no unplug. The kernel reports one to a blocked read(2) as ENXIO, so make the
 * binding's reads fail that way and wake the read that is waiting.
 */
async function unplug(binding: MockPortBinding): Promise<void> {
  binding.read = () => Promise.reject(Object.assign(new Error('ENXIO: no such device or address, read'), { code: 'ENXIO' }));
  // The stream's read parks itself only after a tick; wake it once it waits.
  await new Promise((resolve) => setImmediate(resolve));
  binding.emitData(Buffer.alloc(0));
}

byteLinkContract('serial-link over @serialport/binding-mock', async () => {
  MockBinding.reset();
  MockBinding.createPort('/dev/ttyMOCK0', { record: true });
  const ports = mockPorts();
  const link = new SerialLink({ path: '/dev/ttyMOCK0', createPort: ports.createPort });
  return {
    link,
    peer: {
      write: async (bytes) => ports.current().emitData(Buffer.from(bytes)),
      received: () => ports.current().recording,
    },
    disappear: () => unplug(ports.current()),
    unreachable: async () => new SerialLink({ path: '/dev/ttyMOCK-absent', createPort: ports.createPort }),
    dispose: () => link.close(),
  };
});

byteLinkContract('serial-link over a real socat pty pair', async () => {
  const pty = await openPtyPair();
  const link = new SerialLink({ path: pty.pathA });
  // The far end is a second SerialLink: both ends go through the real serialport binding.
  const far = new SerialLink({ path: pty.pathB });
  await far.open();
  const received: Uint8Array[] = [];
  far.onData((chunk) => received.push(Uint8Array.from(chunk)));
  return {
    link,
    peer: { write: (bytes) => far.write(bytes), received: () => concatBytes(received) },
    disappear: () => pty.close(),
    unreachable: async () => new SerialLink({ path: `${pty.pathA}.absent` }),
    dispose: async () => {
      await link.close();
      await far.close();
      await pty.close();
    },
  };
});

describe('serial-link on a real pty', () => {
  it('reports the loss when the far end vanishes right after traffic (stock bindings-cpp would spin on EOF)', async () => {
    // Five rounds: the hangup must land while a read is in flight rather than parked in the
    // poller, which happens often but not always.
    for (let round = 0; round < 5; round++) {
      const pty = await openPtyPair();
      const far = new SerialLink({ path: pty.pathB });
      await far.open();
      far.onData((chunk) => void far.write(chunk));
      const link = new SerialLink({ path: pty.pathA });
      const lost: TransportError[] = [];
      link.onDisconnect((e) => lost.push(e));
      await link.open();
      const echoed = new Promise<void>((resolve) => link.onData(() => resolve()));
      await link.write(Uint8Array.of(1, 2, 3));
      await echoed;
      void pty.close();
      await eventually(() => lost.length > 0, `the disconnect in round ${round}`, 1000);
      expect(lost[0].code).toBe('DISCONNECTED');
      await far.close();
    }
  });
});

describe('serial-link specifics', () => {
  afterEach(() => MockBinding.reset());

  it('opens 8N1 without flow control at 115200 by default', async () => {
    MockBinding.createPort('/dev/ttyUSB0');
    const ports = mockPorts();
    const link = new SerialLink({ path: '/dev/ttyUSB0', createPort: ports.createPort });
    expect(link.description).toBe('serial /dev/ttyUSB0 115200 8N1');
    await link.open();
    expect(ports.current().openOptions).toMatchObject({
      path: '/dev/ttyUSB0',
      baudRate: 115200,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
    });
    await link.close();
  });

  it('uses the configured baud rate', async () => {
    MockBinding.createPort('/dev/ttyUSB1');
    const ports = mockPorts();
    const link = new SerialLink({ path: '/dev/ttyUSB1', baudRate: 9600, createPort: ports.createPort });
    await link.open();
    expect(ports.current().openOptions.baudRate).toBe(9600);
    expect(link.description).toBe('serial /dev/ttyUSB1 9600 8N1');
    await link.close();
  });

  it('reports OPEN_FAILED when the port constructor rejects the options', async () => {
    const ports = mockPorts();
    const error = await expectTransportError(new SerialLink({ path: '', createPort: ports.createPort }).open(), 'OPEN_FAILED');
    expect(error.message).toContain('"path" is not defined');
  });

  it.each([
    ['Error: No such file or directory, cannot open /dev/ttyUSB0', '/dev/ttyUSB0: no such device — is the adapter plugged in?'],
    [
      'Error: Permission denied, cannot open /dev/ttyUSB0',
      '/dev/ttyUSB0: permission denied — add the user to the dialout group (sudo usermod -aG dialout $USER, then log in again)',
    ],
    ['Error Resource temporarily unavailable Cannot lock port', '/dev/ttyUSB0: in use by another process (a second bridge, or ModemManager probing the port?)'],
    ['Error: Inappropriate ioctl for device setting custom baud rate of 115200', '/dev/ttyUSB0: not a serial device'],
    ['Error: Input/output error, cannot open /dev/ttyUSB0', 'cannot open /dev/ttyUSB0: Error: Input/output error, cannot open /dev/ttyUSB0'],
  ])('explains the binding error "%s"', (binding, explained) => {
    expect(describeSerialOpenError('/dev/ttyUSB0', new Error(binding))).toBe(explained);
  });

  it('explains errors that carry an errno code', () => {
    const enoent = Object.assign(new Error('open failed'), { code: 'ENOENT' });
    const eacces = Object.assign(new Error('open failed'), { code: 'EACCES' });
    expect(describeSerialOpenError('/dev/x', enoent)).toBe('/dev/x: no such device — is the adapter plugged in?');
    expect(describeSerialOpenError('/dev/x', eacces)).toContain('permission denied — add the user to the dialout group');
  });

  it('turns a failed open into OPEN_FAILED with the explanation and the original error as cause', async () => {
    const denied = new Error('Error: Permission denied, cannot open /dev/ttyUSB0');
    const refusing: SerialPortLike = {
      isOpen: false,
      open: (callback) => process.nextTick(() => callback(denied)),
      write: () => true,
      close: () => undefined,
      on: () => undefined,
    };
    const error = await expectTransportError(new SerialLink({ path: '/dev/ttyUSB0', createPort: () => refusing }).open(), 'OPEN_FAILED');
    expect(error.message).toContain('permission denied — add the user to the dialout group');
    expect(error.cause).toBe(denied);
  });

  it('reports a real missing device as "no such device"', async () => {
    const error = await expectTransportError(new SerialLink({ path: '/dev/ttyJKBMS-not-here' }).open(), 'OPEN_FAILED');
    expect(error.message).toBe('OPEN_FAILED: /dev/ttyJKBMS-not-here: no such device — is the adapter plugged in?');
  });

  it('names the lost port and the binding error in the disconnect report', async () => {
    MockBinding.createPort('/dev/ttyUSB2');
    const ports = mockPorts();
    const link = new SerialLink({ path: '/dev/ttyUSB2', createPort: ports.createPort });
    const lost: TransportError[] = [];
    link.onDisconnect((e) => lost.push(e));
    await link.open();
    await unplug(ports.current());
    await eventually(() => lost.length > 0, 'the disconnect');
    expect(lost[0].message).toBe(
      'DISCONNECTED: serial /dev/ttyUSB2 115200 8N1 lost: ENXIO: no such device or address, read — unplugged, or the other end went away?',
    );
  });

  it('is refused by a second link while the first holds the port', async () => {
    MockBinding.createPort('/dev/ttyUSB3');
    const ports = mockPorts();
    const first = new SerialLink({ path: '/dev/ttyUSB3', createPort: ports.createPort });
    await first.open();
    await expectTransportError(new SerialLink({ path: '/dev/ttyUSB3', createPort: ports.createPort }).open(), 'OPEN_FAILED');
    await first.close();
  });

  it('closes a link whose open is still in progress once the open completes', async () => {
    MockBinding.createPort('/dev/ttyUSB4');
    const ports = mockPorts();
    const link = new SerialLink({ path: '/dev/ttyUSB4', createPort: ports.createPort });
    const opening = link.open();
    await link.close();
    await opening;
    expect(link.isOpen).toBe(false);
    expect(ports.current().isOpen).toBe(false);
  });
});
