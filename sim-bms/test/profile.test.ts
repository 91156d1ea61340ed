import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeResponse, decodeResponse } from '../../bridge/src/protocol/jk';
import { listProfiles, loadProfile, makeProfile, withCellCount } from '../src/profile';
import { VirtualBms } from '../src/virtual-bms';

describe('battery profiles in scenarios/profiles', () => {
  it('lists the shipped profiles', () => {
    expect(listProfiles()).toEqual(expect.arrayContaining(['jk-16s-280ah', 'jk-8s-100ah', 'jk-24s-200ah', 'jk-14s-nmc-50ah']));
  });

  it.each(listProfiles())('%s loads, and its reply encodes and decodes back exactly', (name) => {
    const profile = loadProfile(name);
    expect(profile.name).toBe(name);
    expect(profile.settings.cellCountSetting).toBe(profile.cells);
    const snapshot = new VirtualBms({ profile }).reportedSnapshot();
    const decoded = decodeResponse(encodeResponse(snapshot));
    expect(decoded.ok && decoded.snapshot).toEqual(snapshot);
  });

  it('reads the 16S profile as written', () => {
    const p = loadProfile('jk-16s-280ah');
    expect(p).toMatchObject({ cells: 16, capacityAh: 280, chemistry: 'lifepo4', seed: 16 });
    expect(p.settings).toMatchObject({ cellOvpMv: 3650, cellOvpRecoveryMv: 3400, packOvpMv: 58_400, capacityAh: 280, batteryType: 0 });
    expect(loadProfile('jk-14s-nmc-50ah').settings.batteryType).toBe(1); // 0xAF follows the chemistry
  });

  it('fills defaults; pack limits follow the cell limits and the count', () => {
    const p = makeProfile({ name: 'x', cells: 4, settings: { cellOvpMv: 3600, cellUvpMv: 2900 } });
    expect(p.settings.packOvpMv).toBe(4 * 3610);
    expect(p.settings.packUvpMv).toBe(4 * 2890);
    expect(p).toMatchObject({ capacityAh: 280, chemistry: 'lifepo4', initialSocPct: 50 });
    const q = withCellCount(p, 8);
    expect(q.cells).toBe(8);
    expect(q.settings).toMatchObject({ cellCountSetting: 8, packOvpMv: 8 * 3610, packUvpMv: 8 * 2890 });
    expect(() => withCellCount(p, 33)).toThrow('cell count 33 is out of range (4 to 32)');
  });

  it('names the file and the key in errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-test-'));
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, 'name: bad\ncells: 40\nsettings:\n  cellOvpMv: 9000\n  colour: red\n');
    expect(() => loadProfile(file)).toThrow(/bad\.yaml: invalid battery profile\n {2}cells: .*\n/);
    let message = '';
    try {
      loadProfile(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/settings\.cellOvpMv: /);
    expect(message).toMatch(/settings: .*colour/);
    fs.writeFileSync(file, 'name: bad\ncells: 8\nsettings:\n  cellOvpMv: 3300\n  cellOvpRecoveryMv: 3400\n');
    expect(() => loadProfile(file)).toThrow(`${file}: invalid battery profile\n  settings: cellOvpRecoveryMv must be below cellOvpMv`);
    fs.writeFileSync(file, 'name: [unclosed\n');
    expect(() => loadProfile(file)).toThrow(/bad\.yaml: not valid YAML/);
    expect(() => loadProfile('no-such-profile')).toThrow(/no-such-profile\.yaml: cannot read battery profile: .*\(known profiles: .*jk-16s-280ah/);
  });
});
