/** Drives stepControl through time, as the machine does: one call per snapshot, time in seconds. */
import type { BmsSnapshot } from '../../src/protocol/jk/snapshot';
import {
  createControlState,
  defaultControlSettings,
  stepControl,
  type ControlOutput,
  type ControlSettings,
} from '../../src/control';

export function runner(
  settings: ControlSettings = defaultControlSettings,
): (tS: number, snap: BmsSnapshot) => ControlOutput {
  let state = createControlState();
  return (tS, snap) => {
    const step = stepControl(state, snap, tS * 1000, settings);
    state = step.state;
    return step.output;
  };
}

/** The output of a first step: no history, so every target applies as is. */
export function firstOutput(snap: BmsSnapshot, settings: ControlSettings = defaultControlSettings): ControlOutput {
  return stepControl(createControlState(), snap, 0, settings).output;
}
