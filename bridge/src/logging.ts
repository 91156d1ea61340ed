/**
 * Structured logs (pino) on stderr, so `--can stdout` keeps stdout for candump lines.
 * "pretty" prints one human line per event; "json" prints pino JSON lines for log shippers.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { BridgeConfig } from './config/schema';

export function createLogger(options: BridgeConfig['log'], name = 'bridge'): Logger {
  if (options.format === 'json') return pino({ name, level: options.level }, pino.destination({ fd: 2, sync: true }));
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
