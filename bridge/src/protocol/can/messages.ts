/**
 * Typed contents of every battery → inverter frame the codecs understand, one interface per CAN
 * id (the "signal database", cantools style). A decoder returns the message exactly as it was on
 * the wire, including values an encoder must never produce (negative DCL, NUL-padded names), so
 * the virtual inverter can flag them; the profile then maps it to a BatteryState patch.
 * Section numbers refer to shared/spec/inverter-can-protocols.md.
 */

/** 0x351 (§3.2, §5.2, §6.2). */
export interface LimitsMessage {
  kind: 'limits';
  chargeVoltageV: number;
  chargeCurrentLimitA: number;
  /** Signed on the wire; a negative value here is a fault of the sender (§1, §10.8). */
  dischargeCurrentLimitA: number;
  /** Bytes 6-7; null when the frame is shorter (the V1.2 doc leaves them blank). */
  dischargeVoltageV: number | null;
}

/** 0x355 (§3.2, §5.2, §6.2). */
export interface SocMessage {
  kind: 'soc';
  socPct: number;
  sohPct: number;
  /** Bytes 4-5 in 0.01 %: undefined = frame too short (Pylon DLC 4), null = 0xFFFF "invalid" (§5.2). */
  socHiResPct: number | null | undefined;
  /** Bytes 6-7 raw u16, null when absent (unused by every profile here). */
  bytes6to7: number | null;
}

/** 0x356 (§3.2, §5.2, §6.2); current + = charging. */
export interface MeasurementsMessage {
  kind: 'measurements';
  voltageV: number;
  currentA: number;
  temperatureC: number;
  bytes6to7: number | null;
}

/** 0x359 Pylon protection/alarm bytes (§3.2 tables, raw). */
export interface PylonFlagsMessage {
  kind: 'pylon-flags';
  protectionByte0: number;
  protectionByte1: number;
  alarmByte2: number;
  alarmByte3: number;
  moduleCount: number;
  /** Bytes 5-6, null when DLC < 7. */
  markerBytes: readonly [number, number] | null;
  /** Bytes 5-6 are 'P','N' (0x50 0x4E). Deye does not require it (§3.3); a checker may flag its absence. */
  pnMarker: boolean;
  /** Byte 7, null when DLC < 8 (SEPLOS: online-pack bitmap, §3.6). */
  byte7: number | null;
}

/** 0x35A: 16 two-bit pairs per block, LSB first; 0 ignored/unsupported, 1 raised, 2 cleared/OK, 3 ignored (§5.3, §6.2). */
export type AlarmPairValue = 0 | 1 | 2 | 3;
export interface AlarmPairsMessage {
  kind: 'alarm-pairs';
  /** Pair n-1 of bytes 0-3 (pair 1 = General … 16 = Generator, §5.3 table). */
  alarms: readonly AlarmPairValue[];
  /** Pair n-1 of bytes 4-7. */
  warnings: readonly AlarmPairValue[];
}

/** 0x35B events (§5.2, §6.2): content not specified by SMA; kept raw. */
export interface EventsMessage {
  kind: 'events';
  bytes: Uint8Array;
}

/** 0x35C Pylon request flags (§3.2). */
export interface PylonRequestsMessage {
  kind: 'pylon-requests';
  chargeEnable: boolean;
  dischargeEnable: boolean;
  forceChargeI: boolean;
  forceChargeII: boolean;
  fullCharge: boolean;
  /** Bits 0-2 of byte 0 (reserved, should be 0). */
  otherBits: number;
}

/** 0x35E manufacturer name (§3.2, §5.2, §6.2). */
export interface NameMessage {
  kind: 'name';
  /** Every byte as a Latin-1 character, padding (spaces or NULs) included. */
  text: string;
}

/** 0x35F (§5.2, §6.2). */
export interface InfoMessage {
  kind: 'info';
  /** Bytes 0-1 as little-endian u16 (BYD "Li" = 0x694C, SMA Bat-Type). */
  productCode: number;
  /** Byte 2 / byte 3, binary (BYD 01 17 = v1.23, §6.2). */
  firmwareMajor: number;
  firmwareMinor: number;
  capacityAh: number;
  /** Bytes 6-7 raw u16 (hardware version / SMA manufacturer id), null when DLC < 8. */
  bytes6to7: number | null;
}

/** 0x360 Victron force-charge request (§6.2). */
export interface ForceChargeMessage {
  kind: 'force-charge';
  request: boolean;
}

/** 0x372 Victron bank info (§6.2, YamBMS/OpenDTU field order). */
export interface BankMessage {
  kind: 'bank';
  modulesOnline: number;
  modulesBlockingCharge: number;
  modulesBlockingDischarge: number;
  modulesOffline: number;
}

/** 0x373 Victron cell extremes: mV, mV, K, K (§6.2). */
export interface CellExtremesMessage {
  kind: 'cell-extremes';
  minCellMv: number;
  maxCellMv: number;
  minTemperatureK: number;
  maxTemperatureK: number;
}

/** 0x374-0x377 Victron ASCII ids of the extreme cells / sensors (§6.2). */
export interface CellIdMessage {
  kind: 'cell-id';
  which: 'minVoltage' | 'maxVoltage' | 'minTemperature' | 'maxTemperature';
  text: string;
}

/** 0x378 Victron energy counters; unit disputed (0.1 vs 0.01 kWh, §6.2), so raw. */
export interface EnergyMessage {
  kind: 'energy';
  chargedRaw: number;
  dischargedRaw: number;
}

/** 0x379 installed capacity (§6.2, Sol-Ark 0x379 §3.6). */
export interface InstalledCapacityMessage {
  kind: 'installed-capacity';
  capacityAh: number;
}

/** 0x382 Victron product identification ASCII (§6.2). */
export interface ProductMessage {
  kind: 'product';
  text: string;
}

/** SEPLOS 0x070 (§3.6): cell extremes, temperatures 0.1 °C, voltages 0.01 V. */
export interface SeplosExtremesMessage {
  kind: 'seplos-extremes';
  maxTemperatureC: number;
  minTemperatureC: number;
  maxCellMv: number;
  minCellMv: number;
}

/** SEPLOS 0x371 (§3.6): which sensor / cell holds each extreme. Not the Victron 0x371. */
export interface SeplosIdsMessage {
  kind: 'seplos-ids';
  maxTemperatureSensor: number;
  minTemperatureSensor: number;
  maxCellNumber: number;
  minCellNumber: number;
}

/** SMA 0x00F remote quick stop, no data (§5.2). */
export interface QuickStopMessage {
  kind: 'quick-stop';
}

/** Pylon HV replies 0x4210-0x4290, 0x7310-0x7340, 0x8250 (§7; pylon-hv.ts has the layouts). */
export type PylonHvMessage =
  | { kind: 'hv-measurements'; voltageV: number; currentA: number; temperatureC: number; socPct: number; sohPct: number }
  | { kind: 'hv-limits'; chargeVoltageV: number; dischargeVoltageV: number; chargeCurrentLimitA: number; dischargeCurrentLimitA: number }
  | { kind: 'hv-cells'; maxCellMv: number; minCellMv: number; maxCellNumber: number; minCellNumber: number }
  | { kind: 'hv-cell-temperatures'; maxTemperatureC: number; minTemperatureC: number; maxTemperatureSensorNumber: number; minTemperatureSensorNumber: number }
  | {
      kind: 'hv-status';
      /** Byte 0 bits 0-2; null for the reserved values 4-7. */
      basicStatus: 'sleep' | 'charge' | 'discharge' | 'idle' | null;
      forceCharge: boolean;
      balanceCharge: boolean;
      cycles: number;
      errorByte: number;
      alarmWord: number;
      protectionWord: number;
    }
  | { kind: 'hv-modules'; quantity: 'voltage' | 'temperature'; max: number; min: number; maxNumber: number; minNumber: number }
  | { kind: 'hv-forbidden'; chargeForbidden: boolean; dischargeForbidden: boolean; byte0: number; byte1: number }
  | { kind: 'hv-fault-extension'; byte0: number }
  | { kind: 'hv-versions'; hardware: number; hardwareMajor: number; hardwareMinor: number; softwareMajor: number; softwareMinor: number }
  | { kind: 'hv-quantities'; cellCount: number; modulesInSeries: number; cellsPerModule: number; voltageLevelV: number; capacityAh: number }
  | { kind: 'hv-name'; part: 1 | 2; text: string }
  | { kind: 'hv-mask-reply'; willAct: boolean };

export type CanMessage =
  | PylonHvMessage
  | LimitsMessage
  | SocMessage
  | MeasurementsMessage
  | PylonFlagsMessage
  | AlarmPairsMessage
  | EventsMessage
  | PylonRequestsMessage
  | NameMessage
  | InfoMessage
  | ForceChargeMessage
  | BankMessage
  | CellExtremesMessage
  | CellIdMessage
  | EnergyMessage
  | InstalledCapacityMessage
  | ProductMessage
  | SeplosExtremesMessage
  | SeplosIdsMessage
  | QuickStopMessage;
