import { describe, expect, it } from 'vitest';
import { SerialLink } from '../../src/transport/serial-link';
import { SlcanBus } from '../../src/transport/slcan-bus';
import { SocketCanBus } from '../../src/transport/socketcan-bus';
import { createBmsLink, createCanBus, parseBmsLinkSpec, parseCanSpec } from '../../src/transport/spec';
import { StdoutBus } from '../../src/transport/stdout-bus';
import { TcpLink } from '../../src/transport/tcp-link';

describe('parseBmsLinkSpec', () => {
  it.each([
    ['/dev/ttyUSB0', { kind: 'serial', path: '/dev/ttyUSB0' }],
    ['/dev/serial/by-id/usb-FTDI_FT232R-if00-port0', { kind: 'serial', path: '/dev/serial/by-id/usb-FTDI_FT232R-if00-port0' }],
    ['  /tmp/rig/bms-pty  ', { kind: 'serial', path: '/tmp/rig/bms-pty' }],
    ['tcp://192.168.1.50:8899', { kind: 'tcp', host: '192.168.1.50', port: 8899 }],
    ['TCP://converter.local:502', { kind: 'tcp', host: 'converter.local', port: 502 }],
    ['tcp://[::1]:8899', { kind: 'tcp', host: '::1', port: 8899 }],
    ['tcp://127.0.0.1:65535', { kind: 'tcp', host: '127.0.0.1', port: 65535 }],
  ])('accepts %j', (spec, expected) => {
    expect(parseBmsLinkSpec(spec)).toEqual({ ok: true, spec: expected });
  });

  const forms = 'expected a serial device path (/dev/ttyUSB0) or tcp://host:port (tcp://192.168.1.50:8899)';
  it.each([
    ['', `empty BMS link; ${forms}`],
    ['   ', `empty BMS link; ${forms}`],
    ['ttyUSB0', '"ttyUSB0": a serial device needs its full path, e.g. /dev/ttyUSB0'],
    ['COM3', '"COM3": Windows COM ports are not supported; the bridge runs on Linux (/dev/ttyUSB0)'],
    ['192.168.1.50:8899', '"192.168.1.50:8899": did you mean tcp://192.168.1.50:8899?'],
    ['udp://192.168.1.50:8899', `"udp://192.168.1.50:8899": unsupported scheme "udp://"; ${forms}`],
    ['tcp://192.168.1.50', '"tcp://192.168.1.50": missing port; expected tcp://host:port (converters often use 8899 or 502)'],
    ['tcp://192.168.1.50:', '"tcp://192.168.1.50:": missing port; expected tcp://host:port (converters often use 8899 or 502)'],
    ['tcp://:8899', '"tcp://:8899": missing host; expected tcp://host:port'],
    ['tcp://host:0', '"tcp://host:0": port "0" is not a number in 1..65535'],
    ['tcp://host:70000', '"tcp://host:70000": port "70000" is not a number in 1..65535'],
    ['tcp://host:88a', '"tcp://host:88a": port "88a" is not a number in 1..65535'],
    ['tcp://host:8899/bms', '"tcp://host:8899/bms": unexpected "/bms" after host:port; expected tcp://host:port'],
    ['bms', `"bms": ${forms}`],
  ])('rejects %j with a helpful message', (spec, error) => {
    expect(parseBmsLinkSpec(spec)).toEqual({ ok: false, error });
  });
});

describe('parseCanSpec', () => {
  it.each([
    ['socketcan:can0', { kind: 'socketcan', iface: 'can0' }],
    ['socketcan:vcan0', { kind: 'socketcan', iface: 'vcan0' }],
    ['socketcan:slcan-inverter1', { kind: 'socketcan', iface: 'slcan-inverter1' }],
    ['slcan:/dev/ttyACM0', { kind: 'slcan', path: '/dev/ttyACM0', bitrate: 500000 }],
    ['slcan:/dev/ttyACM0@250000', { kind: 'slcan', path: '/dev/ttyACM0', bitrate: 250000 }],
    ['slcan:/dev/serial/by-id/usb-CANable@x-if00@1000000', { kind: 'slcan', path: '/dev/serial/by-id/usb-CANable@x-if00', bitrate: 1000000 }],
    ['stdout', { kind: 'stdout' }],
    [' stdout ', { kind: 'stdout' }],
  ])('accepts %j', (spec, expected) => {
    expect(parseCanSpec(spec)).toEqual({ ok: true, spec: expected });
  });

  const forms =
    'expected socketcan:<interface> (socketcan:can0), slcan:<serial device>[@<CAN bitrate>] (slcan:/dev/ttyACM0, slcan:/dev/ttyACM0@250000), or stdout';
  const rates = '10000, 20000, 50000, 100000, 125000, 250000, 500000, 800000, 1000000';
  it.each([
    ['', `empty CAN spec; ${forms}`],
    ['can0', `"can0": did you mean socketcan:can0? ${forms}`],
    ['vcan0', `"vcan0": did you mean socketcan:vcan0? ${forms}`],
    ['/dev/ttyACM0', `"/dev/ttyACM0": did you mean slcan:/dev/ttyACM0? ${forms}`],
    ['inverter', `"inverter": ${forms}`],
    ['socketcan:', '"socketcan:": missing interface name, e.g. socketcan:can0'],
    ['socketcan:averyveryverylongname', '"socketcan:averyveryverylongname": "averyveryverylongname" is not an interface name (1..15 characters, no spaces, "/" or ":")'],
    ['socketcan:can 0', '"socketcan:can 0": "can 0" is not an interface name (1..15 characters, no spaces, "/" or ":")'],
    ['socketcan:/dev/can0', '"socketcan:/dev/can0": "/dev/can0" is not an interface name (1..15 characters, no spaces, "/" or ":")'],
    ['slcan:', "\"slcan:\": slcan needs the adapter's serial device path, e.g. slcan:/dev/ttyACM0"],
    ['slcan:ttyACM0', "\"slcan:ttyACM0\": slcan needs the adapter's serial device path, e.g. slcan:/dev/ttyACM0"],
    ['slcan:@500000', "\"slcan:@500000\": slcan needs the adapter's serial device path, e.g. slcan:/dev/ttyACM0"],
    ['slcan:/dev/ttyACM0@300000', `"slcan:/dev/ttyACM0@300000": "300000" is not a CAN bit rate an SLCAN adapter can set (${rates})`],
    ['slcan:/dev/ttyACM0@500k', `"slcan:/dev/ttyACM0@500k": "500k" is not a CAN bit rate an SLCAN adapter can set (${rates})`],
    ['slcan:/dev/ttyACM0@', `"slcan:/dev/ttyACM0@": "" is not a CAN bit rate an SLCAN adapter can set (${rates})`],
    ['vcan:vcan0', `"vcan:vcan0": unknown CAN transport "vcan"; ${forms}`],
    ['memory:bus', `"memory:bus": unknown CAN transport "memory"; ${forms}`],
  ])('rejects %j with a helpful message', (spec, error) => {
    expect(parseCanSpec(spec)).toEqual({ ok: false, error });
  });
});

describe('createBmsLink / createCanBus', () => {
  it('builds a serial link at the configured baud rate from a path', () => {
    const link = createBmsLink('/dev/ttyUSB0', { baudRate: 9600 });
    expect(link).toBeInstanceOf(SerialLink);
    expect(link.description).toBe('serial /dev/ttyUSB0 9600 8N1');
  });

  it('builds a TCP link from tcp://host:port, or from a parsed spec', () => {
    expect(createBmsLink('tcp://192.168.1.50:8899')).toBeInstanceOf(TcpLink);
    expect(createBmsLink({ kind: 'tcp', host: '::1', port: 502 }).description).toBe('tcp [::1]:502');
  });

  it('builds each CAN transport', () => {
    expect(createCanBus('socketcan:can0')).toBeInstanceOf(SocketCanBus);
    expect(createCanBus('socketcan:can0').description).toBe('socketcan can0');
    const slcan = createCanBus('slcan:/dev/ttyACM0@250000');
    expect(slcan).toBeInstanceOf(SlcanBus);
    expect(slcan.description).toBe('slcan 250000 bit/s on serial /dev/ttyACM0 115200 8N1');
    expect(createCanBus('stdout')).toBeInstanceOf(StdoutBus);
  });

  it('throws the parse error for a spec that was not validated first', () => {
    expect(() => createBmsLink('ttyUSB0')).toThrow('"ttyUSB0": a serial device needs its full path, e.g. /dev/ttyUSB0');
    expect(() => createCanBus('can0')).toThrow('"can0": did you mean socketcan:can0?');
  });
});
