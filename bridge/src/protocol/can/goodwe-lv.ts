/**
 * "Goodwe LV" (GoodWe ES/EM/SBP low-voltage inverters, inverter-can-protocols.md §4): no primary
 * GoodWe document exists; the evidence says the Pylon LV frame set, so this is the Pylon codec with
 * two parameters changed. Alarm mapping, DLCs, send order and stop encodings: see pylon-lv.ts.
 *
 * - 0x35E default "GOODWE  " (Uksa007 2022-10 → 2023-11, §4). Users whose GoodWe wants "PYLON"
 *   set identity.manufacturer.
 * - 0x359 byte 4 = the number of 5.4 kWh "LX U5.4-L" batteries the inverter app is configured
 *   with; Uksa007's rule is "select the number closest to your capacity" (§4): capacity × nominal
 *   voltage / 5.4 kWh, so an 8 S 280 Ah LiFePO4 pack (7.2 kWh) is 1 module, a 16 S one (14.3 kWh)
 *   3. It is derived from identity.capacityAh and pack.nominalVoltageV rather than taken from
 *   identity.moduleCount, because that field holds the Pylon meaning (modules of a Pylontech stack,
 *   §10.2) and one battery cannot carry both.
 */
import { createPylonFamilyCodec } from './pylon-lv';
import type { ProfileCodec } from './profile';

/** One GoodWe Lynx Home U "LX U5.4-L" module (§4). */
export const GOODWE_MODULE_WH = 5400;
/** The nominal voltage assumed when the state carries none: 16 S LiFePO4 (3.2 V × 16). */
export const LV_NOMINAL_VOLTAGE_V = 51.2;

/** Nearest whole number of LX U5.4-L modules for the pack's energy, 1..255 (never 0, §10.2). */
export function goodweModuleCount(capacityAh: number, nominalVoltageV = LV_NOMINAL_VOLTAGE_V): number {
  const modules = Math.round((capacityAh * nominalVoltageV) / GOODWE_MODULE_WH);
  return Number.isFinite(modules) ? Math.min(0xff, Math.max(1, modules)) : 1;
}

export const goodweLv: ProfileCodec = createPylonFamilyCodec({
  name: 'goodwe-lv',
  defaultManufacturer: 'GOODWE',
  moduleCount: (state) => goodweModuleCount(state.identity.capacityAh, state.pack?.nominalVoltageV),
});
