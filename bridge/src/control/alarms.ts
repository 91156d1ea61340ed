/**
 * JK 0x8B alarm bits → inverter alarm kinds (jk-serial-protocol.md §2.9; inverter-can-protocols.md
 * §11 for how working bridges map them).
 *
 * Severity rule. An alarm (protection) makes SMA stop and go to fault (§5.3, §10.13), a Victron
 * system shut down, and the bridge's statechart zero both limits (ARCHITECTURE "fault"). A JK bit
 * means the BMS has already opened the MOSFET of the affected direction, and the policy already
 * turns that into CCL or DCL = 0 with the enable flag cleared (§4a.5). So:
 *  - a trip that blocks one direction is a WARNING: the other direction is what recovers the
 *    battery (an empty pack must still be charged, a full one discharged), and raising it as a
 *    protection would stop exactly that;
 *  - heat is a PROTECTION: every current adds heat and the MOSFET itself may be what is failing,
 *    so the inverter stopping is the only independent defence left;
 *  - a protection the bridge cannot interpret (309_A/B) is a PROTECTION: fail safe.
 *
 * Where the one-direction trips go is the inverter's choice (issue 11): the Pylon V1.2 document,
 * Uksa007 and YamBMS put a tripped JK protection in the 0x359 protection bytes 0-1
 * (inverter-can-protocols.md §3.2, §11), while an SMA Sunny Island stops on any alarm (§10.13) and
 * some Solis raise "BMS error" on protection bits (§10.9). So they are 'directional' here, and the
 * caller places them at the alarm or warning level (config can.bmsProtections, per profile).
 */
import type { AlarmKind, AlarmSet } from '../protocol/can/battery-state';
import { hasAlarm, type BmsSnapshot, type JkAlarmName } from '../protocol/jk/snapshot';

type Severity = 'alarm' | 'warning' | 'directional';

/** The level a one-direction JK protection trip is reported at. */
export type ProtectionLevel = 'alarm' | 'warning';

const JK_ALARM_MAP: Record<JkAlarmName, { kind: AlarmKind; severity: Severity }> = {
  // SoC below the 0xB1 setting; the doc itself rates it "warning only" (§2.9). It is a SoC
  // condition, so it is not reported as low voltage; "general" is the honest kind.
  lowCapacity: { kind: 'general', severity: 'warning' },
  mosfetOverTemperature: { kind: 'highTemperature', severity: 'alarm' },
  // Pack OVP: charge MOSFET off, discharging is what brings the voltage down.
  chargeOverVoltage: { kind: 'highVoltage', severity: 'directional' },
  // Pack UVP: discharge MOSFET off, charging is what recovers the pack.
  dischargeUnderVoltage: { kind: 'lowVoltage', severity: 'directional' },
  batteryOverTemperature: { kind: 'highTemperature', severity: 'alarm' },
  // OCP trips the MOSFET of that direction and the JK releases it after its delay (0x98/0x9A).
  chargeOverCurrent: { kind: 'highChargeCurrent', severity: 'directional' },
  dischargeOverCurrent: { kind: 'highDischargeCurrent', severity: 'directional' },
  // §11: Uksa007 also ORs this into over-voltage, which §11 calls questionable; it is a balance
  // condition, reported as the imbalance kind only.
  cellVoltageDifference: { kind: 'cellImbalance', severity: 'warning' },
  boxOverTemperature: { kind: 'highTemperature', severity: 'alarm' },
  // The bit does not say whether charge or discharge UTP tripped (the capture in §2.9 is the
  // charge UTP with discharge still on), so the general kind: Pylon has only that one (§3.2).
  batteryLowTemperature: { kind: 'lowTemperature', severity: 'directional' },
  cellOverVoltage: { kind: 'highVoltage', severity: 'directional' },
  cellUnderVoltage: { kind: 'lowVoltage', severity: 'directional' },
  // Pylon 0x359 byte 1 bit 3 "system error" (§3.2, §11).
  protection309A: { kind: 'systemError', severity: 'alarm' },
  protection309B: { kind: 'systemError', severity: 'alarm' },
};

/** The kinds only a one-direction JK protection trip raises (severity 'directional' above). */
const DIRECTIONAL_KINDS: ReadonlySet<AlarmKind> = new Set(
  Object.values(JK_ALARM_MAP)
    .filter((m) => m.severity === 'directional')
    .map((m) => m.kind),
);

/**
 * The policy's alarm sets (one-direction trips at the warning level) with those trips moved to
 * the alarm level when the inverter wants protections there (config can.bmsProtections).
 */
export function placeProtections(sets: { alarms: AlarmSet; warnings: AlarmSet }, level: ProtectionLevel): { alarms: AlarmSet; warnings: AlarmSet } {
  if (level === 'warning') return { alarms: sets.alarms, warnings: sets.warnings };
  const alarms: AlarmSet = { ...sets.alarms };
  const warnings: AlarmSet = {};
  for (const [kind, on] of Object.entries(sets.warnings) as [AlarmKind, boolean][]) {
    if (on && DIRECTIONAL_KINDS.has(kind)) alarms[kind] = true;
    else warnings[kind] = on;
  }
  return { alarms, warnings };
}

export function mapJkAlarms(
  snapshot: Pick<BmsSnapshot, 'alarms'>,
  directionalAs: ProtectionLevel = 'warning',
): { alarms: AlarmSet; warnings: AlarmSet } {
  const alarms: AlarmSet = {};
  const warnings: AlarmSet = {};
  for (const name of Object.keys(JK_ALARM_MAP) as JkAlarmName[]) {
    if (!hasAlarm(snapshot, name)) continue;
    const { kind, severity } = JK_ALARM_MAP[name];
    const level = severity === 'directional' ? directionalAs : severity;
    (level === 'alarm' ? alarms : warnings)[kind] = true;
  }
  return { alarms, warnings };
}
