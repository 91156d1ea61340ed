/**
 * What the bridge tells the inverter, independent of the inverter protocol.
 * Every profile encoder (pylon-lv, goodwe-lv, sma-si, victron) turns one BatteryState into its
 * frame set; every profile decoder turns frames back into (a partial) BatteryState, which is
 * how the virtual inverter reads the bus. Pure data, engineering units, names carry the unit.
 */

/**
 * Alarm conditions the bridge can report. The union covers the Pylon 0x359 tables
 * (inverter-can-protocols.md §3.2) and the SMA/Victron 0x35A pairs (§5.3, §6.2); each profile
 * maps the ones it has and ignores the rest (documented in its module).
 */
export const ALARM_KINDS = [
  'general',
  'highVoltage',
  'lowVoltage',
  'highTemperature',
  'lowTemperature',
  'highTemperatureCharge',
  'lowTemperatureCharge',
  'highDischargeCurrent',
  'highChargeCurrent',
  'contactor',
  'shortCircuit',
  'bmsInternal',
  'cellImbalance',
  /** Pylon 0x359 byte 1 bit 3. */
  'systemError',
  /** Pylon 0x359 byte 3 bit 3 "internal communication fail" (the BMS link is lost). */
  'communication',
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];
export type AlarmSet = Partial<Record<AlarmKind, boolean>>;

export interface BatteryRequests {
  chargeEnable: boolean;
  dischargeEnable: boolean;
  /** Pylon 0x35C bit 5; Victron 0x360 = 0xFF. */
  forceChargeI: boolean;
  /** Pylon 0x35C bit 4. */
  forceChargeII: boolean;
  /** Pylon 0x35C bit 3. */
  fullCharge: boolean;
}

export interface BatteryIdentity {
  /** 0x35E ASCII, up to 8 characters (padded per profile). */
  manufacturer: string;
  /** Pylon 0x359 byte 4; never 0 (§10.2). */
  moduleCount: number;
  /** 0x35F / 0x379 installed capacity. */
  capacityAh: number;
  /** 0x35F firmware version bytes (major, minor). */
  firmwareMajor: number;
  firmwareMinor: number;
}

export interface CellExtremes {
  minCellMv: number;
  maxCellMv: number;
  /** 1-based cell numbers. */
  minCellNumber: number;
  maxCellNumber: number;
  minTemperatureC: number;
  maxTemperatureC: number;
  /**
   * 1-based numbers of the coldest / hottest temperature sensor, when known. Optional extension
   * (added with the CAN codecs): Victron 0x376/0x377 and SEPLOS 0x371 carry them (§6.2, §3.6);
   * absent → the Victron ids are sent empty.
   */
  minTemperatureSensorNumber?: number;
  maxTemperatureSensorNumber?: number;
}

export interface BatteryState {
  /** 0x351: charge voltage limit (CVL), never 0 on the bus (§10.4). */
  chargeVoltageV: number;
  /** 0x351: charge current limit (CCL), >= 0. */
  chargeCurrentLimitA: number;
  /** 0x351: discharge current limit (DCL), >= 0 magnitude (§1, §10.8). */
  dischargeCurrentLimitA: number;
  /** 0x351 bytes 6-7: discharge voltage limit (DVL). */
  dischargeVoltageV: number;
  /** 0x355 */
  socPct: number;
  sohPct: number;
  /** 0x355 bytes 4-5 (SMA/Victron), 0.01 %; null = not provided (SMA: 0xFFFF). */
  socHiResPct: number | null;
  /** 0x356: pack voltage (0.01 V on the wire), current (+ = charging), temperature. */
  voltageV: number;
  currentA: number;
  temperatureC: number;
  /** Protection-level conditions (Pylon tables 1-2; SMA/Victron alarm pairs). */
  alarms: AlarmSet;
  /** Warning-level conditions (Pylon tables 3-4; SMA/Victron warning pairs). */
  warnings: AlarmSet;
  requests: BatteryRequests;
  identity: BatteryIdentity;
  cells: CellExtremes;
  /** Pylon HV 0x4250 basic status "sleep" (the inverter asked the battery to sleep, §7). Optional: only pylon-hv sends it. */
  sleeping?: boolean;
  /** Pylon HV 0x4250 cycles and 0x7320 cell count / voltage level (§7). Optional: only pylon-hv sends them. */
  pack?: PackInfo;
}

export interface PackInfo {
  cellCount: number;
  cycles: number;
  /**
   * Nominal pack voltage: cells × the chemistry's nominal cell voltage (control/chemistry.ts).
   * Pylon HV 0x7320 "voltage level" in whole volts; Goodwe turns capacity into energy with it (§4).
   */
  nominalVoltageV: number;
}
