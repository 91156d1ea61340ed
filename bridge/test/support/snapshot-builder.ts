/**
 * BmsSnapshot fixtures for the control tests, built by hand so these tests do not depend on the
 * JK decoder. Values are a healthy 16S LiFePO4 pack at rest; settings as a typical JK B2A24S.
 */
import {
  JkAlarmBit,
  JkStatusBit,
  type BmsSnapshot,
  type JkAlarmName,
  type JkSettings,
} from '../../src/protocol/jk/snapshot';

export const CELLS = 16;

const settings: JkSettings = {
  packOvpMv: 58_400,
  packUvpMv: 44_800,
  cellOvpMv: 3650,
  cellOvpRecoveryMv: 3400,
  cellOvpDelayS: 5,
  cellUvpMv: 2800,
  cellUvpRecoveryMv: 3000,
  cellUvpDelayS: 5,
  cellDiffProtectionMv: 300,
  dischargeOcpA: 150,
  dischargeOcpDelayS: 300,
  chargeOcpA: 100,
  chargeOcpDelayS: 30,
  balanceStartMv: 3000,
  balanceTriggerMv: 10,
  balancerEnabled: true,
  mosfetOtpC: 90,
  mosfetOtpRecoveryC: 70,
  boxOtpC: 70,
  boxOtpRecoveryC: 60,
  tempDiffProtectionC: 20,
  chargeOtpC: 55,
  dischargeOtpC: 60,
  chargeUtpC: 0,
  chargeUtpRecoveryC: 2,
  dischargeUtpC: -20,
  dischargeUtpRecoveryC: -10,
  cellCountSetting: CELLS,
  capacityAh: 280,
  chargeMosfetSwitch: true,
  dischargeMosfetSwitch: true,
  currentCalibrationMa: 0,
  boardAddress: 0,
  batteryType: 0,
  sleepWaitS: 10,
  lowCapacityAlarmPct: 20,
  password: '123456',
  dedicatedCharger: false,
  deviceId: 'JK_B2A24',
  manufactureDate: '2401',
  runtimeMinutes: 1000,
  softwareVersion: '11.XW_S11.26',
};

const BOTH_MOSFETS_ON = (1 << JkStatusBit.chargeMosfetOn) | (1 << JkStatusBit.dischargeMosfetOn);

export interface SnapshotOptions {
  /** All cells at this voltage unless cellsMv is given. */
  cellMv?: number;
  cellsMv?: number[];
  tempC?: number;
  t1TempC?: number;
  t2TempC?: number;
  mosfetTempC?: number;
  socPct?: number;
  chargeMosfet?: boolean;
  dischargeMosfet?: boolean;
  alarms?: JkAlarmName[];
  settings?: Partial<JkSettings>;
  /** Defaults to the sum of the cells. */
  packMv?: number;
}

/** A 16-cell snapshot; every option has a healthy default. */
export function snapshot(o: SnapshotOptions = {}): BmsSnapshot {
  const cellsMv = o.cellsMv ?? Array.from({ length: CELLS }, () => o.cellMv ?? 3300);
  const status =
    BOTH_MOSFETS_ON &
    ~(o.chargeMosfet === false ? 1 << JkStatusBit.chargeMosfetOn : 0) &
    ~(o.dischargeMosfet === false ? 1 << JkStatusBit.dischargeMosfetOn : 0);
  return {
    command: 0x06,
    cellsMv,
    mosfetTempC: o.mosfetTempC ?? 30,
    t1TempC: o.t1TempC ?? o.tempC ?? 25,
    t2TempC: o.t2TempC ?? o.tempC ?? 25,
    packMv: o.packMv ?? cellsMv.reduce((a, b) => a + b, 0),
    currentMa: 0,
    socPct: o.socPct ?? 50,
    tempSensorCount: 2,
    cycles: 12,
    cycleCapacityAh: 3000,
    cellCount: cellsMv.length,
    alarms: (o.alarms ?? []).reduce((bits, name) => bits | (1 << JkAlarmBit[name]), 0),
    status,
    settings: { ...settings, ...o.settings },
    protocolVersion: 1,
  };
}

/** Cells all at `restMv` except one at `oddMv`. */
export function cellsWithOne(restMv: number, oddMv: number): number[] {
  return Array.from({ length: CELLS }, (_, i) => (i === 5 ? oddMv : restMv));
}
