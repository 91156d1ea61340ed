/**
 * TEST ONLY: preloaded into a bridge child by the rig (`node --require dist/rig/src/chart-fault.js`,
 * BridgeProcess option `chartFault`), never by the bridge itself or a user. After the rig sends the
 * child SIGUSR2, the next call of the charge policy inside the statechart throws, which is an
 * unhandled error inside the chart: the scenario then checks that the bridge sends the zero-limit
 * set and exits non-zero, so systemd restarts it (issue 10, bug 4).
 *
 * It swaps the policy module's export, which the chart reads through the control barrel on every
 * call (CommonJS re-exports are getters), so the bridge's code is untouched.
 */
import * as policy from '../../bridge/src/control/policy';

let armed = false;
process.on('SIGUSR2', () => {
  armed = true;
});

const real = policy.stepControl;
const mutable = policy as { stepControl: typeof policy.stepControl };
mutable.stepControl = (...args) => {
  if (armed) {
    armed = false;
    throw new Error('rig chart-fault: injected error inside the charge policy');
  }
  return real(...args);
};
