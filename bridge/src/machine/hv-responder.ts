/**
 * What the bridge does with each frame a Pylon HV inverter sends (spec §7; issue 13). Pure: the
 * chart calls it from its inverter action and carries out the answer.
 *
 *   0x4200 ensemble / equipment  the reply set for the current bus mode (busFrames), at once; none
 *                                when the mode sends nothing (idle, fault gone silent): the bridge
 *                                never answers without valid data
 *   0x4200 cells                 recognised, not answered (no public source gives the reply layout)
 *   0x8200 sleep / quit sleep    honoured: asleep = the stopped set with basic status "sleep"
 *   0x8210 charge / discharge    logged and shown, not acted on: they ask a battery to close its
 *                                relay while in protection, which only ever makes it less
 *                                conservative; the bridge has no relay and lifts no protection
 *   0x8240 mask comm failure     answered 0x8250 "won't act" (0x00), as diyBMS
 *   0x3010 heartbeat             a sign of life
 *   anything else 29-bit         counted and ignored, never answered
 */
import {
  decodePylonHvRequest,
  encodePylonHvEquipment,
  encodePylonHvMaskReply,
  pylonHvVariant,
  type CanFrame,
  type PylonHvRequest,
} from '../protocol/can';
import { busFrames, type BusInputs } from './bus-output';

export interface HvCommand {
  charge: boolean;
  discharge: boolean;
}

export type HvResponse =
  /** A valid request: a sign of life; `reply` to send (replacing a queued one with the same key). */
  | {
      valid: true;
      request: PylonHvRequest;
      reply: { frames: CanFrame[]; key: string } | null;
      /** Why a request that has an answer was not answered. */
      unanswered: string | null;
    }
  | { valid: false; detail: string };

export function respondToInverter(frame: CanFrame, inputs: BusInputs): HvResponse {
  const variant = pylonHvVariant(inputs.config.can.pylonHv);
  const decoded = decodePylonHvRequest(frame, variant.address);
  if (!decoded.ok) return { valid: false, detail: decoded.detail };
  const request = decoded.request;
  const none = { valid: true as const, request, reply: null, unanswered: null };
  switch (request.kind) {
    case 'info': {
      if (request.info === 'cells') return { ...none, unanswered: 'cell information (0x4200 0x01) has no documented reply layout' };
      const set = busFrames(inputs);
      if (set === null) return { ...none, unanswered: 'no valid BMS data to answer with' };
      const frames = request.info === 'ensemble' ? set.frames : encodePylonHvEquipment(set.state, variant);
      return { ...none, reply: { frames, key: request.info } };
    }
    case 'mask-comm-failure':
      return { ...none, reply: { frames: [encodePylonHvMaskReply(variant)], key: 'mask' } };
    case 'sleep':
    case 'command':
    case 'heartbeat':
      return none;
  }
}
