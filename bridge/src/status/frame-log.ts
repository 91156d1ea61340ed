/**
 * The frames the bridge sent, as a CAN log people can download (candump -L, what canplayer
 * replays and what Battery-Emulator's maintainers ask users for first). A CanBus decorator records
 * each frame once the transport accepted it; nothing else changes.
 */
import { formatCandumpLine } from '../protocol/can/candump';
import type { CanBus } from '../transport/types';
import type { SentFrame, StatusHub } from './hub';

export function recordSentFrames(bus: CanBus, hub: StatusHub): CanBus {
  return {
    get description() {
      return bus.description;
    },
    get isOpen() {
      return bus.isOpen;
    },
    open: () => bus.open(),
    close: () => bus.close(),
    onFrame: (listener) => bus.onFrame(listener),
    onDisconnect: (listener) => bus.onDisconnect(listener),
    async send(frame) {
      await bus.send(frame);
      hub.frameSent(frame);
    },
  };
}

/** The interface name in the log: the SocketCAN name when there is one, else can0 (canplayer maps it). */
export function logInterfaceName(canSpec: string): string {
  return canSpec.startsWith('socketcan:') ? canSpec.slice('socketcan:'.length) : 'can0';
}

export function candumpLog(frames: readonly SentFrame[], iface: string): string {
  return frames.map(({ atMs, frame }) => `${formatCandumpLine(frame, iface, atMs / 1000)}\n`).join('');
}
