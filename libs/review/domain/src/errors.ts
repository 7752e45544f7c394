/**
 * Refusals of the review domain. Each carries a stable `code` (the service maps it to an HTTP /
 * gRPC status and the console shows it) and a message a reviewer can read.
 */
export abstract class ReviewError extends Error {
  abstract readonly code: string;
}

/** No such task in this tenant (also what a reviewer of another tenant gets: no existence leak). */
export class TaskNotFoundError extends ReviewError {
  override readonly name = 'TaskNotFoundError';
  readonly code = 'TASK_NOT_FOUND';
  constructor(readonly taskId: string) {
    super(`review task ${taskId} not found`);
  }
}

/** Someone else holds a live claim on the task (the loser of a claim race gets this). */
export class TaskAlreadyClaimedError extends ReviewError {
  override readonly name = 'TaskAlreadyClaimedError';
  readonly code = 'TASK_ALREADY_CLAIMED';
  constructor(
    readonly taskId: string,
    readonly assigneeId: string,
    readonly leaseUntil: Date,
  ) {
    super(
      `review task ${taskId} is claimed by ${assigneeId} until ${leaseUntil.toISOString()}; ` +
        'it can be claimed once they release it or the claim expires',
    );
  }
}

/** The task is already approved, rejected or expired. */
export class TaskClosedError extends ReviewError {
  override readonly name = 'TaskClosedError';
  readonly code = 'TASK_CLOSED';
  constructor(
    readonly taskId: string,
    readonly status: string,
  ) {
    super(`review task ${taskId} is ${status.toLowerCase()}; it takes no more decisions`);
  }
}

/** The final SLA tier is past due: the task fails safe at the next sweep and takes no approval. */
export class TaskExpiredError extends ReviewError {
  override readonly name = 'TaskExpiredError';
  readonly code = 'TASK_EXPIRED';
  constructor(
    readonly taskId: string,
    readonly dueAt: Date,
  ) {
    super(
      `review task ${taskId} passed its final deadline (${dueAt.toISOString()}); it can only be rejected`,
    );
  }
}

export type NotAuthorisedReason =
  'UNKNOWN_REVIEWER' | 'INACTIVE' | 'OTHER_TENANT' | 'AUDITOR' | 'ROLE' | 'NOT_ASSIGNEE';

/** The person may not do this at all (identity, tenant or role). */
export class NotAuthorisedError extends ReviewError {
  override readonly name = 'NotAuthorisedError';
  readonly code = 'NOT_AUTHORISED';
  constructor(
    readonly reason: NotAuthorisedReason,
    message: string,
  ) {
    super(message);
  }
}

export type NotEligibleReason = 'TEAM' | 'SKILL' | 'ALREADY_APPROVED' | 'CONFLICT_OF_INTEREST';

/** The person is a reviewer of the tenant but not for this task (queue team/skill, four-eyes). */
export class NotEligibleError extends ReviewError {
  override readonly name = 'NotEligibleError';
  readonly code = 'NOT_ELIGIBLE';
  constructor(
    readonly reason: NotEligibleReason,
    message: string,
  ) {
    super(message);
  }
}

export type FourEyesReason = 'SAME_APPROVER' | 'AGENT_OWNER' | 'REQUESTER' | 'AGENT_ITSELF';

/** An approval that separation of duties forbids. */
export class FourEyesViolationError extends ReviewError {
  override readonly name = 'FourEyesViolationError';
  readonly code = 'FOUR_EYES_VIOLATION';
  constructor(
    readonly reason: FourEyesReason,
    message: string,
  ) {
    super(message);
  }
}

/** A malformed request (missing reason code, edit without action, ...). */
export class InvalidDecisionError extends ReviewError {
  override readonly name = 'InvalidDecisionError';
  readonly code = 'INVALID_DECISION';
}

/** The policy re-check answered something that cannot be honoured safely; nothing was written. */
export class PolicyRecheckError extends ReviewError {
  override readonly name = 'PolicyRecheckError';
  readonly code = 'POLICY_RECHECK_FAILED';
}

/**
 * Policy could not be asked (unreachable, deadline, not started): nothing was written and the
 * caller may retry. Not a verdict: a decision message that meets it is redelivered, not dropped.
 */
export class PolicyUnavailableError extends ReviewError {
  override readonly name = 'PolicyUnavailableError';
  readonly code = 'POLICY_UNAVAILABLE';
}

/** Too many concurrent writers on one task; the caller may retry. */
export class TaskContentionError extends ReviewError {
  override readonly name = 'TaskContentionError';
  readonly code = 'TASK_CONTENTION';
  constructor(readonly taskId: string) {
    super(`review task ${taskId} kept changing under this request; try again`);
  }
}

/** No such hand-off task in this tenant (also what a reviewer of another tenant gets). */
export class HandOffNotFoundError extends ReviewError {
  override readonly name = 'HandOffNotFoundError';
  readonly code = 'HANDOFF_NOT_FOUND';
  constructor(readonly handoffId: string) {
    super(`hand-off ${handoffId} not found`);
  }
}

/** Someone else has taken the hand-off over (the loser of a claim race gets this). */
export class HandOffAlreadyClaimedError extends ReviewError {
  override readonly name = 'HandOffAlreadyClaimedError';
  readonly code = 'HANDOFF_ALREADY_CLAIMED';
  constructor(
    readonly handoffId: string,
    readonly assigneeId: string,
  ) {
    super(
      `hand-off ${handoffId} is claimed by ${assigneeId}; it can be claimed once they release it ` +
        '(or a supervisor does)',
    );
  }
}

/** The hand-off is already resolved (done or dismissed). */
export class HandOffClosedError extends ReviewError {
  override readonly name = 'HandOffClosedError';
  readonly code = 'HANDOFF_CLOSED';
  constructor(
    readonly handoffId: string,
    readonly status: string,
  ) {
    super(`hand-off ${handoffId} is ${status.toLowerCase()}; it takes no more changes`);
  }
}

/** Too many concurrent writers on one hand-off; the caller may retry. */
export class HandOffContentionError extends ReviewError {
  override readonly name = 'HandOffContentionError';
  readonly code = 'HANDOFF_CONTENTION';
  constructor(readonly handoffId: string) {
    super(`hand-off ${handoffId} kept changing under this request; try again`);
  }
}

/** A configuration the domain refuses to run with (e.g. approval on SLA expiry). */
export class ReviewConfigError extends Error {
  override readonly name = 'ReviewConfigError';
}
