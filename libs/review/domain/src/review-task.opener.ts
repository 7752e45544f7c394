import { createHash } from 'node:crypto';
import {
  AuditKind,
  PolicyDecision,
  ReviewTask,
  ReviewTaskStatus,
  Verdict,
} from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { requiredApprovals } from '@mandate/decision-token';
import { outboxMessage, Topics } from '@mandate/messaging';
import { DuplicateKeyError, tenantId, type DocumentStore } from '@mandate/storage';

const SOURCE = 'human-review';

export interface ReviewTaskDoc {
  id: string;
  status: 'OPEN' | 'CLAIMED' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
  correlationId: string;
  requiredApprovals: number;
  /** The task as published (protobuf, base64): what the console shows. */
  task: string;
  createdAt: Date;
  dueAt: Date;
}

export interface ReviewTaskOpenerOptions {
  /** SLA of a task (due time after creation). Default 4 h. */
  slaMs?: number;
  /**
   * Share of AUTO_WITH_NOTICE decisions (executed without waiting) that get a post-hoc review,
   * 0..1. Sampling is deterministic on the decision id, so a redelivery samples the same way.
   * Default 0.2.
   */
  noticeSampleRate?: number;
  now?: () => Date;
}

/**
 * Opens a review task for every decision that needs a human (APPROVE_1 / APPROVE_2), and a
 * post-hoc task for a sample of AUTO_WITH_NOTICE decisions. The queue, SLAs, four-eyes and the
 * console arrive with the human-review issue.
 */
export class ReviewTaskOpener {
  private readonly slaMs: number;
  private readonly noticeSampleRate: number;
  private readonly now: () => Date;

  constructor(o: ReviewTaskOpenerOptions = {}) {
    this.slaMs = o.slaMs ?? 4 * 60 * 60 * 1000;
    this.noticeSampleRate = o.noticeSampleRate ?? 0.2;
    this.now = o.now ?? (() => new Date());
    if (!(this.slaMs > 0)) throw new RangeError('review SLA must be positive');
    if (!(this.noticeSampleRate >= 0 && this.noticeSampleRate <= 1))
      throw new RangeError('noticeSampleRate must be within 0..1');
  }

  /** Whether this AUTO_WITH_NOTICE decision is in the post-hoc review sample. */
  sampled(decisionId: string): boolean {
    const bucket = createHash('sha256').update(decisionId).digest().readUInt32BE(0) / 2 ** 32;
    return bucket < this.noticeSampleRate;
  }

  async open(
    store: DocumentStore<ReviewTaskDoc>,
    decision: PolicyDecision,
  ): Promise<ReviewTask | undefined> {
    const required = requiredApprovals(decision.verdict);
    const postHoc =
      decision.verdict === Verdict.VERDICT_AUTO_WITH_NOTICE && this.sampled(decision.decisionId);
    if (!postHoc && (required === 0 || decision.token)) return undefined;
    const tenant = tenantId(decision.tenantId);
    const createdAt = this.now();
    const dueAt = new Date(createdAt.getTime() + this.slaMs);
    const task = ReviewTask.fromPartial({
      taskId: `task-${decision.decisionId}`,
      tenantId: decision.tenantId,
      correlationId: decision.correlationId,
      decision,
      requiredApprovals: required,
      postHoc,
      status: ReviewTaskStatus.REVIEW_TASK_STATUS_OPEN,
      createdAt: createdAt.toISOString(),
      dueAt: dueAt.toISOString(),
    });
    const meta = {
      tenantId: tenant,
      correlationId: decision.correlationId,
      source: SOURCE,
      id: task.taskId,
    };
    try {
      await store.insert(
        tenant,
        {
          id: task.taskId,
          status: 'OPEN',
          correlationId: decision.correlationId,
          requiredApprovals: required,
          task: Buffer.from(ReviewTask.encode(task).finish()).toString('base64'),
          createdAt,
          dueAt,
        },
        {
          outbox: [
            outboxMessage(Topics.reviewTasks, task, meta),
            auditOutboxMessage(
              {
                kind: AuditKind.AUDIT_KIND_REVIEW_TASK,
                tenantId: tenant,
                correlationId: decision.correlationId,
                actor: SOURCE,
                subject: decision.proposal?.target,
                summary: postHoc
                  ? `post-hoc review task opened (sampled AUTO_WITH_NOTICE), due ${dueAt.toISOString()}`
                  : `review task opened: ${required} approval(s) needed before ${dueAt.toISOString()}`,
                dedupeKey: task.taskId,
                payloadType: 'mandate.v1.ReviewTask',
                payload: ReviewTask.encode(task).finish(),
              },
              SOURCE,
            ),
          ],
        },
      );
      return task;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return undefined;
      throw err;
    }
  }
}
