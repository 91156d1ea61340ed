/**
 * The rig's battery profiles cover the chemistries and cell counts the field runs (issue 11), and
 * the bridge, with its defaults, reads each one's chemistry from its JK settings and finds its
 * points inside the BMS window: no profile makes the bridge fault by itself.
 */
import { describe, expect, it } from 'vitest';
import { bridgeConfigSchema } from '../../bridge/src/config/schema';
import { resolveBatteryPolicy } from '../../bridge/src/control';
import { listProfiles, loadProfile } from '../../sim-bms/src/profile';

describe('scenarios/profiles', () => {
  const profiles = listProfiles().map(loadProfile);

  it('cover LiFePO4 8S/16S/24S, NMC 13S/14S and LTO', () => {
    const covered = new Set(profiles.map((p) => `${p.chemistry} ${p.cells}S`));
    for (const needed of ['lifepo4 8S', 'lifepo4 16S', 'lifepo4 24S', 'nmc 13S', 'nmc 14S', 'lto 20S']) expect(covered).toContain(needed);
  });

  it.each(listProfiles())('%s: chemistry auto reads the profile chemistry, without contradiction', (name) => {
    const profile = loadProfile(name);
    const config = bridgeConfigSchema.parse({});
    const policy = resolveBatteryPolicy({ chemistry: 'auto', control: config.control }, profile.settings, profile.cells);
    expect(policy.problems).toEqual([]);
    expect(policy.chemistry).toBe(profile.chemistry);
  });
});
