/** Pure charge control: settings, limit tables, the policy step and the JK alarm mapping. */
export { mapJkAlarms, placeProtections, type ProtectionLevel } from './alarms';
export {
  batteryPolicyKey,
  dischargeVoltageMv,
  maxChargeVoltageV,
  resolveBatteryPolicy,
  type BatteryPolicy,
  type ChemistrySetting,
  type InverterWindows,
} from './battery-policy';
export { CHEMISTRIES, CHEMISTRY_PRESETS, inferChemistry, type Chemistry } from './chemistry';
export type { ChargePhase } from './charge-voltage';
export {
  createControlState,
  recoveringControlState,
  stoppedChargeVoltageV,
  stepControl,
  type ControlOutput,
  type ControlState,
} from './policy';
export {
  controlConfigSchema,
  controlSettingsSchema,
  defaultControlSettings,
  resolveControlSettings,
  type ControlConfig,
  type ControlSettings,
  type LimitTable,
} from './settings';
export { lookup, type StepCrossing } from './table';
