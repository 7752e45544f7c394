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
import { reviewConfig, type ReviewConfig, type ReviewConfigInput } from './review-config';
import { payloadCharsOf, type ReviewTaskDoc } from './review-task.doc';
import { routeTask } from './routing';
import { slaPolicyFor, tierTimers } from './sla-config';
import type { TenantRegistrar } from './tenant-registry';

const SOURCE = 'human-review';

export interface ReviewTaskOpenerOptions {
  /**
   * SLA of the first tier (due time after creation). Overrides `config.sla.default.tiers[0]`;
   * default 4 h. Later tiers, warnings and the expiry outcome come from `config.sla`.
   */
  slaMs?: number;
  /**
   * Share of AUTO_WITH_NOTICE decisions (executed without waiting) that get a post-hoc review,
   * 0..1. Sampling is deterministic on the decision id, so a redelivery samples the same way.
   * Default 0.2.
   */
  noticeSampleRate?: number;
  now?: () => Date;
  /** Routing and SLA configuration (shared with `ReviewQueue`). */
  config?: ReviewConfigInput | ReviewConfig;
  /**
   * The durable tenant list (`ReviewTenantRegistry`): the tenant is registered before its task is
   * written, so the SLA sweep of any later process finds the task.
   */
  tenants?: TenantRegistrar;
}

/** Applies the legacy `slaMs` option to a configuration input. */
function withFirstTierSla(input: ReviewConfigInput, slaMs: number | undefined): ReviewConfigInput {
  if (slaMs === undefined) return input;
  const base = reviewConfig(input).sla.default;
  const [first, ...rest] = base.tiers;
  const warnBeforeMs = Math.min(first.warnBeforeMs ?? base.warnBeforeMs, Math.floor(slaMs / 2));
  return {
    ...input,
    sla: {
      ...input.sla,
      default: { ...base, tiers: [{ ...first, slaMs, warnBeforeMs }, ...rest] },
    },
  };
}

/**
 * Opens a review task for every decision that needs a human (APPROVE_1 / APPROVE_2), and a
 * post-hoc task for a sample of AUTO_WITH_NOTICE decisions: routed to its queue (team, skill,
 * action type, risk band) with the SLA timers of its first tier, recorded with its events in
 * one write.
 */
export class ReviewTaskOpener {
  private readonly noticeSampleRate: number;
  private readonly now: () => Date;
  private readonly tenants?: TenantRegistrar;
  readonly config: ReviewConfig;

  constructor(o: ReviewTaskOpenerOptions = {}) {
    this.noticeSampleRate = o.noticeSampleRate ?? 0.2;
    this.now = o.now ?? (() => new Date());
    this.tenants = o.tenants;
    if (o.slaMs !== undefined && !(o.slaMs > 0))
      throw new RangeError('review SLA must be positive');
    if (!(this.noticeSampleRate >= 0 && this.noticeSampleRate <= 1))
      throw new RangeError('noticeSampleRate must be within 0..1');
    this.config = reviewConfig(withFirstTierSla(o.config ?? {}, o.slaMs));
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
    const keys = routeTask(decision, this.config.routing);
    const policy = slaPolicyFor(this.config.sla, keys.actionType, postHoc);
    const { dueAt, warnAt } = tierTimers(policy, 0, createdAt);
    const team = policy.tiers[0].team ?? keys.team;
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
      queue: team,
    });
    const meta = {
      tenantId: tenant,
      correlationId: decision.correlationId,
      source: SOURCE,
      id: task.taskId,
    };
    const doc: ReviewTaskDoc = {
      id: task.taskId,
      status: 'OPEN',
      correlationId: decision.correlationId,
      requiredApprovals: required,
      task: Buffer.from(ReviewTask.encode(task).finish()).toString('base64'),
      createdAt,
      dueAt,
      decisionId: decision.decisionId,
      proposalId: decision.proposal?.proposalId ?? '',
      agentId: decision.proposal?.agentId ?? '',
      postHoc,
      team,
      skill: keys.skill,
      actionType: keys.actionType,
      riskBand: keys.riskBand,
      tier: 0,
      warnAt,
      nextTimerAt: warnAt < dueAt ? warnAt : dueAt,
      reviews: [],
      comments: [],
      payloadChars: payloadCharsOf(decision),
      updatedAt: createdAt,
    };
    // Before the task: a crash in between leaves a registered tenant without a task (harmless),
    // never a task the sweep cannot find.
    await this.tenants?.register(tenant);
    try {
      await store.insert(tenant, doc, {
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
                ? `post-hoc review task opened (sampled AUTO_WITH_NOTICE) in queue ${team}, due ${dueAt.toISOString()}`
                : `review task opened in queue ${team}${keys.skill ? ` (skill ${keys.skill})` : ''}: ` +
                  `${required} approval(s) needed before ${dueAt.toISOString()}`,
              dedupeKey: task.taskId,
              payloadType: 'mandate.v1.ReviewTask',
              payload: ReviewTask.encode(task).finish(),
              attributes: {
                taskId: task.taskId,
                team,
                skill: keys.skill,
                actionType: keys.actionType,
                riskBand: keys.riskBand,
                tier: '0',
              },
              occurredAt: createdAt,
            },
            SOURCE,
          ),
        ],
      });
      return task;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return undefined;
      throw err;
    }
  }
}
