import { describe, expect, it } from 'vitest';
import { applyCommand, isActive, noCommands, parseCommand } from '../../src/control/commands';

describe('parseCommand', () => {
  it('accepts each command in its documented shape', () => {
    expect(parseCommand('{"command":"deny-charge","expiresInS":3600,"id":"a1"}', 86400)).toEqual({
      ok: true,
      command: { command: 'deny-charge', expiresInS: 3600, id: 'a1' },
    });
    expect(parseCommand('{"command":"allow-discharge"}', 86400)).toEqual({ ok: true, command: { command: 'allow-discharge' } });
  });

  it.each([
    ['', 'not JSON'],
    ['ON', 'not JSON'],
    ['{"command":"explode","id":"x"}', 'command: unknown command; expected one of deny-charge, allow-charge'],
    ['{"command":"deny-charge"}', 'deny-charge needs expiresInS (1-86400)'],
    ['{"command":"force-charge","expiresInS":0}', 'expiresInS: '],
    ['{"command":"force-charge","expiresInS":1.5}', 'expiresInS: '],
    ['{"command":"deny-charge","expiresInS":90000}', 'expiresInS: at most 86400'],
    ['{"command":"allow-charge","expiresInS":60}', 'allow-charge takes no expiresInS'],
    ['{"command":"deny-charge","expiresInS":60,"chargeA":500}', 'unknown key chargeA'],
    ['[1,2]', 'expected object'],
  ])('refuses %s with a reason', (text, reason) => {
    const result = parseCommand(text, 86400);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('echoes the id of a refused command so the caller can match the answer', () => {
    expect(parseCommand('{"command":"nope","id":"req-7"}', 86400)).toMatchObject({ ok: false, id: 'req-7' });
  });
});

describe('applyCommand', () => {
  it('a timed command lapses at its expiry; allow and cancel end it at once', () => {
    let c = applyCommand(noCommands, { command: 'deny-charge', expiresInS: 10 }, 'mqtt', 1000);
    expect(c.denyCharge).toEqual({ untilMs: 11_000, source: 'mqtt' });
    expect(isActive(c.denyCharge, 10_999)).toBe(true);
    expect(isActive(c.denyCharge, 11_000)).toBe(false);
    c = applyCommand(c, { command: 'force-charge', expiresInS: 5 }, 'web 127.0.0.1', 2000);
    c = applyCommand(c, { command: 'allow-charge' }, 'mqtt', 3000);
    expect(c.denyCharge).toBeNull();
    expect(c.forceCharge).toEqual({ untilMs: 7000, source: 'web 127.0.0.1' });
    expect(applyCommand(c, { command: 'cancel-force-charge' }, 'mqtt', 3000).forceCharge).toBeNull();
  });
});
