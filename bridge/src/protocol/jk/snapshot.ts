/**
 * A typed, unit-carrying reading of one JK "4E 57" read-all response
 * (shared/spec/jk-serial-protocol.md §2.4-2.9). Pure data: no I/O.
 *
 * Units are in the names: Mv = millivolt, Ma = milliampere, C = degree Celsius,
 * S = second, Ah = ampere-hour, Pct = percent. Integers throughout, so a snapshot
 * re-encodes to the exact bytes it came from.
 */

/** 0x8B warning/alarm bits (§2.9). Bit numbers, LSB = 0. */
export const JkAlarmBit = {
  lowCapacity: 0,
  mosfetOverTemperature: 1,
  chargeOverVoltage: 2,
  dischargeUnderVoltage: 3,
  batteryOverTemperature: 4,
  chargeOverCurrent: 5,
  dischargeOverCurrent: 6,
  cellVoltageDifference: 7,
  boxOverTemperature: 8,
  batteryLowTemperature: 9,
  cellOverVoltage: 10,
  cellUnderVoltage: 11,
  protection309A: 12,
  protection309B: 13,
} as const;
export type JkAlarmName = keyof typeof JkAlarmBit;

/** 0x8C status bits (§2.9). Bit 3 is unreliable in the field and is not used as "online". */
export const JkStatusBit = {
  chargeMosfetOn: 0,
  dischargeMosfetOn: 1,
  balancing: 2,
  batteryOnline: 3,
} as const;

/** 0x80-0x82 sub-zero coding (§2.6): "doc" = raw>100 → 100-raw; "esphome" = raw>99 → 99-raw. */
export type JkTemperatureCoding = 'doc' | 'esphome';

/** Settings records 0x8E-0xBA (§2.5). Optional members are absent on old firmware (no 0xB8-0xC0). */
export interface JkSettings {
  packOvpMv: number; // 0x8E, 0.01 V on the wire
  packUvpMv: number; // 0x8F
  cellOvpMv: number; // 0x90
  cellOvpRecoveryMv: number; // 0x91
  cellOvpDelayS: number; // 0x92
  cellUvpMv: number; // 0x93
  cellUvpRecoveryMv: number; // 0x94
  cellUvpDelayS: number; // 0x95
  cellDiffProtectionMv: number; // 0x96
  dischargeOcpA: number; // 0x97
  dischargeOcpDelayS: number; // 0x98
  chargeOcpA: number; // 0x99
  chargeOcpDelayS: number; // 0x9A
  balanceStartMv: number; // 0x9B
  balanceTriggerMv: number; // 0x9C
  balancerEnabled: boolean; // 0x9D
  mosfetOtpC: number; // 0x9E
  mosfetOtpRecoveryC: number; // 0x9F
  boxOtpC: number; // 0xA0
  boxOtpRecoveryC: number; // 0xA1
  tempDiffProtectionC: number; // 0xA2
  chargeOtpC: number; // 0xA3
  dischargeOtpC: number; // 0xA4
  chargeUtpC: number; // 0xA5 (i16)
  chargeUtpRecoveryC: number; // 0xA6 (i16)
  dischargeUtpC: number; // 0xA7 (i16)
  dischargeUtpRecoveryC: number; // 0xA8 (i16)
  cellCountSetting: number; // 0xA9
  capacityAh: number; // 0xAA
  chargeMosfetSwitch: boolean; // 0xAB (user switch, not the live state)
  dischargeMosfetSwitch: boolean; // 0xAC
  currentCalibrationMa: number; // 0xAD
  boardAddress: number; // 0xAE
  batteryType: number; // 0xAF: 0 LiFePO4, 1 NMC, 2 LTO
  sleepWaitS: number; // 0xB0
  lowCapacityAlarmPct: number; // 0xB1
  password: string; // 0xB2, 10 bytes NUL padded
  dedicatedCharger: boolean; // 0xB3
  deviceId: string; // 0xB4, 8 bytes
  manufactureDate: string; // 0xB5, 4 bytes "YYMM"
  runtimeMinutes: number; // 0xB6
  softwareVersion: string; // 0xB7, 15 bytes
  startCurrentCalibration?: boolean; // 0xB8
  actualCapacityAh?: number; // 0xB9
  manufacturerId?: string; // 0xBA, 24 bytes, may hold inner NULs
}

export interface BmsSnapshot {
  /** Command byte echoed by the BMS: 0x06 (read all) or 0x03 (read). */
  command: number;
  /** 0x79, in frame order (cell 1 first). A cell can read 0 mV. */
  cellsMv: number[];
  mosfetTempC: number; // 0x80
  t1TempC: number; // 0x81 (battery box)
  t2TempC: number; // 0x82 (battery)
  packMv: number; // 0x83, 0.01 V on the wire
  /** 0x84, + = charging. Encoding chosen by protocolVersion (§2.7). */
  currentMa: number;
  socPct: number; // 0x85
  tempSensorCount: number; // 0x86
  cycles: number; // 0x87
  cycleCapacityAh: number; // 0x89
  cellCount: number; // 0x8A
  alarms: number; // 0x8B raw bits, see JkAlarmBit
  status: number; // 0x8C raw bits, see JkStatusBit
  settings: JkSettings;
  /** 0xC0; null when the record is absent (old firmware, offset current coding). */
  protocolVersion: number | null;
}

export function hasAlarm(snapshot: Pick<BmsSnapshot, 'alarms'>, name: JkAlarmName): boolean {
  return (snapshot.alarms & (1 << JkAlarmBit[name])) !== 0;
}

export function chargeMosfetOn(snapshot: Pick<BmsSnapshot, 'status'>): boolean {
  return (snapshot.status & (1 << JkStatusBit.chargeMosfetOn)) !== 0;
}

export function dischargeMosfetOn(snapshot: Pick<BmsSnapshot, 'status'>): boolean {
  return (snapshot.status & (1 << JkStatusBit.dischargeMosfetOn)) !== 0;
}
