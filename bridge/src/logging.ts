/**
 * Structured logs (pino) on stderr, so `--can stdout` keeps stdout for candump lines.
 * "pretty" prints one human line per event; "json" prints pino JSON lines for log shippers.
 */
import pino, { type Logger } from 'pino';
import type { BridgeConfig } from './config/schema';

export function createLogger(options: BridgeConfig['log'], name = 'bridge'): Logger {
  if (options.format === 'json') return pino({ name, level: options.level }, pino.destination({ fd: 2, sync: true }));
  // Loaded only for pretty logs: pino-pretty and its dependencies are some 40 modules that a
  // bridge logging JSON (to a log shipper) would load for nothing at every start.
  const pretty = require('pino-pretty') as typeof import('pino-pretty');
  const stream = pretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    // The status line already says the state in words; JSON keeps it for machines.
    ignore: 'pid,hostname,name,state',
    singleLine: true,
  });
  return pino({ name, level: options.level }, stream);
}
