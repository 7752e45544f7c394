import { FourEyesViolationError } from './errors';
import { currentApprovals, type StoredReview } from './review-task.doc';

/**
 * Separation of duties. A task that needs two approvals (APPROVE_2, or an APPROVE_1 that policy's
 * re-check raised to two) needs two distinct people, neither the agent's owner nor the requester.
 * The agent itself never approves anything, and nobody approves the same version twice.
 */

/** The people a task's approvals must come from someone other than. */
export interface Parties {
  /** The proposing agent (never an approver). */
  readonly agentId: string;
  /** The person accountable for the agent (`AgentOwnerLookup`). */
  readonly ownerId?: string;
  /** Who asked for the action, when known; defaults to the agent. */
  readonly requesterId?: string;
}

export const isFourEyes = (requiredApprovals: number) => requiredApprovals >= 2;

/** Refuses an approval separation of duties forbids; returns normally when it is allowed. */
export function checkApprover(
  reviewerId: string,
  task: { readonly requiredApprovals: number; readonly reviews: readonly StoredReview[] },
  parties: Parties,
  /** An edit makes a new version: earlier approvals (the editor's too) no longer count. */
  edit = false,
): void {
  if (reviewerId === parties.agentId)
    throw new FourEyesViolationError('AGENT_ITSELF', 'an agent never approves its own proposal');
  if (!edit && currentApprovals(task.reviews).some((r) => r.reviewerId === reviewerId))
    throw new FourEyesViolationError(
      'SAME_APPROVER',
      `${reviewerId} already approved this action; a second approval must come from someone else`,
    );
  if (!isFourEyes(task.requiredApprovals)) return;
  if (parties.ownerId && reviewerId === parties.ownerId)
    throw new FourEyesViolationError(
      'AGENT_OWNER',
      `${reviewerId} owns agent ${parties.agentId}; four-eyes approvals must come from others`,
    );
  if (parties.requesterId && reviewerId === parties.requesterId)
    throw new FourEyesViolationError(
      'REQUESTER',
      `${reviewerId} requested this action; four-eyes approvals must come from others`,
    );
}

/**
 * Approvals that count in the domain's eyes: current (since the last edit), distinct, and, on a
 * four-eyes task, not by the owner or the requester (an approval they gave while the task still
 * needed one does not count once it needs two).
 */
export function qualifyingApprovals(
  reviews: readonly StoredReview[],
  requiredApprovals: number,
  parties: Parties,
): StoredReview[] {
  return currentApprovals(reviews).filter(
    (r) =>
      r.reviewerId !== parties.agentId &&
      !(
        isFourEyes(requiredApprovals) &&
        (r.reviewerId === parties.ownerId || r.reviewerId === parties.requesterId)
      ),
  );
}
