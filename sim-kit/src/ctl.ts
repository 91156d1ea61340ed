/**
 * One-line client of the control server (control-server.ts):
 *   jk-can-bridge ctl <port> <command...>      (in a clone: npm run ctl -- <port> <command...>)
 * prints the answer; exit status 1 when the command failed or the simulator is unreachable.
 */
import * as http from 'node:http';
import type { CommandResult } from './commands';

export function sendControlCommand(port: number, line: string, host = '127.0.0.1'): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method: 'POST', path: '/', headers: { 'content-type': 'text/plain; charset=utf-8' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ ok: res.statusCode === 200, output: Buffer.concat(chunks).toString('utf8').trimEnd() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(line);
  });
}

export async function runCtl(argv: string[]): Promise<number> {
  const [portText, ...words] = argv;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || words.length === 0) {
    process.stderr.write('usage: ctl <port> <command...>   (the simulator prints its control port at start)\n');
    return 1;
  }
  try {
    const result = await sendControlCommand(port, words.join(' '));
    (result.ok ? process.stdout : process.stderr).write(`${result.output}\n`);
    return result.ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`cannot reach the control server on 127.0.0.1:${port}: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void runCtl(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
