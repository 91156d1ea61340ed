import { canFrameError, type CanFrame } from '../protocol/can/frame';
import { TransportError } from './types';

/**
 * Every CanBus rejects frames that classical CAN cannot carry before they reach a driver: the
 * socketcan addon copies data into an 8-byte buffer without checking its length, and an SLCAN
 * adapter would answer an over-long line with a BEL that says nothing about why.
 */
export function assertSendableFrame(frame: CanFrame, where: string): void {
  const problem = canFrameError(frame);
  if (problem !== undefined) throw new TransportError('WRITE_FAILED', `${where}: cannot send frame: ${problem}`);
}
