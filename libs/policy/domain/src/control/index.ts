export {
  BREAKER_TRIP_ACTOR,
  breakerKey,
  breakerResetEvent,
  breakerTripEvent,
  controlEventId,
  isControlEventProblem,
  killSwitchEvent,
  parseBreakerKind,
  parseControlVersion,
  principalOf,
  toBreakerReset,
  toBreakerTrip,
  toKillSwitchControlEvent,
} from './control-events';
export type {
  BreakerResetEventInput,
  BreakerResetRequest,
  BreakerTripNotice,
  ControlEventProblem,
  KillSwitchChange,
  KillSwitchEventInput,
} from './control-events';
export {
  CONTROL_AUDIT_KIND,
  CONTROL_AUDIT_PAYLOAD_TYPE,
  CONTROL_SOURCE,
  controlAuditFacts,
  controlAuditOutboxMessage,
  controlOutboxMessage,
} from './control-outbox';
export { ControlAdmin, MAX_CONTROL_REASON_LENGTH, POLICY_CONTROLS } from './control-admin';
export type {
  ControlAdminResult,
  ControlDoc,
  ControlDocKind,
  ListedKillSwitch,
} from './control-admin';
export { ControlApplier } from './control-applier';
export type {
  BundleControlHandler,
  ControlApplierOptions,
  ControlApplyResult,
  ControlApplyStatus,
} from './control-applier';
