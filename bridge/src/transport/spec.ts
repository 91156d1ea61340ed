/**
 * The user-facing transport specs (--bms, --can, config file) and the factories that turn them
 * into transports. Parsing never throws: it returns an error sentence that says what is allowed.
 */
import { SLCAN_BITRATES } from '../protocol/can/slcan';
import { SerialLink, type SerialPortFactory } from './serial-link';
import { SlcanBus, type TransportLog } from './slcan-bus';
import { SocketCanBus, type SocketCanModule } from './socketcan-bus';
import { StdoutBus, type TextSink } from './stdout-bus';
import { TcpLink } from './tcp-link';
import type { ByteLink, CanBus } from './types';

export type BmsLinkSpec = { kind: 'serial'; path: string } | { kind: 'tcp'; host: string; port: number };

export type CanSpec = { kind: 'socketcan'; iface: string } | { kind: 'slcan'; path: string; bitrate: number } | { kind: 'stdout' };

export type SpecResult<T> = { ok: true; spec: T } | { ok: false; error: string };

const BMS_FORMS = 'expected a serial device path (/dev/ttyUSB0) or tcp://host:port (tcp://192.168.1.50:8899)';
const CAN_FORMS = 'expected socketcan:<interface> (socketcan:can0), slcan:<serial device>[@<CAN bitrate>] (slcan:/dev/ttyACM0, slcan:/dev/ttyACM0@250000), or stdout';
const DEFAULT_SLCAN_BITRATE = 500_000;
/** IFNAMSIZ is 16 including the terminating NUL. */
const MAX_IFACE_LENGTH = 15;

function fail<T>(error: string): SpecResult<T> {
  return { ok: false, error };
}

export function parseBmsLinkSpec(text: string): SpecResult<BmsLinkSpec> {
  const spec = text.trim();
  if (spec === '') return fail(`empty BMS link; ${BMS_FORMS}`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec);
  if (scheme) {
    if (scheme[1].toLowerCase() !== 'tcp') return fail(`"${spec}": unsupported scheme "${scheme[1]}://"; ${BMS_FORMS}`);
    return parseTcp(spec, spec.slice(scheme[0].length));
  }
  if (spec.startsWith('/')) return { ok: true, spec: { kind: 'serial', path: spec } };
  if (/^tty/.test(spec)) return fail(`"${spec}": a serial device needs its full path, e.g. /dev/${spec}`);
  if (/^COM\d+$/i.test(spec)) return fail(`"${spec}": Windows COM ports are not supported; the bridge runs on Linux (/dev/ttyUSB0)`);
  if (/^[^\s/:]+:\d+$/.test(spec)) return fail(`"${spec}": did you mean tcp://${spec}?`);
  return fail(`"${spec}": ${BMS_FORMS}`);
}

function parseTcp(spec: string, authority: string): SpecResult<BmsLinkSpec> {
  const parts = /^(?:\[([^\]]*)\]|([^:/[\]\s]*))(?::([^/]*))?(.*)$/.exec(authority);
  const host = parts?.[1] ?? parts?.[2] ?? '';
  const port = parts?.[3];
  const rest = parts?.[4] ?? authority;
  if (rest !== '') return fail(`"${spec}": unexpected "${rest}" after host:port; expected tcp://host:port`);
  if (host === '') return fail(`"${spec}": missing host; expected tcp://host:port`);
  if (port === undefined || port === '') return fail(`"${spec}": missing port; expected tcp://host:port (converters often use 8899 or 502)`);
  const number = /^\d+$/.test(port) ? Number(port) : NaN;
  if (!(number >= 1 && number <= 65535)) return fail(`"${spec}": port "${port}" is not a number in 1..65535`);
  return { ok: true, spec: { kind: 'tcp', host, port: number } };
}

export function parseCanSpec(text: string): SpecResult<CanSpec> {
  const spec = text.trim();
  if (spec === '') return fail(`empty CAN spec; ${CAN_FORMS}`);
  if (spec === 'stdout') return { ok: true, spec: { kind: 'stdout' } };
  const colon = spec.indexOf(':');
  if (colon < 0) {
    if (spec.startsWith('/')) return fail(`"${spec}": did you mean slcan:${spec}? ${CAN_FORMS}`);
    if (/^v?can\d+$/.test(spec)) return fail(`"${spec}": did you mean socketcan:${spec}? ${CAN_FORMS}`);
    return fail(`"${spec}": ${CAN_FORMS}`);
  }
  const kind = spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  switch (kind) {
    case 'socketcan':
      if (rest === '') return fail(`"${spec}": missing interface name, e.g. socketcan:can0`);
      if (rest.length > MAX_IFACE_LENGTH || !/^[^\s/:]+$/.test(rest)) {
        return fail(`"${spec}": "${rest}" is not an interface name (1..${MAX_IFACE_LENGTH} characters, no spaces, "/" or ":")`);
      }
      return { ok: true, spec: { kind: 'socketcan', iface: rest } };
    case 'slcan':
      return parseSlcan(spec, rest);
    default:
      return fail(`"${spec}": unknown CAN transport "${kind}"; ${CAN_FORMS}`);
  }
}

function parseSlcan(spec: string, rest: string): SpecResult<CanSpec> {
  const at = rest.lastIndexOf('@');
  const path = at < 0 ? rest : rest.slice(0, at);
  if (!path.startsWith('/')) return fail(`"${spec}": slcan needs the adapter's serial device path, e.g. slcan:/dev/ttyACM0`);
  if (at < 0) return { ok: true, spec: { kind: 'slcan', path, bitrate: DEFAULT_SLCAN_BITRATE } };
  const text = rest.slice(at + 1);
  const supported: readonly number[] = Object.values(SLCAN_BITRATES);
  const bitrate = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!supported.includes(bitrate)) {
    return fail(`"${spec}": "${text}" is not a CAN bit rate an SLCAN adapter can set (${supported.join(', ')})`);
  }
  return { ok: true, spec: { kind: 'slcan', path, bitrate } };
}

export interface BmsLinkOptions {
  baudRate?: number;
  connectTimeoutMs?: number;
  createPort?: SerialPortFactory;
}

function resolve<T>(parse: (text: string) => SpecResult<T>, spec: string | T): T {
  if (typeof spec !== 'string') return spec;
  const result = parse(spec);
  // Configuration is validated with the parsers before anything is built; a bad string here is a bug.
  if (!result.ok) throw new Error(result.error);
  return result.spec;
}

export function createBmsLink(spec: string | BmsLinkSpec, options: BmsLinkOptions = {}): ByteLink {
  const parsed = resolve(parseBmsLinkSpec, spec);
  if (parsed.kind === 'tcp') return new TcpLink({ host: parsed.host, port: parsed.port, connectTimeoutMs: options.connectTimeoutMs });
  return new SerialLink({ path: parsed.path, baudRate: options.baudRate, createPort: options.createPort });
}

export interface CanBusOptions {
  log?: TransportLog;
  /** Dry-run output; process.stdout by default. */
  out?: TextSink;
  slcanReplyTimeoutMs?: number;
  createPort?: SerialPortFactory;
  loadSocketCan?: () => SocketCanModule;
}

export function createCanBus(spec: string | CanSpec, options: CanBusOptions = {}): CanBus {
  const parsed = resolve(parseCanSpec, spec);
  switch (parsed.kind) {
    case 'socketcan':
      return new SocketCanBus({ iface: parsed.iface, loadSocketCan: options.loadSocketCan });
    case 'slcan':
      return new SlcanBus({
        link: new SerialLink({ path: parsed.path, createPort: options.createPort }),
        bitrate: parsed.bitrate,
        replyTimeoutMs: options.slcanReplyTimeoutMs,
        log: options.log,
      });
    case 'stdout':
      return new StdoutBus({ out: options.out });
  }
}
