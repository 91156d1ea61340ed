import { describe, expect, it } from 'vitest';
import { mapJkAlarms } from '../../src/control';
import type { AlarmSet } from '../../src/protocol/can/battery-state';
import { JkAlarmBit, type JkAlarmName } from '../../src/protocol/jk/snapshot';
import { firstOutput } from './runner';
import { snapshot } from '../support/snapshot-builder';

const bits = (...names: JkAlarmName[]) => ({ alarms: names.reduce((b, n) => b | (1 << JkAlarmBit[n]), 0) });

describe('mapJkAlarms: JK 0x8B bits → alarms (protection) and warnings', () => {
  const cases: [JkAlarmName, { alarms: AlarmSet; warnings: AlarmSet }][] = [
    ['lowCapacity', { alarms: {}, warnings: { general: true } }],
    ['mosfetOverTemperature', { alarms: { highTemperature: true }, warnings: {} }],
    ['chargeOverVoltage', { alarms: {}, warnings: { highVoltage: true } }],
    ['dischargeUnderVoltage', { alarms: {}, warnings: { lowVoltage: true } }],
    ['batteryOverTemperature', { alarms: { highTemperature: true }, warnings: {} }],
    ['chargeOverCurrent', { alarms: {}, warnings: { highChargeCurrent: true } }],
    ['dischargeOverCurrent', { alarms: {}, warnings: { highDischargeCurrent: true } }],
    ['cellVoltageDifference', { alarms: {}, warnings: { cellImbalance: true } }],
    ['boxOverTemperature', { alarms: { highTemperature: true }, warnings: {} }],
    ['batteryLowTemperature', { alarms: {}, warnings: { lowTemperature: true } }],
    ['cellOverVoltage', { alarms: {}, warnings: { highVoltage: true } }],
    ['cellUnderVoltage', { alarms: {}, warnings: { lowVoltage: true } }],
    ['protection309A', { alarms: { systemError: true }, warnings: {} }],
    ['protection309B', { alarms: { systemError: true }, warnings: {} }],
  ];

  it('covers every JK alarm bit', () => {
    expect(cases.map(([name]) => name).sort()).toEqual((Object.keys(JkAlarmBit) as JkAlarmName[]).sort());
  });

  it.each(cases)('%s', (name, expected) => {
    expect(mapJkAlarms(bits(name))).toEqual(expected);
  });

  it('no bits, no alarms; reserved bits 14/15 are ignored', () => {
    expect(mapJkAlarms({ alarms: 0 })).toEqual({ alarms: {}, warnings: {} });
    expect(mapJkAlarms({ alarms: 0xc000 })).toEqual({ alarms: {}, warnings: {} });
  });

  it('combines several bits', () => {
    expect(mapJkAlarms(bits('cellOverVoltage', 'chargeOverVoltage', 'boxOverTemperature', 'lowCapacity'))).toEqual({
      alarms: { highTemperature: true },
      warnings: { highVoltage: true, general: true },
    });
  });

  it('reaches the policy output', () => {
    const out = firstOutput(snapshot({ alarms: ['cellUnderVoltage', 'mosfetOverTemperature'] }));
    expect(out.alarms).toEqual({ highTemperature: true });
    expect(out.warnings).toEqual({ lowVoltage: true });
  });
});
