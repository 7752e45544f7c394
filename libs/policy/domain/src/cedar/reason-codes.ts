/**
 * Reason codes the Cedar layer itself yields when it denies before or around Cedar (fail closed).
 * Codes of forbid policies come from their `@reason("...")` annotation in the bundle.
 */
export const CedarReason = {
  /** Cedar allowed, but some policy raised an evaluation error (Cedar skips an erroring policy,
   * so a forbid may silently not have applied): deny. */
  EVALUATION_ERROR: 'EVALUATION_ERROR',
  /** Cedar answered with a failure (request or entities did not conform to the schema, ...). */
  CEDAR_FAILURE: 'CEDAR_FAILURE',
  /** Deny without any matching forbid: no permit applied (Cedar's default deny). */
  NO_PERMIT: 'NO_PERMIT',
  /** A forbid matched that carries no @reason (only possible in an unvalidated bundle). */
  FORBIDDEN: 'FORBIDDEN',
  /** The action has no kind, or its type is not an action of the bundle's schema. */
  UNKNOWN_ACTION: 'UNKNOWN_ACTION',
  /** The target's object type has no Cedar entity type in the schema. */
  UNKNOWN_RESOURCE_TYPE: 'UNKNOWN_RESOURCE_TYPE',
  /** The schema does not allow this action on this resource type (e.g. apply_discount on a lead). */
  ACTION_NOT_APPLICABLE: 'ACTION_NOT_APPLICABLE',
  /** No facts about the target record (the CRM could not be read). */
  FACTS_UNAVAILABLE: 'FACTS_UNAVAILABLE',
  /** The facts describe another record than the proposal's target. */
  FACTS_MISMATCH: 'FACTS_MISMATCH',
  /** No agent profile, or a profile for another agent than the proposal's. */
  UNKNOWN_AGENT: 'UNKNOWN_AGENT',
  /** No proposal, or one without tenant, agent, target or well-formed action parameters. */
  MALFORMED_PROPOSAL: 'MALFORMED_PROPOSAL',
  /** An attribute the schema declares as required could not be supplied. */
  MISSING_ATTRIBUTE: 'MISSING_ATTRIBUTE',
  /** The tenant time zone is not a valid IANA zone, or `now` is not a valid date. */
  INVALID_CLOCK: 'INVALID_CLOCK',
  /** No valid bundle is active (the registry has never accepted one). */
  NO_BUNDLE: 'NO_BUNDLE',
  /** The active bundle has not been confirmed current for longer than allowed. */
  STALE_BUNDLE: 'STALE_BUNDLE',
  /** An unexpected exception inside the evaluator (a bug): deny rather than crash. */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;

export type CedarReasonCode = (typeof CedarReason)[keyof typeof CedarReason];
