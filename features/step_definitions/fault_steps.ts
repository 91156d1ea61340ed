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

/** Bad replies for a while, short enough (with the next good poll) to stay below staleAfterMs. */
When(/^the BMS sends (garbage|bad checksums|truncated frames|late replies) for 1 s$/, async function (this: RigWorld, fault: string) {
  const polls = Math.floor(this.ms(1000) / this.ms(200));
  switch (fault) {
    case 'garbage':
      // Junk before each reply for a second: the framer must resynchronise every time.
      for (let i = 0; i < polls; i += 1) {
        await run(this, 'bms', 'garbage 40');
        await wait(this.ms(200));
      }
      return;
    case 'bad checksums':
      await run(this, 'bms', `bad-checksum ${polls}`);
      break;
    case 'truncated frames':
      await run(this, 'bms', `truncate ${polls}`);
      break;
    case 'late replies':
      await run(this, 'bms', `late ${this.ms(300)}ms`);
      await wait(this.ms(1000));
      await run(this, 'bms', 'late off');
      return;
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
