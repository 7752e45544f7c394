export {
  VERDICT_NAMES,
  capAtCeiling,
  isMoreRestrictive,
  moreRestrictive,
  normalizeVerdict,
  verdictName,
  verdictOfName,
} from './verdict-order';
export type { VerdictName } from './verdict-order';
export { matrixVerdict, parseAutonomyMatrix } from './autonomy-matrix';
export type { AutonomyMatrix } from './autonomy-matrix';
export { POLICY_ADMIN_ROLE, RoleAuthorizer, SUPERVISOR_ROLE } from './control-authorizer';
export type { Authorizer, ControlTarget, Principal } from './control-authorizer';
export type { AutonomyAuditEvent, AutonomyAuditKind } from './autonomy-audit';
export {
  KILL_SWITCH_SCOPES,
  KillSwitchBoard,
  killSwitchKey,
  killSwitchTargetProblem,
} from './kill-switch.board';
export type {
  KillSwitch,
  KillSwitchApplyResult,
  KillSwitchApplyStatus,
  KillSwitchBoardOptions,
  KillSwitchControlEvent,
  KillSwitchMode,
  KillSwitchScope,
  KillSwitchTarget,
} from './kill-switch.board';
export { BREAKER_KINDS, CircuitBreakers, DEFAULT_CIRCUIT_BREAKER_CONFIG } from './circuit-breakers';
export type {
  BreakerKind,
  BreakerObservation,
  BreakerResetResult,
  CircuitBreakerConfig,
  OpenBreaker,
} from './circuit-breakers';
export { HUMAN_REVIEW_OBLIGATION, decideAutonomy } from './decide-autonomy';
export type { AutonomyDecision, AutonomyInput } from './decide-autonomy';
