/**
 * Pure CAN layer of the bridge: inverter profile codecs (0x35x broadcast family and Pylon HV), inverter frames, candump and SLCAN text
 * codecs. Imports nothing from node:*, socketcan, serialport or xstate (checked by a test).
 * wire.ts (byte helpers) stays internal.
 */
import { goodweLv } from './goodwe-lv';
import type { ProfileCodec, ProfileName } from './profile';
import { pylonHv } from './pylon-hv';
import { pylonLv } from './pylon-lv';
import { smaSi } from './sma-si';
import { victron } from './victron';

export * from './battery-state';
export * from './frame';
export * from './messages';
export * from './profile';
export * from './frames-35x';
export * from './pylon-lv';
export * from './goodwe-lv';
export * from './sma-si';
export * from './victron';
export * from './pylon-hv';
export * from './inverter-frames';
export * from './candump';
export * from './slcan';

export const PROFILES: Record<ProfileName, ProfileCodec> = {
  'pylon-lv': pylonLv,
  'goodwe-lv': goodweLv,
  'sma-si': smaSi,
  victron,
  'pylon-hv': pylonHv,
};
