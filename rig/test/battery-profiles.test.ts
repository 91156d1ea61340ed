/**
 * The rig's battery profiles cover the chemistries and cell counts the field runs (issue 11), and
 * each is a consistent battery: the bridge reads its chemistry from its JK settings, and the cell
 * limits the rig declares to the bridge (its owner's) sit inside the BMS's own protection window,
 * so no profile makes the bridge fault by itself.
 */
import { describe, expect, it } from 'vitest';
import { controlConfigSchema, inferChemistry, resolveBatteryPolicy } from '../../bridge/src/control';
import { listProfiles, loadProfile } from '../../sim-bms/src/profile';
import { declaredBridgeConfig, PRODUCTION_TIMING } from '../src/rig-setup';

describe('scenarios/profiles', () => {
  const profiles = listProfiles().map(loadProfile);

  it('cover LiFePO4 8S/16S/24S, NMC 13S/14S and LTO', () => {
    const covered = new Set(profiles.map((p) => `${p.chemistry} ${p.cells}S`));
    for (const needed of ['lifepo4 8S', 'lifepo4 16S', 'lifepo4 24S', 'nmc 13S', 'nmc 14S', 'lto 20S']) expect(covered).toContain(needed);
  });

  it.each(listProfiles())('%s: chemistry auto reads the profile chemistry; its declared limits sit inside the BMS window', (name) => {
    const profile = loadProfile(name);
    expect(inferChemistry(profile.settings)).toMatchObject({ ok: true, chemistry: profile.chemistry });
    const declared = declaredBridgeConfig({ battery: profile, inverter: 'pylon-lv', timing: PRODUCTION_TIMING, timeScale: 1 });
    const policy = resolveBatteryPolicy({ chemistry: 'auto', control: controlConfigSchema.parse(declared.control) }, profile.settings, profile.cells);
    expect(policy.problems).toEqual([]);
  });
});
