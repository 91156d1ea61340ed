/**
 * The chart's only I/O: two callback actors at the edges. Tests replace them with
 * `bridgeMachine.provide({ actors: { ... } })`; nothing else in the chart touches a device.
 */
import { fromCallback } from 'xstate';
import { BmsPoller, type LogFn, type PollerOptions } from '../bms/poller';
import type { Clock } from '../clock';
import type { CanFrame } from '../protocol/can/frame';
import type { BmsSnapshot } from '../protocol/jk/snapshot';
import { isTransportError, type ByteLink, type CanBus } from '../transport/types';

/** Events the actors send to the chart. */
export type IoEvent =
  | { type: 'BMS.SNAPSHOT'; pack: string; snapshot: BmsSnapshot; atMs: number }
  | { type: 'BMS.IMPLAUSIBLE'; pack: string; problems: string[]; atMs: number }
  | { type: 'CAN.UP' }
  | { type: 'CAN.DOWN'; error: string }
  | { type: 'INVERTER.FRAME'; frame: CanFrame };

/**
 * What the chart tells the CAN link actor. With a key, a command still waiting in the queue is
 * updated instead of queued again: an answer to a request storm (Pylon HV) is one current reply
 * per kind, not a backlog that grows faster than the bus drains it.
 */
export type CanLinkCommand = { type: 'TRANSMIT'; frames: CanFrame[]; key?: string };

export interface BmsPollerInput {
  /** The pack this poller reads; its events carry the name. */
  pack: string;
  link: ByteLink;
  options: PollerOptions;
  clock: Clock;
  log: LogFn;
}

export const bmsPollerActor = fromCallback<{ type: 'NONE' }, BmsPollerInput>(({ input, sendBack }) => {
  const poller = new BmsPoller(
    input.link,
    input.options,
    (event) => {
      const pack = input.pack;
      if (event.type === 'snapshot') sendBack({ type: 'BMS.SNAPSHOT', pack, snapshot: event.snapshot, atMs: event.atMs } satisfies IoEvent);
      else if (event.type === 'implausible') sendBack({ type: 'BMS.IMPLAUSIBLE', pack, problems: event.problems, atMs: event.atMs } satisfies IoEvent);
      // link-up/down and missed polls are logged by the poller; the chart judges by data age only.
    },
    input.clock,
    input.log,
  );
  poller.start();
  return () => void poller.stop();
});

export interface CanLinkInput {
  bus: CanBus;
  log: LogFn;
  /** Sends that may fail in a row (ENOBUFS, an adapter's refusal) before the link is given up. */
  downAfterFailedSends: number;
  /** Which received frames the chart hears about (the profile's inverter frames). */
  isInverterFrame(frame: CanFrame): boolean;
  clock: Clock;
  /**
   * Shortest time between two frames of one id on the wire (the profile's inhibit time, SMA
   * 200 ms, inverter-can-protocols.md §5.1); 0 = none. Measured from when the previous frame of
   * that id was acknowledged, so a set the transport delayed cannot end up closer to the next.
   */
  minFrameIntervalMs: number;
}

/** A send failure that says nothing about the link itself: the next frame may well go through. */
function isTransientSendFailure(err: unknown): boolean {
  return isTransportError(err) && (err.code === 'ENOBUFS' || err.code === 'WRITE_FAILED');
}

/** Kept over a profile's minimum time between frames of one id (see canLinkActor). */
export const INHIBIT_MARGIN_MS = 5;

/**
 * Opens the bus, reports inverter frames, and sends frame sets in order. A real failure (open
 * failed, bus-off, interface or adapter gone, or `downAfterFailedSends` failed sends in a row) is
 * reported once as CAN.DOWN; the chart then stops this actor and reopens after a back-off. One
 * failed send (a transient ENOBUFS, junk read as a refusal) loses that frame only (issue 10,
 * bugs 7 and 9). Stopping closes the bus once the frames already handed over have been sent.
 */
export const canLinkActor = fromCallback<CanLinkCommand, CanLinkInput>(({ input, sendBack, receive }) => {
  const { bus, log, downAfterFailedSends, isInverterFrame, clock, minFrameIntervalMs } = input;
  const sentAtMs = new Map<number, number>();
  let active = true;
  let failedInARow = 0;
  let reportedDown = false;
  let queue: Promise<void> = Promise.resolve();
  const down = (error: Error): void => {
    if (!active || reportedDown) return;
    reportedDown = true;
    sendBack({ type: 'CAN.DOWN', error: error.message } satisfies IoEvent);
  };
  const offFrame = bus.onFrame((frame) => {
    if (isInverterFrame(frame)) sendBack({ type: 'INVERTER.FRAME', frame } satisfies IoEvent);
  });
  const offDown = bus.onDisconnect(down);
  bus.open().then(
    () => {
      if (active) sendBack({ type: 'CAN.UP' } satisfies IoEvent);
    },
    (err: Error) => down(err),
  );
  const waiting = new Map<string, { frames: CanFrame[] }>();
  receive((command) => {
    const key = command.key;
    const queued = key === undefined ? undefined : waiting.get(key);
    if (queued !== undefined) {
      queued.frames = command.frames;
      return;
    }
    const job = { frames: command.frames };
    if (key !== undefined) waiting.set(key, job);
    queue = queue.then(async () => {
      if (key !== undefined) waiting.delete(key);
      for (const frame of job.frames) {
        // Frames already handed over still go out after stop (the shutdown set); only a
        // failed bus ends the queue.
        if (reportedDown) return;
        // INHIBIT_MARGIN_MS over the inverter's minimum: a frame is timed from its acknowledgement,
        // which the bridge cannot see the wire by (on SLCAN over a loaded pty the receiver measured
        // up to 1 ms less than the bridge); a few ms later is still inside the rule, earlier is not.
        const waitMs = minFrameIntervalMs === 0 ? 0 : (sentAtMs.get(frame.id) ?? -Infinity) + minFrameIntervalMs + INHIBIT_MARGIN_MS - clock.now();
        if (waitMs > 0) await new Promise((resolve) => clock.setTimeout(() => resolve(undefined), waitMs));
        try {
          await bus.send(frame);
          if (minFrameIntervalMs > 0) sentAtMs.set(frame.id, clock.now());
        } catch (err) {
          failedInARow += 1;
          if (!isTransientSendFailure(err) || failedInARow >= downAfterFailedSends) {
            down(err as Error);
            return;
          }
          if (failedInARow === 1) log.warn({ err: (err as Error).message }, `CAN send failed; the link is given up after ${downAfterFailedSends} in a row`);
          continue;
        }
        if (failedInARow > 0) log.info(`CAN sends going through again after ${failedInARow} failed`);
        failedInARow = 0;
      }
    });
  });
  return () => {
    active = false;
    offFrame();
    offDown();
    void queue.then(() => bus.close()).catch((err: Error) => log.debug({ err: err.message }, 'CAN close failed'));
  };
});
