/** Kinds of control-plane transitions the autonomy layer reports for the audit ledger. */
export type AutonomyAuditKind =
  | 'KILL_SWITCH_SET'
  | 'KILL_SWITCH_CLEARED'
  | 'KILL_SWITCH_REFUSED'
  | 'CIRCUIT_BREAKER_TRIPPED'
  | 'CIRCUIT_BREAKER_RESET'
  | 'CIRCUIT_BREAKER_RESET_REFUSED';

/**
 * One audit-able transition, shaped like `AuditRecord` (which the caller builds and publishes).
 * `auditId` is deterministic, so a re-applied event yields the same id and the ledger stores it
 * once. No PII: ids, scopes, reasons written by operators.
 */
export interface AutonomyAuditEvent {
  readonly auditId: string;
  readonly kind: AutonomyAuditKind;
  /** Tenant concerned; empty for a global switch. */
  readonly tenantId: string;
  /** The principal who acted, or "policy" for an automatic trip. */
  readonly actor: string;
  /** ISO 8601. */
  readonly occurredAt: string;
  readonly summary: string;
  /** e.g. scope, agent_id, action_type, mode, breaker, demote_to, version. */
  readonly attributes: Readonly<Record<string, string>>;
}
