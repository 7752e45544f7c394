import { AuditKind, PolicyDecision, ReviewTask, ReviewTaskStatus } from '@mandate/contracts';
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

/**
 * Opens a review task for every decision that needs a human (APPROVE_1 / APPROVE_2). The queue,
 * SLAs, four-eyes and the console arrive with the human-review issue.
 */
export class ReviewTaskOpener {
  constructor(
    private readonly slaMs: number = 4 * 60 * 60 * 1000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async open(
    store: DocumentStore<ReviewTaskDoc>,
    decision: PolicyDecision,
  ): Promise<ReviewTask | undefined> {
    const required = requiredApprovals(decision.verdict);
    if (required === 0 || decision.token) return undefined;
    const tenant = tenantId(decision.tenantId);
    const createdAt = this.now();
    const dueAt = new Date(createdAt.getTime() + this.slaMs);
    const task = ReviewTask.fromPartial({
      taskId: `task-${decision.decisionId}`,
      tenantId: decision.tenantId,
      correlationId: decision.correlationId,
      decision,
      requiredApprovals: required,
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
                summary: `review task opened: ${required} approval(s) needed before ${dueAt.toISOString()}`,
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
