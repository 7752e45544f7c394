import type { ActionProposal, Verdict } from '@mandate/contracts';

/** A scalar attribute as read from the system of record. */
export type FactValue = string | number | boolean;

/**
 * What policy knows about the record an action targets, read from the CRM (never taken from the
 * agent's proposal). Field names are the CRM's (embedded CRM: camelCase, e.g. `industry`,
 * `customerTier`, `amountMinor`, `emailConsent`, `optedOut`). A fact policy needs but cannot find
 * is simply absent: Cedar policies must fail closed on absent attributes (`has` checks), and the
 * engine treats any evaluation error as DENY.
 */
export interface RecordFacts {
  objectType: string;
  recordId: string;
  /** Tenant that owns the record (cross-tenant access is forbidden). */
  tenantId: string;
  attributes: Record<string, FactValue>;
}

/** Policy-side profile of an agent (from the active bundle's agents.json). */
export interface AgentProfile {
  id: string;
  /** Purpose that limits the fields it may read and write, e.g. "lead-qualification". */
  purpose: string;
  /** Fields the purpose allows the agent to write (UpdateField) or read. */
  allowedFields: string[];
  /** The most autonomous verdict the agent may ever get. */
  ceiling: Verdict;
  /** Tenants the agent is deployed in. */
  tenants: string[];
}

/** Everything a decision is computed from. `now` is injected so decisions are reproducible. */
export interface DecisionInput {
  proposal: ActionProposal;
  /** Absent when the record could not be read: the engine denies (fail closed). */
  facts: RecordFacts | undefined;
  agent: AgentProfile | undefined;
  now: Date;
  /** IANA time zone of the tenant, for quiet hours; default UTC. */
  tenantTimeZone?: string;
}
