/**
 * Model → BmsSnapshot: what the virtual JK would put in a read-all reply right now. Every value
 * is rounded to its wire resolution here (1 mV cells, 10 mV pack, 10 mA current, 1 °C, 1 %),
 * so decoding the encoded reply gives back exactly this snapshot (spec §2.5, §2.7).
 */
import { JkStatusBit, type BmsSnapshot, type JkSettings } from '../../bridge/src/protocol/jk/snapshot';
import type { Measurement } from './protection';

export interface SnapshotInputs {
  /** 0x06 or 0x03: the reply echoes the request's command (§2.2). */
  command: number;
  measurement: Measurement;
  settings: JkSettings;
  /** Live MOSFET states (0x8C bits 0/1), not the 0xAB/0xAC switches. */
  chargeMosfetOn: boolean;
  dischargeMosfetOn: boolean;
  balancing: boolean;
  alarms: number;
  cycles: number;
  cycleCapacityAh: number;
}

export function buildSnapshot(inputs: SnapshotInputs): BmsSnapshot {
  const { measurement: m, settings } = inputs;
  const cellsMv = m.cellsMv.map((mv) => Math.max(0, round(mv)));
  const status =
    (inputs.chargeMosfetOn ? 1 << JkStatusBit.chargeMosfetOn : 0) |
    (inputs.dischargeMosfetOn ? 1 << JkStatusBit.dischargeMosfetOn : 0) |
    // Bit 2 tracks balancing in progress, not the 0x9D switch; bit 3 is 0 on modern firmware (§2.9).
    (inputs.balancing ? 1 << JkStatusBit.balancing : 0);
  return {
    command: inputs.command,
    cellsMv,
    mosfetTempC: round(m.mosfetC),
    t1TempC: round(m.t1C),
    t2TempC: round(m.t2C),
    packMv: round(m.packMv / 10) * 10,
    currentMa: round(m.currentMa / 10) * 10,
    socPct: round(m.socPct),
    tempSensorCount: 2, // every capture (§2.5 0x86)
    cycles: inputs.cycles,
    cycleCapacityAh: inputs.cycleCapacityAh,
    cellCount: cellsMv.length,
    alarms: inputs.alarms,
    status,
    settings: { ...settings },
    // Modern firmware: 0xC0 = 1, sign-magnitude current (§2.7, §2.11 point 3).
    protocolVersion: 1,
  };
}

/** Math.round without −0: the decoder never produces −0, and toEqual tells them apart. */
function round(value: number): number {
  return Math.round(value) + 0;
}
