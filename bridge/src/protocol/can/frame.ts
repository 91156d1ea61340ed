/** A classical CAN 2.0 data frame. DLC is data.length (0..8). Pure data. */
export interface CanFrame {
  /** 11-bit (0..0x7FF) or, with ext, 29-bit identifier. */
  id: number;
  data: Uint8Array;
  /** 29-bit extended identifier. */
  ext?: boolean;
}

export function canFrame(id: number, bytes: ArrayLike<number>, ext = false): CanFrame {
  return ext ? { id, data: Uint8Array.from(bytes), ext } : { id, data: Uint8Array.from(bytes) };
}

export function formatCanId(frame: Pick<CanFrame, 'id' | 'ext'>): string {
  return frame.id.toString(16).toUpperCase().padStart(frame.ext ? 8 : 3, '0');
}

/**
 * Why a frame cannot be put on a classical CAN 2.0 bus, or undefined when it can. Used by the
 * text codecs (candump, SLCAN), which must not write a line the other side would misread.
 */
export function canFrameError(frame: CanFrame): string | undefined {
  const maxId = frame.ext ? 0x1fffffff : 0x7ff;
  if (!Number.isInteger(frame.id) || frame.id < 0 || frame.id > maxId) {
    return `id ${String(frame.id)} outside 0..0x${maxId.toString(16).toUpperCase()}${frame.ext ? ' (29-bit)' : ' (11-bit)'}`;
  }
  if (frame.data.length > 8) return `DLC ${frame.data.length} > 8 (classical CAN)`;
  return undefined;
}
