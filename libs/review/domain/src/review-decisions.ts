import {
  actionTypeOf,
  AuditKind,
  PolicyDecision,
  ReviewDecision,
  ReviewOutcome,
  Verdict,
  type CrmAction,
  type ReviewTask,
} from '@mandate/contracts';
import { requiredApprovals } from '@mandate/decision-token';
import { outboxMessage, Topics } from '@mandate/messaging';
import { isTenantId, type OutboxMessage, type TenantId } from '@mandate/storage';
import { eligibility } from './access';
import { ReviewContext, type ReviewDomainDeps } from './deps';
import {
  InvalidDecisionError,
  PolicyRecheckError,
  PolicyUnavailableError,
  ReviewError,
  TaskAlreadyClaimedError,
  TaskClosedError,
  TaskExpiredError,
} from './errors';
import { checkApprover, qualifyingApprovals, type Parties } from './four-eyes';
import { uuidFrom } from './ids';
import type { PolicyRecheckPort, Reviewer } from './ports';
import {
  decodeReview,
  decodeTask,
  encodeReview,
  isActive,
  taskView,
  type DecisionEffect,
  type ReviewOutcomeName,
  type ReviewTaskStatusName,
  type StoredReview,
} from './review-task.doc';
import { SOURCE, type TaskState } from './task-repository';

interface DecisionCommon {
  /** Id of this decision (UUID); a repeated request or message with the same id changes nothing. */
  readonly reviewDecisionId?: string;
  /** Free text for colleagues (may hold personal data: kept out of audit records). */
  readonly comment?: string;
}

/** A reviewer's decision. A rejection needs a reason code; an edit needs the edited action. */
export type DecisionInput =
  | (DecisionCommon & { readonly outcome: 'APPROVE'; readonly reasonCode?: string })
  | (DecisionCommon & { readonly outcome: 'REJECT'; readonly reasonCode: string })
  | (DecisionCommon & {
      readonly outcome: 'EDIT_APPROVE';
      readonly editedAction: CrmAction;
      readonly reasonCode?: string;
    });

export interface DecisionResult {
  readonly taskId: string;
  readonly status: ReviewTaskStatusName;
  readonly effect: DecisionEffect;
  readonly review: ReviewDecision;
  readonly requiredApprovals: number;
  /** Approvals of the current version that count (distinct, four-eyes applied). */
  readonly approvedBy: readonly string[];
  /** Policy's answer to the re-check (approvals only). */
  readonly recheck?: PolicyDecision;
  /** Policy's reason codes when it denied. */
  readonly reasons?: readonly string[];
  /** The same review_decision_id had been recorded already: nothing changed. */
  readonly duplicate: boolean;
  readonly task: ReviewTask;
}

export type BatchRefusal =
  'NOT_LOW_RISK' | 'FOUR_EYES' | 'POST_HOC' | 'DUPLICATE_IN_BATCH' | 'ERROR' | ReviewError['code'];

export type BatchItemResult =
  | { readonly taskId: string; readonly ok: true; readonly result: DecisionResult }
  | {
      readonly taskId: string;
      readonly ok: false;
      readonly code: BatchRefusal;
      readonly reason: string;
    };

export interface BatchResult {
  readonly batchId: string;
  readonly items: BatchItemResult[];
  readonly approved: number;
  readonly refused: number;
}

/** A batch item that does not qualify (checked again inside the task's transition). */
class NotBatchEligibleError extends ReviewError {
  override readonly name = 'NotBatchEligibleError';
  constructor(
    readonly code: 'NOT_LOW_RISK' | 'FOUR_EYES' | 'POST_HOC',
    message: string,
  ) {
    super(message);
  }
}

const REASON_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;
const OUTCOME: Readonly<Record<ReviewOutcomeName, ReviewOutcome>> = {
  APPROVE: ReviewOutcome.REVIEW_OUTCOME_APPROVE,
  REJECT: ReviewOutcome.REVIEW_OUTCOME_REJECT,
  EDIT_APPROVE: ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE,
};
const verdictName = (v: Verdict) => (Verdict[v] ?? 'VERDICT_UNSPECIFIED').replace('VERDICT_', '');

interface Internal {
  readonly batchId?: string;
  readonly batchRiskBands?: readonly string[];
}

/**
 * Reviewers' decisions. Authorisation is checked here, whatever the transport: an active
 * reviewer or supervisor of the task's tenant, in the task's queue, never an auditor. Approvals
 * obey four-eyes and are re-checked by policy, whose verdict is honoured: DENY rejects the task,
 * APPROVE(n) without a complete token keeps it open with the approval recorded, and a complete
 * token approves it — the re-checked decision then goes out on the policy-decisions topic (the
 * connectors execute it) with the review decision, in the same write. Every decision is audited
 * with the reviewer's id. A decision is idempotent on its review_decision_id.
 */
export class ReviewDecisions {
  private readonly ctx: ReviewContext;
  private readonly policy: PolicyRecheckPort;

  constructor(deps: ReviewDomainDeps | ReviewContext) {
    this.ctx = deps instanceof ReviewContext ? deps : new ReviewContext(deps);
    const policy = this.ctx.deps.policy;
    if (!policy) throw new InvalidDecisionError('ReviewDecisions needs the policy re-check port');
    this.policy = policy;
  }

  async decide(
    tenant: TenantId,
    taskId: string,
    reviewerId: string,
    input: DecisionInput,
  ): Promise<DecisionResult> {
    const reviewer = await this.ctx.reviewer(tenant, reviewerId);
    return this.decideAs(tenant, taskId, reviewer, input, {});
  }

  /**
   * A decision that arrived as a message (the reviewer's identity was verified upstream): the
   * same rules as `decide`; a redelivered message is recognised by its review_decision_id.
   */
  async applyReviewDecision(msg: ReviewDecision): Promise<DecisionResult> {
    if (!isTenantId(msg.tenantId)) throw new InvalidDecisionError('invalid tenant id');
    if (!msg.reviewDecisionId) throw new InvalidDecisionError('review_decision_id is required');
    const common = { reviewDecisionId: msg.reviewDecisionId, comment: msg.comment || undefined };
    let input: DecisionInput;
    switch (msg.outcome) {
      case ReviewOutcome.REVIEW_OUTCOME_APPROVE:
        input = { ...common, outcome: 'APPROVE', reasonCode: msg.reasonCode || undefined };
        break;
      case ReviewOutcome.REVIEW_OUTCOME_REJECT:
        input = { ...common, outcome: 'REJECT', reasonCode: msg.reasonCode };
        break;
      case ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE:
        if (!msg.editedAction)
          throw new InvalidDecisionError('EDIT_APPROVE needs the edited action');
        input = {
          ...common,
          outcome: 'EDIT_APPROVE',
          editedAction: msg.editedAction,
          reasonCode: msg.reasonCode || undefined,
        };
        break;
      default:
        throw new InvalidDecisionError('the decision has no outcome');
    }
    return this.decide(msg.tenantId, msg.taskId, msg.reviewerId, input);
  }

  /**
   * Approves many low-risk tasks in one call: each must be APPROVE_1 (no four-eyes), not
   * post-hoc, in a batch risk band (default "low"), and each is still authorised, re-checked by
   * policy and audited on its own. Items that do not qualify are refused with a reason; the rest
   * go on. With the same `batchId`, a repeated call is idempotent item by item.
   */
  async approveBatch(
    tenant: TenantId,
    reviewerId: string,
    taskIds: readonly string[],
    opts: { batchId?: string; comment?: string } = {},
  ): Promise<BatchResult> {
    const max = this.ctx.config.batch.maxItems;
    if (taskIds.length > max)
      throw new InvalidDecisionError(`a batch holds at most ${max} tasks (got ${taskIds.length})`);
    const reviewer = await this.ctx.reviewer(tenant, reviewerId);
    const batchId = opts.batchId ?? this.ctx.newId();
    const seen = new Set<string>();
    const items: BatchItemResult[] = [];
    for (const taskId of taskIds) {
      if (seen.has(taskId)) {
        items.push({ taskId, ok: false, code: 'DUPLICATE_IN_BATCH', reason: 'listed twice' });
        continue;
      }
      seen.add(taskId);
      try {
        const result = await this.decideAs(
          tenant,
          taskId,
          reviewer,
          {
            outcome: 'APPROVE',
            reviewDecisionId: uuidFrom('batch', tenant, batchId, taskId),
            comment: opts.comment,
          },
          { batchId, batchRiskBands: this.ctx.config.batch.riskBands },
        );
        items.push({ taskId, ok: true, result });
      } catch (err) {
        items.push(
          err instanceof ReviewError
            ? { taskId, ok: false, code: err.code, reason: err.message }
            : {
                taskId,
                ok: false,
                code: 'ERROR',
                reason: err instanceof Error ? err.message : String(err),
              },
        );
      }
    }
    const approved = items.filter((i) => i.ok).length;
    return { batchId, items, approved, refused: items.length - approved };
  }

  private async decideAs(
    tenant: TenantId,
    taskId: string,
    reviewer: Reviewer,
    input: DecisionInput,
    internal: Internal,
  ): Promise<DecisionResult> {
    validateInput(input);
    if ((input.comment?.length ?? 0) > this.ctx.config.maxCommentChars)
      throw new InvalidDecisionError(
        `a comment holds at most ${this.ctx.config.maxCommentChars} characters`,
      );
    const id = input.reviewDecisionId || this.ctx.newId();
    let parties: Parties | undefined;
    return this.ctx.repo.transition(tenant, taskId, async (s, version) => {
      const now = this.ctx.now();
      const recorded = s.reviews.find((r) => r.id === id);
      if (recorded) {
        if (recorded.reviewerId !== reviewer.id)
          throw new InvalidDecisionError(`review decision ${id} was made by someone else`);
        parties ??= await this.ctx.parties(tenant, s);
        return { write: false, result: this.result(s, recorded, true, parties) };
      }
      if (!isActive(s.status)) throw new TaskClosedError(s.id, s.status);
      const ineligible = eligibility(reviewer, s);
      if (ineligible) throw ineligible;
      if (
        s.status === 'CLAIMED' &&
        s.assigneeId !== reviewer.id &&
        s.leaseUntil &&
        s.leaseUntil > now
      )
        throw new TaskAlreadyClaimedError(s.id, s.assigneeId ?? '', s.leaseUntil);
      if (internal.batchId) checkBatchItem(s, internal.batchRiskBands ?? []);
      const fromClaim =
        s.status === 'CLAIMED' && s.assigneeId === reviewer.id ? s.claimedAt : undefined;
      const task = decodeTask(s);
      const review = ReviewDecision.fromPartial({
        reviewDecisionId: id,
        taskId: s.id,
        tenantId: tenant,
        correlationId: s.correlationId,
        reviewerId: reviewer.id,
        outcome: OUTCOME[input.outcome],
        reasonCode: input.reasonCode ?? (input.outcome === 'EDIT_APPROVE' ? 'EDITED' : 'APPROVED'),
        comment: input.comment ?? '',
        editedAction: input.outcome === 'EDIT_APPROVE' ? input.editedAction : undefined,
        decidedAt: now.toISOString(),
        proposalId: s.proposalId,
        decisionId: s.decisionId,
      });
      const stored: StoredReview = {
        id,
        reviewerId: reviewer.id,
        outcome: input.outcome,
        reasonCode: review.reasonCode,
        decidedAt: now,
        startedAt: fromClaim ?? s.createdAt,
        startedFrom: fromClaim ? 'claim' : 'open',
        ...(internal.batchId ? { batchId: internal.batchId } : {}),
        effect: 'recorded',
        decision: encodeReview(review),
      };
      let recheck: PolicyDecision | undefined;
      let note = '';
      if (input.outcome === 'REJECT') {
        stored.effect = 'rejected';
        s.status = 'REJECTED';
        s.closeReason = 'REVIEW_REJECTED';
      } else if (s.postHoc) {
        if (input.outcome === 'EDIT_APPROVE')
          throw new InvalidDecisionError(
            'a post-hoc review cannot edit: the action already executed; reject it instead',
          );
        stored.effect = 'recorded';
        s.status = 'APPROVED';
        s.closeReason = 'POST_HOC_APPROVED';
      } else {
        if (now >= s.dueAt && s.tier >= this.ctx.repo.policyOf(s).tiers.length - 1)
          throw new TaskExpiredError(s.id, s.dueAt);
        parties ??= await this.ctx.parties(tenant, s);
        checkApprover(reviewer.id, s, parties, input.outcome === 'EDIT_APPROVE');
        if (input.outcome === 'EDIT_APPROVE') {
          const edited = actionTypeOf(input.editedAction);
          if (s.actionType && edited !== s.actionType)
            throw new InvalidDecisionError(
              `an edit may change the ${s.actionType} action's fields, not make it a ${edited ?? 'malformed'} action`,
            );
        }
        const original = task.decision;
        if (!original) throw new PolicyRecheckError(`task ${s.id} carries no decision to re-check`);
        const reviews = [...s.reviews.filter((r) => !r.system).map(decodeReview), review];
        try {
          recheck = await this.policy.recheck(original, reviews);
        } catch (err) {
          if (err instanceof ReviewError) throw err;
          throw new PolicyUnavailableError(
            `policy re-check unavailable, nothing was recorded; try again (${err instanceof Error ? err.message : String(err)})`,
          );
        }
        checkRecheck(recheck, original);
        s.recheck = Buffer.from(PolicyDecision.encode(recheck).finish()).toString('base64');
        stored.recheckVerdict = verdictName(recheck.verdict);
        s.reviews.push(stored);
        const verdict = recheck.verdict;
        if (verdict === Verdict.VERDICT_DENY || verdict === Verdict.VERDICT_UNSPECIFIED) {
          stored.effect = 'denied-by-policy';
          s.status = 'REJECTED';
          s.closeReason = 'POLICY_DENIED';
          s.closeReasons = [...(recheck.explanation?.reasonCodes ?? [])];
        } else {
          const token = recheck.token;
          const needed = Math.max(
            s.requiredApprovals,
            requiredApprovals(verdict),
            token?.requiredApprovals ?? 0,
          );
          s.requiredApprovals = needed;
          const counted = qualifyingApprovals(s.reviews, needed, parties);
          const tokenApprovers = new Set(token?.approvals.map((a) => a.reviewerId).filter(Boolean));
          if (token && tokenApprovers.size >= needed && counted.length >= needed) {
            stored.effect = 'approved';
            s.status = 'APPROVED';
            s.closeReason = 'APPROVED';
          } else {
            stored.effect = 'pending-approvals';
            s.status = 'OPEN';
            if (token)
              note = `; policy issued a token but only ${counted.length} approval(s) count here`;
          }
        }
      }
      if (!s.reviews.includes(stored)) s.reviews.push(stored);
      // A decision ends the decider's claim: the task closes, or goes back to the queue for the
      // next (different) approver.
      s.assigneeId = undefined;
      s.claimedAt = undefined;
      s.leaseUntil = undefined;
      if (!isActive(s.status)) s.closedAt = now;
      s.lastDecisionAt = now;
      if (input.comment?.trim())
        s.comments.push({
          id: `decision-${id}`,
          authorId: reviewer.id,
          at: now,
          text: input.comment.trim(),
          reviewDecisionId: id,
        });
      const outbox = this.events(tenant, s, review, stored, recheck, version, note);
      parties ??= await this.ctx.parties(tenant, s);
      return { outbox, result: this.result(s, stored, false, parties, recheck) };
    });
  }

  private events(
    tenant: TenantId,
    s: TaskState,
    review: ReviewDecision,
    stored: StoredReview,
    recheck: PolicyDecision | undefined,
    version: number,
    note: string,
  ): OutboxMessage[] {
    const meta = {
      tenantId: tenant,
      correlationId: s.correlationId,
      source: SOURCE,
      time: this.ctx.now(),
    };
    const outbox: OutboxMessage[] = [
      outboxMessage(Topics.reviewDecisions, review, { ...meta, id: review.reviewDecisionId }),
    ];
    // The re-checked decision is published when it settles the action: approved with its token
    // (connectors execute it) or denied (the orchestrator adapts). A pending one stays here.
    if (recheck && (stored.effect === 'approved' || stored.effect === 'denied-by-policy'))
      outbox.push(
        outboxMessage(Topics.policyDecisions, recheck, { ...meta, id: recheck.decisionId }),
      );
    const verb =
      stored.outcome === 'REJECT'
        ? `rejected (${stored.reasonCode})`
        : stored.outcome === 'EDIT_APPROVE'
          ? `edited and approved (${s.actionType || 'action'})`
          : 'approved';
    const policyPart = recheck
      ? `; policy re-check: ${verdictName(recheck.verdict)}` +
        (recheck.explanation?.reasonCodes?.length
          ? ` (${recheck.explanation.reasonCodes.join(', ')})`
          : '')
      : '';
    const effect: Record<DecisionEffect, string> = {
      approved: ' — approvals complete, released for execution',
      rejected: ' — task rejected, the action is not executed',
      'denied-by-policy': ' — task rejected by policy, the action is not executed',
      'pending-approvals': ` — ${s.requiredApprovals} approval(s) needed, waiting for another approver`,
      recorded: s.postHoc ? ' — post-hoc review recorded' : ' — recorded',
      expired: '',
    };
    const audited = ReviewDecision.fromPartial({ ...review, comment: '' });
    outbox.push(
      this.ctx.repo.audit(tenant, s, {
        kind: AuditKind.AUDIT_KIND_REVIEW_DECISION,
        actor: review.reviewerId,
        summary:
          `${review.reviewerId} ${verb}${stored.batchId ? ' in a batch' : ''}` +
          `${policyPart}${effect[stored.effect]}${note}`,
        dedupeKey: `review-decision/${review.reviewDecisionId}`,
        attributes: {
          event: 'review_decision',
          outcome: stored.outcome,
          reasonCode: stored.reasonCode,
          effect: stored.effect,
          status: s.status,
          ...(recheck
            ? {
                recheckVerdict: verdictName(recheck.verdict),
                recheckDecisionId: recheck.decisionId,
              }
            : {}),
          ...(stored.batchId ? { batchId: stored.batchId } : {}),
          hasComment: String(Boolean(review.comment)),
        },
        payloadType: 'mandate.v1.ReviewDecision',
        payload: ReviewDecision.encode(audited).finish(),
      }),
      this.ctx.repo.snapshot(tenant, s, `${s.id}/decided/${version}`),
    );
    return outbox;
  }

  private result(
    s: TaskState,
    stored: StoredReview,
    duplicate: boolean,
    parties: Parties,
    recheck?: PolicyDecision,
  ): DecisionResult {
    const check =
      recheck ??
      (duplicate && s.recheck && stored.recheckVerdict
        ? PolicyDecision.decode(Buffer.from(s.recheck, 'base64'))
        : undefined);
    return {
      taskId: s.id,
      status: s.status,
      effect: stored.effect,
      review: decodeReview(stored),
      requiredApprovals: s.requiredApprovals,
      approvedBy: qualifyingApprovals(s.reviews, s.requiredApprovals, parties).map(
        (r) => r.reviewerId,
      ),
      ...(check ? { recheck: check } : {}),
      ...(stored.effect === 'denied-by-policy' ? { reasons: s.closeReasons ?? [] } : {}),
      duplicate,
      task: taskView(s),
    };
  }
}

function validateInput(input: DecisionInput): void {
  if (!(input.outcome in OUTCOME)) throw new InvalidDecisionError('unknown decision outcome');
  if (input.outcome === 'REJECT' && !input.reasonCode)
    throw new InvalidDecisionError('a rejection needs a reason code');
  if (input.reasonCode !== undefined && !REASON_CODE.test(input.reasonCode))
    throw new InvalidDecisionError(
      `reason code "${input.reasonCode}" must be UPPER_SNAKE_CASE (e.g. WRONG_AMOUNT)`,
    );
  if (input.outcome === 'EDIT_APPROVE' && !input.editedAction?.kind)
    throw new InvalidDecisionError('an edit-then-approve needs the edited action');
  if (
    input.reviewDecisionId !== undefined &&
    !/^[A-Za-z0-9._:-]{1,128}$/.test(input.reviewDecisionId)
  )
    throw new InvalidDecisionError('invalid review_decision_id');
}

function checkBatchItem(s: TaskState, riskBands: readonly string[]): void {
  if (s.postHoc)
    throw new NotBatchEligibleError('POST_HOC', 'post-hoc reviews are not batch-approved');
  if (s.requiredApprovals !== 1)
    throw new NotBatchEligibleError(
      'FOUR_EYES',
      `needs ${s.requiredApprovals} approvals; only single-approval tasks are batch-approved`,
    );
  if (!riskBands.includes(s.riskBand))
    throw new NotBatchEligibleError(
      'NOT_LOW_RISK',
      `risk band ${s.riskBand}; only ${riskBands.join('/')} tasks are batch-approved`,
    );
}

/** A re-check about another tenant or proposal is refused (fail closed: nothing is written). */
function checkRecheck(recheck: PolicyDecision | undefined, original: PolicyDecision): void {
  if (!recheck) throw new PolicyRecheckError('policy answered no decision');
  if (recheck.tenantId !== original.tenantId)
    throw new PolicyRecheckError('policy re-check answered for another tenant');
  if ((recheck.proposal?.proposalId ?? '') !== (original.proposal?.proposalId ?? ''))
    throw new PolicyRecheckError('policy re-check answered for another proposal');
  if (!recheck.decisionId) throw new PolicyRecheckError('policy re-check has no decision id');
}
