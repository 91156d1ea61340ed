/**
 * Events on the virtual BMS and the virtual inverter. Each goes through the sims' command sets,
 * the same commands a person types at their prompts, and marks the moment as "event".
 */
import assert from 'node:assert/strict';
import { When } from '@cucumber/cucumber';
import type { CommandSet } from '../../sim-kit/src/commands';
import type { RigWorld } from '../support/world';

async function run(world: RigWorld, target: 'bms' | 'inverter', ...lines: string[]): Promise<void> {
  const commands: CommandSet | undefined = target === 'bms' ? world.bms?.commands : world.inverter?.commands;
  assert.ok(commands, `no ${target} in this scenario`);
  world.mark('event');
  for (const line of lines) {
    const result = await commands.execute(line);
    assert.ok(result.ok, `${target} command "${line}" failed: ${result.output}`);
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

When('cell {int} rises to {int} mV', function (this: RigWorld, cell: number, mv: number) {
  return run(this, 'bms', `cell ${cell} ${mv}mV`);
});

When('cell {int} drops to {int} mV', function (this: RigWorld, cell: number, mv: number) {
  return run(this, 'bms', `cell ${cell} ${mv}mV`);
});

When('cell {int} returns to normal', function (this: RigWorld, cell: number) {
  return run(this, 'bms', `cell ${cell} clear`);
});

When('the battery SoC is set to {int} %', function (this: RigWorld, soc: number) {
  return run(this, 'bms', `soc ${soc}`);
});

When(/^the battery temperature (?:drops|rises) to (-?\d+) °C$/, function (this: RigWorld, celsius: string) {
  return run(this, 'bms', `temp t1 ${celsius}C`, `temp t2 ${celsius}C`);
});

When('the BMS raises the {string} alarm', function (this: RigWorld, alarm: string) {
  return run(this, 'bms', `alarm ${alarm}`);
});

When(/^the BMS switches its (charge|discharge) MOSFET off$/, function (this: RigWorld, which: string) {
  return run(this, 'bms', `mosfet ${which} off`);
});

When('the BMS goes silent', function (this: RigWorld) {
  return run(this, 'bms', 'silent');
});

When('the BMS answers again', function (this: RigWorld) {
  return run(this, 'bms', 'silent off');
});

When('the BMS link drops for {int} ms', function (this: RigWorld, ms: number) {
  return run(this, 'bms', `drop-link ${this.ms(ms)}ms`);
});

When('the BMS reports {int} cells', function (this: RigWorld, cells: number) {
  return run(this, 'bms', `wrong-cells ${cells}`);
});

When('the BMS reports its real cells again', function (this: RigWorld) {
  return run(this, 'bms', 'wrong-cells off');
});

/**
 * Bad replies for a while, short enough (with the next good poll) to stay below staleAfterMs.
 * Each carries the POISON values (a cell at 4.0 V, SoC 3 %) and must not be used: garbage (junk
 * and a poisoned frame with a broken start before each reply), bad checksums (the poisoned
 * payload under the true data's checksum), truncated poisoned frames, and poisoned replies later
 * than the reply timeout (this scenario declares a poll interval that leaves them between two
 * reply windows, so they are unambiguously late).
 */
When(/^the BMS sends (garbage|bad checksums|truncated frames|late replies) for 1 s$/, async function (this: RigWorld, fault: string) {
  const poll = this.timing.pollIntervalMs;
  const polls = Math.floor(this.ms(1000) / poll);
  this.mark('fault began');
  switch (fault) {
    case 'garbage':
      // Before each reply for a second: the framer must resynchronise every time.
      for (let i = 0; i < polls; i += 1) {
        await run(this, 'bms', 'garbage 40');
        await wait(poll);
      }
      return;
    case 'bad checksums':
      await run(this, 'bms', `bad-checksum ${polls}`);
      break;
    case 'truncated frames':
      await run(this, 'bms', `truncate ${polls}`);
      break;
    case 'late replies': {
      const lateMs = Math.round((this.timing.replyTimeoutMs + poll) / 2);
      assert.ok(lateMs > this.timing.replyTimeoutMs + this.ms(100) && lateMs < poll - this.ms(100), `late replies of ${lateMs} ms need a poll interval well above the reply timeout`);
      await run(this, 'bms', `late ${lateMs}ms poison`);
      await wait(this.ms(1000));
      await run(this, 'bms', 'late off');
      return;
    }
  }
  await wait(this.ms(1000));
});

When('{int} ms pass', async function (this: RigWorld, ms: number) {
  await wait(this.ms(ms));
});

When(/^the inverter (stops|resumes) its heartbeat$/, function (this: RigWorld, action: string) {
  return run(this, 'inverter', `heartbeat ${action === 'stops' ? 'off' : 'on'}`);
});

When(/^the inverter (offers|draws) (\d+) W (?:of solar power|for the house)$/, function (this: RigWorld, direction: string, watts: string) {
  return run(this, 'inverter', `demand ${direction === 'offers' ? '' : '-'}${watts}W`);
});

When('the CAN transport is lost for {int} ms', async function (this: RigWorld, ms: number) {
  this.mark('event');
  await this.loseCanTransport(this.ms(ms));
});

When('every cell is held at {int} mV', async function (this: RigWorld, mv: number) {
  const cells = this.bms?.profile.cells ?? 0;
  await run(this, 'bms', ...Array.from({ length: cells }, (_, i) => `cell ${i + 1} ${mv}mV`));
});

/** Junk lines from the SLCAN adapter towards the bridge, every 200 ms (a flaky adapter, issue 10 bug 7). */
When('the SLCAN adapter sends junk for {int} ms', async function (this: RigWorld, ms: number) {
  const until = Date.now() + this.ms(ms);
  this.mark('event');
  while (Date.now() < until) {
    const result = await this.inverter!.commands.execute('junk 24');
    assert.ok(result.ok, result.output);
    await wait(this.ms(200));
  }
});
