/** Pure charge control: settings, limit tables, the policy step and the JK alarm mapping. */
export { mapJkAlarms } from './alarms';
export type { ChargePhase } from './charge-voltage';
export {
  createControlState,
  recoveringControlState,
  maxChargeVoltageV,
  stoppedChargeVoltageV,
  stepControl,
  type ControlOutput,
  type ControlState,
} from './policy';
export {
  controlSettingsSchema,
  defaultControlSettings,
  type ControlSettings,
  type LimitTable,
} from './settings';
export { lookup, type StepCrossing } from './table';
