import {
  Approval,
  CrmAction,
  ReviewDecision,
  ReviewTask,
  ReviewTaskStatus,
  type PolicyDecision,
} from '@mandate/contracts';

export type ReviewTaskStatusName = 'OPEN' | 'CLAIMED' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

/** Statuses in which a task still waits for people (and its SLA timers run). */
export const ACTIVE_STATUSES: readonly ReviewTaskStatusName[] = ['OPEN', 'CLAIMED'];

export const isActive = (status: ReviewTaskStatusName) => status === 'OPEN' || status === 'CLAIMED';

export type ReviewOutcomeName = 'APPROVE' | 'REJECT' | 'EDIT_APPROVE';

/**
 * What a decision did to the task: closed it approved, closed it rejected (by the reviewer or by
 * policy's re-check), recorded an approval that is not yet enough, recorded a post-hoc verdict,
 * or failed the task safe at SLA expiry.
 */
export type DecisionEffect =
  'approved' | 'rejected' | 'denied-by-policy' | 'pending-approvals' | 'recorded' | 'expired';

/** One decision on the task, as recorded (append-only). */
export interface StoredReview {
  /** review_decision_id: duplicates of a decision are recognised by it. */
  id: string;
  reviewerId: string;
  outcome: ReviewOutcomeName;
  reasonCode: string;
  decidedAt: Date;
  /** Start of the decision time: the reviewer's claim, or when the task opened. */
  startedAt: Date;
  startedFrom: 'claim' | 'open';
  /** A decision the system made (SLA fail-safe); reviewer analytics leave it out. */
  system?: boolean;
  /** Set when it was given in a batch approval. */
  batchId?: string;
  effect: DecisionEffect;
  /** Verdict of policy's re-check, e.g. "APPROVE_2", "DENY" (approvals only). */
  recheckVerdict?: string;
  /** The ReviewDecision as published (protobuf, base64). */
  decision: string;
}

/** A comment on the task: append-only, never edited or removed. */
export interface TaskComment {
  id: string;
  authorId: string;
  at: Date;
  text: string;
  /** When the comment came with a decision. */
  reviewDecisionId?: string;
}

/**
 * A review task as stored (`review_tasks`). The fields of the first version (`id` … `dueAt`) keep
 * their meaning; everything after is optional so documents written before still read (the domain
 * fills the gaps from `task` and the configuration, see `withDefaults`).
 */
export interface ReviewTaskDoc {
  id: string;
  status: ReviewTaskStatusName;
  correlationId: string;
  requiredApprovals: number;
  /** The task as published (protobuf, base64): kept current with every transition. */
  task: string;
  createdAt: Date;
  /** Deadline of the current SLA tier. */
  dueAt: Date;

  decisionId?: string;
  proposalId?: string;
  agentId?: string;
  postHoc?: boolean;
  // Queue keys (top-level scalars so `find` can filter on them).
  team?: string;
  skill?: string;
  actionType?: string;
  riskBand?: string;
  // SLA timers: data on the task, so they survive restarts.
  /** Escalation tier, 0-based. */
  tier?: number;
  warnAt?: Date;
  /** When the warning of the current tier went out (unset on escalation). */
  warnedAt?: Date;
  /** Earliest instant at which the sweep has something to do (warning, due, lease). */
  nextTimerAt?: Date;
  // Claim.
  assigneeId?: string;
  claimedAt?: Date;
  leaseUntil?: Date;
  // History.
  reviews?: StoredReview[];
  comments?: TaskComment[];
  lastDecisionAt?: Date;
  closedAt?: Date;
  /** Why it closed: APPROVED, REVIEW_REJECTED, POLICY_DENIED, SLA_EXPIRED, SLA_EXPIRED_NO_REJECTION. */
  closeReason?: string;
  /** Policy's reason codes when its re-check denied the (edited) action. */
  closeReasons?: string[];
  /** Latest policy re-check (PolicyDecision, protobuf base64). */
  recheck?: string;
  /** Size of what a reviewer has to read (action + rationale), for the rubber-stamping floor. */
  payloadChars?: number;
  updatedAt?: Date;
}

export const STATUS_TO_PROTO: Readonly<Record<ReviewTaskStatusName, ReviewTaskStatus>> = {
  OPEN: ReviewTaskStatus.REVIEW_TASK_STATUS_OPEN,
  CLAIMED: ReviewTaskStatus.REVIEW_TASK_STATUS_CLAIMED,
  APPROVED: ReviewTaskStatus.REVIEW_TASK_STATUS_APPROVED,
  REJECTED: ReviewTaskStatus.REVIEW_TASK_STATUS_REJECTED,
  EXPIRED: ReviewTaskStatus.REVIEW_TASK_STATUS_EXPIRED,
};

export const encodeTask = (t: ReviewTask) =>
  Buffer.from(ReviewTask.encode(t).finish()).toString('base64');
export const decodeTask = (doc: Pick<ReviewTaskDoc, 'task'>) =>
  ReviewTask.decode(Buffer.from(doc.task, 'base64'));
export const encodeReview = (r: ReviewDecision) =>
  Buffer.from(ReviewDecision.encode(r).finish()).toString('base64');
export const decodeReview = (r: Pick<StoredReview, 'decision'>) =>
  ReviewDecision.decode(Buffer.from(r.decision, 'base64'));

/** Characters a reviewer reads to judge the proposal: the action (as JSON) and the rationale. */
export function payloadCharsOf(decision: PolicyDecision | undefined): number {
  const p = decision?.proposal;
  if (!p) return 0;
  const action = p.action ? JSON.stringify(CrmAction.toJSON(p.action)) : '';
  return action.length + (p.rationale?.length ?? 0);
}

/** The approvals that count for the action as it stands: since (and including) the last edit. */
export function currentApprovals(reviews: readonly StoredReview[]): StoredReview[] {
  let from = 0;
  reviews.forEach((r, i) => {
    if (r.outcome === 'EDIT_APPROVE') from = i;
  });
  const seen = new Set<string>();
  return reviews.slice(from).filter((r) => {
    if (r.system || r.outcome === 'REJECT' || seen.has(r.reviewerId)) return false;
    seen.add(r.reviewerId);
    return true;
  });
}

/** The task message with the document's current state folded in. */
export function taskView(doc: ReviewTaskDoc): ReviewTask {
  const task = decodeTask(doc);
  return ReviewTask.fromPartial({
    ...task,
    status: STATUS_TO_PROTO[doc.status],
    assigneeId: doc.status === 'CLAIMED' ? (doc.assigneeId ?? '') : '',
    requiredApprovals: doc.requiredApprovals,
    dueAt: doc.dueAt.toISOString(),
    queue: doc.team ?? task.queue,
    approvals: currentApprovals(doc.reviews ?? []).map((r) =>
      Approval.fromPartial({
        reviewerId: r.reviewerId,
        decidedAt: r.decidedAt.toISOString(),
        reviewDecisionId: r.id,
      }),
    ),
  });
}

/** Earliest SLA or lease instant of an active task; undefined once it is closed. */
export function nextTimerOf(
  doc: Pick<ReviewTaskDoc, 'status' | 'dueAt' | 'warnAt' | 'warnedAt' | 'leaseUntil'>,
): Date | undefined {
  if (!isActive(doc.status)) return undefined;
  let next = doc.dueAt.getTime();
  if (doc.warnAt && !doc.warnedAt) next = Math.min(next, doc.warnAt.getTime());
  if (doc.status === 'CLAIMED' && doc.leaseUntil) next = Math.min(next, doc.leaseUntil.getTime());
  return new Date(next);
}
