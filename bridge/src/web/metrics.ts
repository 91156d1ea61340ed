/**
 * Prometheus /metrics (prom-client), read from the status hub at scrape time: a scrape costs the
 * bridge nothing between scrapes. Naming per https://prometheus.io/docs/practices/naming/: one
 * prefix, base units (volts, amperes, watts, celsius), ratios 0-1 as _ratio, counters _total, a
 * state as a 0/1 gauge per label value.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { StatusHub } from '../status/hub';
import { BMS_STATES, CAN_STATES, INVERTER_STATES, type BridgeStatus } from '../status/model';

const P = 'jk_can_bridge_';

export interface MetricsSources {
  hub: StatusHub;
  /** Absent without MQTT (then there is no such metric). */
  mqttConnected?: () => boolean;
}

export function createMetrics(sources: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: P });
  const status = (): BridgeStatus | null => sources.hub.status;

  const packGauge = (name: string, help: string, value: (p: BridgeStatus['packs'][number]) => number) =>
    new Gauge({
      name: `${P}pack_${name}`,
      help,
      labelNames: ['pack'],
      registers: [registry],
      collect() {
        this.reset();
        for (const pack of status()?.packs ?? []) this.set({ pack: pack.id }, value(pack));
      },
    });
  packGauge('voltage_volts', 'Pack voltage measured by the BMS.', (p) => p.voltageV);
  packGauge('current_amperes', 'Pack current measured by the BMS, positive when charging.', (p) => p.currentA);
  packGauge('power_watts', 'Pack power, positive when charging.', (p) => p.powerW);
  packGauge('state_of_charge_ratio', 'State of charge reported by the BMS (0-1).', (p) => p.socPct / 100);
  packGauge('charge_cycles', 'Charge cycles counted by the BMS.', (p) => p.cycles);
  packGauge('cell_voltage_spread_volts', 'Highest minus lowest cell voltage.', (p) => p.cellDeltaMv / 1000);

  new Gauge({
    name: `${P}cell_voltage_volts`,
    help: 'Voltage of each cell.',
    labelNames: ['pack', 'cell'],
    registers: [registry],
    collect() {
      this.reset();
      for (const pack of status()?.packs ?? []) pack.cellsMv.forEach((mv, i) => this.set({ pack: pack.id, cell: String(i + 1) }, mv / 1000));
    },
  });
  new Gauge({
    name: `${P}temperature_celsius`,
    help: 'BMS temperature sensors.',
    labelNames: ['pack', 'sensor'],
    registers: [registry],
    collect() {
      this.reset();
      for (const pack of status()?.packs ?? []) {
        for (const [sensor, value] of Object.entries(pack.temperaturesC)) this.set({ pack: pack.id, sensor }, value);
      }
    },
  });

  const limitGauge = (name: string, help: string, value: (l: NonNullable<BridgeStatus['limits']>) => number) =>
    new Gauge({
      name: `${P}${name}`,
      help: `${help} As sent on CAN; absent while nothing is sent.`,
      registers: [registry],
      collect() {
        this.reset();
        const limits = status()?.limits;
        if (limits) this.set(value(limits));
      },
    });
  limitGauge('charge_voltage_limit_volts', 'Charge voltage limit (CVL).', (l) => l.chargeVoltageV);
  limitGauge('charge_current_limit_amperes', 'Charge current limit (CCL).', (l) => l.chargeCurrentA);
  limitGauge('discharge_current_limit_amperes', 'Discharge current limit (DCL).', (l) => l.dischargeCurrentA);
  limitGauge('discharge_voltage_limit_volts', 'Discharge voltage limit (DVL).', (l) => l.dischargeVoltageV);
  limitGauge('reported_state_of_charge_ratio', 'State of charge told to the inverter (0-1).', (l) => l.socPct / 100);
  limitGauge('charge_allowed', 'Charge enable flag (1 = allowed).', (l) => Number(l.chargeAllowed));
  limitGauge('discharge_allowed', 'Discharge enable flag (1 = allowed).', (l) => Number(l.dischargeAllowed));
  limitGauge('force_charge_requested', 'Force-charge request flag.', (l) => Number(l.forceCharge));

  const regions: Array<[keyof BridgeStatus['states'], string[]]> = [
    ['bms', BMS_STATES],
    ['inverter', INVERTER_STATES],
    ['can', CAN_STATES],
  ];
  new Gauge({
    name: `${P}region_state`,
    help: 'Statechart region states: 1 for the current state of each region, 0 for the others.',
    labelNames: ['region', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      const states = status()?.states;
      if (!states) return;
      for (const [region, names] of regions) for (const name of names) this.set({ region, state: name }, Number(states[region] === name));
    },
  });
  new Gauge({
    name: `${P}active_faults`,
    help: 'Number of active faults.',
    registers: [registry],
    collect() {
      this.set(status()?.faults.length ?? 0);
    },
  });
  new Counter({
    name: `${P}can_frames_sent_total`,
    help: 'CAN frames accepted by the transport.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.hub.framesSent);
    },
  });
  const mqttConnected = sources.mqttConnected;
  if (mqttConnected !== undefined) {
    new Gauge({
      name: `${P}mqtt_connected`,
      help: 'MQTT broker connection (1 = connected).',
      registers: [registry],
      collect() {
        this.set(Number(mqttConnected()));
      },
    });
  }
  return registry;
}
