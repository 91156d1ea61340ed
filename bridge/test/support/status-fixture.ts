/** A BridgeStatus from the real statechart (fake I/O actors), for the observer tests. */
import { bridgeStatus, type BridgeStatus } from '../../src/status/model';
import type { BridgeConfigInput } from '../../src/config/schema';
import { startHarness } from '../machine/harness';
import { snapshot } from './snapshot-builder';

export function connectedStatus(overrides: BridgeConfigInput = {}): BridgeStatus {
  const h = startHarness(overrides);
  h.feed(snapshot({ cellMv: 3300, socPct: 60 }), 1500);
  const s = h.actor.getSnapshot();
  return bridgeStatus(s.value, s.context, h.clock.now());
}
