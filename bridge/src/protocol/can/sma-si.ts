/**
 * SMA Sunny Island "LiIon_Ext-BMS" (SMA TI, inverter-can-protocols.md §5).
 *
 * Sends 0x351 (8), 0x355 (6), 0x356 (6), 0x35A (8), 0x35E (8), 0x35F (8) and nothing else: the TI
 * forbids undeclared ids (§5.1), so never 0x359 and never 0x35C, which some SI firmwares read as
 * a start/stop command (§5.6).
 *
 * - Unused fields are "invalid" (§5.1): HiResSOC 0xFFFF when state.socHiResPct is null (§5.2);
 *   0x35F Bat-Type (bytes 0-1) and manufacturer id (bytes 6-7) 0xFFFF, since no SMA code is
 *   documented for a DIY pack (the SI only logs 0x35F). No signed field is unused in this set, so
 *   0x8000 never appears.
 * - 0x35A: SMA pair order (§5.3); pairs 1-13 are 1 while raised and 2 once cleared (§5.7: SI
 *   needs the "cleared" transition), reserved pairs 14-16 stay 0 ("not for BMS"). systemError
 *   rides on General, communication on BMS internal (frames-35x.ts). Alarms stop the SI, warnings
 *   are only logged (§5.3, §10.13): which level a condition gets is the charge policy's choice.
 * - Requests: SMA has no enable / force-charge flags. Charge and discharge enable are expressed
 *   only through CCL / DCL (a cleared flag sends 0, frames-35x.ts); force charge and full charge
 *   cannot be expressed. DCL is ignored off-grid, where DVL is what stops the SI (§5.2).
 * - 0x00F remote quick stop is decoded but never sent: the SI then waits for a manual start (§5.2).
 * - Ranges (CVL 41-63 V, DVL 41-48 V, §5.2) are declared in limitWindows, not clamped here: the
 *   SI silently keeps the last good value (§10.13). The bridge refuses a battery whose CVL cannot
 *   fit and sends DVL at the nearest edge (control/battery-policy.ts, machine/bus-output.ts).
 * - Inhibit time: "Values to Sunny Island must not be sent out faster than every 200msec" (§5.1),
 *   per id; the CAN link actor holds a frame that would come sooner (machine/actors.ts).
 * - A tripped one-direction BMS protection is a warning: any alarm stops the SI (§5.3, §10.13).
 */
import {
  alarmPairsDecoder,
  encodeAlarmPairs,
  encodeInfo,
  encodeLimits,
  encodeMeasurements,
  encodeName,
  encodeSoc,
  eventsDecoder,
  infoDecoder,
  limitsDecoder,
  measurementsDecoder,
  nameDecoder,
  socDecoder,
} from './frames-35x';
import { decodeFrame, decoder, type FrameDecoder, type ProfileCodec } from './profile';
import { U16_MAX } from './wire';

/**
 * SI remote quick stop (0x00F, no data). Decoded as "both directions disabled", its meaning for
 * the battery-side state; the SI goes to standby at once and needs a start command (§5.2).
 */
const quickStopDecoder: FrameDecoder = decoder(0, () => ({
  message: { kind: 'quick-stop' },
  patch: { requests: { chargeEnable: false, dischargeEnable: false } },
}));

const SMA_DECODERS = new Map<number, FrameDecoder>([
  [0x00f, quickStopDecoder],
  [0x351, limitsDecoder],
  [0x355, socDecoder],
  [0x356, measurementsDecoder],
  [0x35a, alarmPairsDecoder],
  [0x35b, eventsDecoder],
  [0x35e, nameDecoder],
  [0x35f, infoDecoder(true)],
]);

/** YamBMS sends "SMA     " in SMA mode (§10.1); the SI only displays it. */
const SMA_DEFAULT_NAME = 'SMA';

export const smaSi: ProfileCodec = {
  name: 'sma-si',
  frameIds: [0x351, 0x355, 0x356, 0x35a, 0x35e, 0x35f],
  defaultManufacturer: SMA_DEFAULT_NAME,
  bmsProtections: 'warning',
  limitWindows: { chargeVoltageV: [41, 63], dischargeVoltageV: [41, 48] },
  minFrameIntervalMs: 200,
  encode: (state) => [
    encodeLimits(state),
    encodeSoc(state, { dlc: 6, hiResNullRaw: U16_MAX }),
    encodeMeasurements(state, 6),
    encodeAlarmPairs(state, 0),
    encodeName(state, SMA_DEFAULT_NAME, 0x20),
    encodeInfo(state, { productCode: U16_MAX, bytes6to7: U16_MAX }),
  ],
  decode: (frame) => decodeFrame(SMA_DECODERS, frame),
};
