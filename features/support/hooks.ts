/** Per-scenario rig lifecycle; the bridge must have been built (npm run build) beforehand. */
import { existsSync } from 'node:fs';
import { After, BeforeAll, setDefaultTimeout, Status } from '@cucumber/cucumber';
import { BRIDGE_ENTRY } from '../../rig/src/bridge-process';
import type { RigWorld } from './world';

// Steps wait in real time on real transports; the slowest (a closed-loop cycle) takes about a
// minute natively and longer in the vcan VM, where timeScale stretches every wait.
setDefaultTimeout(10 * 60 * 1000);

BeforeAll(function () {
  if (!existsSync(BRIDGE_ENTRY)) throw new Error(`${BRIDGE_ENTRY} is missing: run "npm run build" first`);
});

After(async function (this: RigWorld, { result }) {
  if (result?.status === Status.FAILED) this.attach(this.diagnostics(), 'text/plain');
  await this.teardown();
});
