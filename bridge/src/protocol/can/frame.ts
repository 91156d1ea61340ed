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
