import { AuditKind, ReviewTask } from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { outboxMessage, Topics } from '@mandate/messaging';
import {
  ConcurrencyError,
  copyValue,
  DocumentNotFoundError,
  type DocumentStore,
  type OutboxMessage,
  type TenantId,
  type Versioned,
} from '@mandate/storage';
import { TaskContentionError, TaskNotFoundError } from './errors';
import type { Clock } from './ports';
import type { ReviewConfig } from './review-config';
import {
  decodeTask,
  nextTimerOf,
  payloadCharsOf,
  taskView,
  type ReviewTaskDoc,
} from './review-task.doc';
import { routeTask } from './routing';
import { slaPolicyFor, type SlaPolicy } from './sla-config';

export const SOURCE = 'human-review';

/** A task document with every optional field filled (older documents included). */
export type TaskState = ReviewTaskDoc &
  Required<
    Pick<
      ReviewTaskDoc,
      | 'decisionId'
      | 'proposalId'
      | 'agentId'
      | 'postHoc'
      | 'team'
      | 'skill'
      | 'actionType'
      | 'riskBand'
      | 'tier'
      | 'warnAt'
      | 'reviews'
      | 'comments'
      | 'payloadChars'
    >
  >;

/** What a transition returns: `write: false` leaves the task as it was. */
export type Transition<R> =
  | { readonly write: false; readonly result: R }
  | { readonly write?: true; readonly outbox: OutboxMessage[]; readonly result: R };

const OPTIONAL_FIELDS = [
  'warnedAt',
  'nextTimerAt',
  'assigneeId',
  'claimedAt',
  'leaseUntil',
  'lastDecisionAt',
  'closedAt',
  'closeReason',
  'closeReasons',
  'recheck',
] as const;

const MAX_ATTEMPTS = 8;

/**
 * Reads and writes tasks. Every change is one update conditioned on the version that was read,
 * carrying its events in the document's outbox: a concurrent change makes the write fail and the
 * transition run again on the fresh document (or give up, for the sweep).
 */
export class TaskRepository {
  constructor(
    readonly store: DocumentStore<ReviewTaskDoc>,
    readonly config: ReviewConfig,
    readonly now: Clock,
  ) {}

  policyOf(state: Pick<TaskState, 'actionType' | 'postHoc'>): SlaPolicy {
    return slaPolicyFor(this.config.sla, state.actionType, state.postHoc);
  }

  /** Fills what documents of the first version lack, from the task message and the config. */
  withDefaults(doc: Versioned<ReviewTaskDoc>): Versioned<TaskState> {
    if (doc.team !== undefined && doc.warnAt !== undefined && doc.reviews && doc.comments)
      return doc as Versioned<TaskState>;
    const task = decodeTask(doc);
    const keys = routeTask(task.decision, this.config.routing);
    const actionType = doc.actionType ?? keys.actionType;
    const postHoc = doc.postHoc ?? task.postHoc;
    const policy = slaPolicyFor(this.config.sla, actionType, postHoc);
    const tier = doc.tier ?? 0;
    const t = policy.tiers[Math.min(tier, policy.tiers.length - 1)];
    const warnBefore = t.warnBeforeMs ?? policy.warnBeforeMs;
    return {
      ...doc,
      decisionId: doc.decisionId ?? task.decision?.decisionId ?? '',
      proposalId: doc.proposalId ?? task.decision?.proposal?.proposalId ?? '',
      agentId: doc.agentId ?? task.decision?.proposal?.agentId ?? '',
      postHoc,
      team: doc.team ?? keys.team,
      skill: doc.skill ?? keys.skill,
      actionType,
      riskBand: doc.riskBand ?? keys.riskBand,
      tier,
      warnAt:
        doc.warnAt ?? new Date(Math.max(doc.createdAt.getTime(), doc.dueAt.getTime() - warnBefore)),
      reviews: doc.reviews ?? [],
      comments: doc.comments ?? [],
      payloadChars: doc.payloadChars ?? payloadCharsOf(task.decision),
    };
  }

  async load(tenant: TenantId, id: string): Promise<Versioned<TaskState>> {
    const doc = await this.store.get(tenant, id);
    if (!doc) throw new TaskNotFoundError(id);
    return this.withDefaults(doc);
  }

  /**
   * Runs `change` on a copy of the task and writes the result if the task has not changed since
   * it was read; on a conflict, re-reads and runs it again. `change` may throw to refuse.
   */
  async transition<R>(
    tenant: TenantId,
    id: string,
    change: (state: TaskState, version: number) => Promise<Transition<R>> | Transition<R>,
  ): Promise<R> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.load(tenant, id);
      const { version, ...fields } = stored;
      const state = copyValue(fields) as TaskState;
      const t = await change(state, version);
      if (t.write === false) return t.result;
      try {
        await this.write(tenant, stored, state, t.outbox);
        return t.result;
      } catch (err) {
        if (err instanceof DocumentNotFoundError) throw new TaskNotFoundError(id);
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
    throw new TaskContentionError(id);
  }

  /** One conditional write of `next` over `before` (throws `ConcurrencyError` on a race). */
  async write(
    tenant: TenantId,
    before: Versioned<ReviewTaskDoc>,
    next: TaskState,
    outbox: OutboxMessage[],
  ): Promise<void> {
    next.nextTimerAt = nextTimerOf(next);
    next.updatedAt = this.now();
    next.task = encodeTaskOf(next);
    const set: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(next)) if (k !== 'id' && v !== undefined) set[k] = v;
    const unset = OPTIONAL_FIELDS.filter(
      (k) => next[k] === undefined && (before as ReviewTaskDoc)[k] !== undefined,
    );
    await this.store.update(
      tenant,
      before.id,
      { set: set as Partial<ReviewTaskDoc>, unset, outbox },
      { expectVersion: before.version },
    );
  }

  /** An audit record of one transition of the task. */
  audit(
    tenant: TenantId,
    state: TaskState,
    facts: {
      kind?: AuditKind;
      actor: string;
      summary: string;
      dedupeKey: string;
      attributes?: Record<string, string>;
      payloadType?: string;
      payload?: Uint8Array;
    },
  ): OutboxMessage {
    const task = decodeTask(state);
    return auditOutboxMessage(
      {
        kind: facts.kind ?? AuditKind.AUDIT_KIND_REVIEW_TASK,
        tenantId: tenant,
        correlationId: state.correlationId,
        actor: facts.actor,
        subject: task.decision?.proposal?.target,
        summary: facts.summary,
        dedupeKey: facts.dedupeKey,
        attributes: {
          taskId: state.id,
          team: state.team,
          tier: String(state.tier),
          ...facts.attributes,
        },
        payloadType: facts.payloadType,
        payload: facts.payload,
        occurredAt: this.now(),
      },
      SOURCE,
    );
  }

  /** The task's current state on the review-tasks topic (the console's live view). */
  snapshot(tenant: TenantId, state: TaskState, eventId: string): OutboxMessage {
    const task = taskView({ ...state, task: encodeTaskOf(state) });
    return outboxMessage(Topics.reviewTasks, task, {
      tenantId: tenant,
      correlationId: state.correlationId,
      source: SOURCE,
      id: eventId,
      time: this.now(),
    });
  }
}

function encodeTaskOf(state: ReviewTaskDoc): string {
  return Buffer.from(ReviewTask.encode(taskView(state)).finish()).toString('base64');
}
