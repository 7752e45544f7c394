import type { ReviewTask } from '@mandate/contracts';
import { MAX_FIND_LIMIT, type Filter, type TenantId, type Versioned } from '@mandate/storage';
import { authoriseReviewer, eligibility, isSupervisor } from './access';
import { ReviewContext, type ReviewDomainDeps } from './deps';
import {
  InvalidDecisionError,
  NotAuthorisedError,
  NotEligibleError,
  TaskAlreadyClaimedError,
  TaskClosedError,
  TaskExpiredError,
} from './errors';
import { isFourEyes, type Parties } from './four-eyes';
import type { Reviewer } from './ports';
import {
  ACTIVE_STATUSES,
  currentApprovals,
  isActive,
  taskView,
  type ReviewTaskDoc,
  type ReviewTaskStatusName,
  type TaskComment,
} from './review-task.doc';
import type { TaskState } from './task-repository';

export interface QueueFilter {
  readonly team?: string;
  readonly skill?: string;
  readonly actionType?: string;
  readonly riskBand?: string;
  /** One status or several; default the active ones (OPEN, CLAIMED). */
  readonly status?: ReviewTaskStatusName | readonly ReviewTaskStatusName[];
  readonly assigneeId?: string;
}

export interface PageRequest {
  /** 1..500, default 50. */
  readonly limit?: number;
  /** `next` of the previous page. */
  readonly after?: string;
}

/** One row of the queue: what a list view needs, the full task message included. */
export interface QueueItem {
  readonly taskId: string;
  readonly status: ReviewTaskStatusName;
  readonly team: string;
  readonly skill: string;
  readonly actionType: string;
  readonly riskBand: string;
  readonly tier: number;
  readonly postHoc: boolean;
  readonly requiredApprovals: number;
  /** Reviewers whose approvals of the current version are recorded. */
  readonly approvedBy: readonly string[];
  readonly assigneeId?: string;
  readonly leaseUntil?: Date;
  readonly createdAt: Date;
  readonly warnAt: Date;
  readonly dueAt: Date;
  readonly task: ReviewTask;
}

export interface QueuePage {
  readonly items: QueueItem[];
  /** Cursor of the next page; absent on the last one. */
  readonly next?: string;
}

export interface ClaimResult {
  readonly taskId: string;
  readonly assigneeId: string;
  readonly leaseUntil: Date;
  /** The claimant already held it: the lease was extended. */
  readonly renewed: boolean;
}

export interface Assignment extends ClaimResult {
  /** Live claims the chosen reviewer held before this one. */
  readonly load: number;
}

const ASSIGNER = 'system/assignment';

function encodeCursor(dueAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([dueAt.getTime(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { dueAt: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof ms === 'number' && typeof id === 'string') return { dueAt: new Date(ms), id };
  } catch {
    // fall through
  }
  throw new InvalidDecisionError('invalid page cursor');
}

/**
 * The review queue: listing by queue keys and due time, claims (exclusive, leased, race-safe) and
 * releases, least-loaded assignment, and comments. Decisions are `ReviewDecisions`; SLA timers
 * are `SlaSweeper`.
 */
export class ReviewQueue {
  private readonly ctx: ReviewContext;

  constructor(deps: ReviewDomainDeps | ReviewContext) {
    this.ctx = deps instanceof ReviewContext ? deps : new ReviewContext(deps);
  }

  /** A tenant's tasks matching `filter`, by due time (then id), a page at a time. */
  async list(
    tenant: TenantId,
    filter: QueueFilter = {},
    page: PageRequest = {},
  ): Promise<QueuePage> {
    const limit = Math.min(Math.max(Math.trunc(page.limit ?? 50), 1), 500);
    const statuses =
      filter.status === undefined
        ? ACTIVE_STATUSES
        : typeof filter.status === 'string'
          ? [filter.status]
          : filter.status;
    const after = page.after ? decodeCursor(page.after) : undefined;
    const query: Record<string, unknown> = { status: { $in: [...statuses] } };
    for (const key of ['team', 'skill', 'actionType', 'riskBand', 'assigneeId'] as const)
      if (filter[key] !== undefined) query[key] = filter[key];
    if (after) query['dueAt'] = { $gte: after.dueAt };
    // Tasks due at the cursor's instant with an id up to the cursor's were on earlier pages.
    const seenAtCursor = (d: ReviewTaskDoc) =>
      after !== undefined && d.dueAt.getTime() === after.dueAt.getTime() && d.id <= after.id;
    let fetch = limit + 1;
    let docs: Versioned<ReviewTaskDoc>[] = [];
    for (;;) {
      const found = await this.ctx.deps.tasks.find(tenant, query as Filter<ReviewTaskDoc>, {
        sort: { dueAt: 1 },
        limit: fetch,
      });
      docs = found.filter((d) => !seenAtCursor(d));
      if (docs.length > limit || found.length < fetch || fetch >= MAX_FIND_LIMIT) break;
      fetch = Math.min(fetch * 2 + (found.length - docs.length), MAX_FIND_LIMIT);
    }
    const items = docs.slice(0, limit).map((d) => queueItem(this.ctx.repo.withDefaults(d)));
    const last = items[items.length - 1];
    return {
      items,
      ...(docs.length > limit && last ? { next: encodeCursor(last.dueAt, last.taskId) } : {}),
    };
  }

  /** One task of the tenant (`TaskNotFoundError` otherwise). */
  async get(tenant: TenantId, taskId: string): Promise<QueueItem> {
    return queueItem(await this.ctx.repo.load(tenant, taskId));
  }

  /**
   * Claims the task for `reviewerId` for one lease (`leaseMs`); claiming a task one holds renews
   * the lease. Exclusive and race-safe: of concurrent claims exactly one wins, the others get
   * `TaskAlreadyClaimedError`. An expired claim is taken over.
   */
  async claim(tenant: TenantId, taskId: string, reviewerId: string): Promise<ClaimResult> {
    const reviewer = await this.ctx.reviewer(tenant, reviewerId);
    return this.claimFor(tenant, taskId, reviewer, reviewer.id);
  }

  private async claimFor(
    tenant: TenantId,
    taskId: string,
    reviewer: Reviewer,
    actor: string,
  ): Promise<ClaimResult> {
    let parties: Parties | undefined;
    return this.ctx.repo.transition(tenant, taskId, async (s, version) => {
      const now = this.ctx.now();
      if (!isActive(s.status)) throw new TaskClosedError(s.id, s.status);
      if (now >= s.dueAt && s.tier >= this.ctx.repo.policyOf(s).tiers.length - 1)
        throw new TaskExpiredError(s.id, s.dueAt);
      const ineligible = eligibility(reviewer, s);
      if (ineligible) throw ineligible;
      parties ??= await this.ctx.parties(tenant, s);
      checkClaimant(reviewer.id, s, parties);
      const held =
        s.status === 'CLAIMED' && s.assigneeId && s.leaseUntil && s.leaseUntil > now
          ? { by: s.assigneeId, until: s.leaseUntil }
          : undefined;
      if (held && held.by !== reviewer.id)
        throw new TaskAlreadyClaimedError(s.id, held.by, held.until);
      const renewed = held !== undefined;
      const previous = !held && s.status === 'CLAIMED' ? s.assigneeId : undefined;
      const leaseUntil = new Date(now.getTime() + this.ctx.config.leaseMs);
      s.status = 'CLAIMED';
      s.assigneeId = reviewer.id;
      s.claimedAt = renewed ? (s.claimedAt ?? now) : now;
      s.leaseUntil = leaseUntil;
      const result = { taskId: s.id, assigneeId: reviewer.id, leaseUntil, renewed };
      if (renewed) return { outbox: [], result }; // a lease extension is not a transition
      return {
        outbox: [
          this.ctx.repo.audit(tenant, s, {
            actor,
            summary:
              `${actor === reviewer.id ? `claimed by ${reviewer.id}` : `assigned to ${reviewer.id}`} ` +
              `until ${leaseUntil.toISOString()}` +
              (previous ? ` (the claim by ${previous} had expired)` : ''),
            dedupeKey: `claim/${s.id}/${version}`,
            attributes: {
              event: actor === reviewer.id ? 'claimed' : 'assigned',
              assignee: reviewer.id,
            },
          }),
          this.ctx.repo.snapshot(tenant, s, `${s.id}/claimed/${version}`),
        ],
        result,
      };
    });
  }

  /**
   * Gives the task back to its queue. The assignee may release; a supervisor may release anyone's
   * claim. Releasing a task nobody holds changes nothing.
   */
  async release(tenant: TenantId, taskId: string, reviewerId: string): Promise<void> {
    const reviewer = await this.ctx.reviewer(tenant, reviewerId);
    await this.ctx.repo.transition(tenant, taskId, (s, version) => {
      if (s.status !== 'CLAIMED') return { write: false, result: undefined };
      const holder = s.assigneeId ?? '';
      if (holder !== reviewer.id && !isSupervisor(reviewer))
        throw new NotAuthorisedError(
          'NOT_ASSIGNEE',
          `${reviewer.id} does not hold task ${s.id} (${holder} does); only they or a supervisor can release it`,
        );
      s.status = 'OPEN';
      s.assigneeId = undefined;
      s.claimedAt = undefined;
      s.leaseUntil = undefined;
      return {
        outbox: [
          this.ctx.repo.audit(tenant, s, {
            actor: reviewer.id,
            summary:
              holder === reviewer.id
                ? `released by ${holder}; back in queue ${s.team}`
                : `claim by ${holder} released by supervisor ${reviewer.id}; back in queue ${s.team}`,
            dedupeKey: `release/${s.id}/${version}`,
            attributes: { event: 'released', previousAssignee: holder },
          }),
          this.ctx.repo.snapshot(tenant, s, `${s.id}/released/${version}`),
        ],
        result: undefined,
      };
    });
  }

  /**
   * Assigns an open task to the least-loaded eligible reviewer (fewest live claims, then id):
   * active, reviewer role, in the task's team with its skill, not excluded by four-eyes, below
   * capacity. Undefined when nobody qualifies (the task stays in the queue).
   */
  async assign(tenant: TenantId, taskId: string): Promise<Assignment | undefined> {
    const s = await this.ctx.repo.load(tenant, taskId);
    if (s.status !== 'OPEN') throw new TaskClosedError(s.id, s.status);
    const parties = await this.ctx.parties(tenant, s);
    const now = this.ctx.now();
    const claimed = await this.ctx.deps.tasks.find(
      tenant,
      { status: 'CLAIMED', leaseUntil: { $gt: now } },
      { limit: MAX_FIND_LIMIT },
    );
    const load = new Map<string, number>();
    for (const d of claimed)
      if (d.assigneeId) load.set(d.assigneeId, (load.get(d.assigneeId) ?? 0) + 1);
    const candidates = (await this.ctx.deps.reviewers.reviewers(tenant))
      .filter((r) => {
        try {
          authoriseReviewer(r, r.id, tenant);
        } catch {
          return false;
        }
        if (!r.teams.includes(s.team) || eligibility(r, s)) return false;
        try {
          checkClaimant(r.id, s, parties);
        } catch {
          return false;
        }
        return r.capacity === undefined || (load.get(r.id) ?? 0) < r.capacity;
      })
      .sort((a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) || (a.id < b.id ? -1 : 1));
    const chosen = candidates[0];
    if (!chosen) return undefined;
    const claim = await this.claimFor(tenant, taskId, chosen, ASSIGNER);
    return { ...claim, load: load.get(chosen.id) ?? 0 };
  }

  /**
   * Appends a comment (append-only: comments are never edited or removed). Idempotent on
   * `commentId`. Comments may hold personal data, so they are not copied into audit records.
   */
  async comment(
    tenant: TenantId,
    taskId: string,
    authorId: string,
    text: string,
    opts: { commentId?: string } = {},
  ): Promise<TaskComment> {
    const author = await this.ctx.reviewer(tenant, authorId);
    const body = text.trim();
    if (!body) throw new InvalidDecisionError('a comment needs text');
    if (body.length > this.ctx.config.maxCommentChars)
      throw new InvalidDecisionError(
        `a comment holds at most ${this.ctx.config.maxCommentChars} characters`,
      );
    const id = opts.commentId ?? this.ctx.newId();
    return this.ctx.repo.transition(tenant, taskId, (s) => {
      const existing = s.comments.find((c) => c.id === id);
      if (existing) return { write: false, result: existing };
      const comment: TaskComment = { id, authorId: author.id, at: this.ctx.now(), text: body };
      s.comments.push(comment);
      return { outbox: [], result: comment };
    });
  }
}

/** Four-eyes applied to claims: nobody holds a task they may not approve. */
function checkClaimant(reviewerId: string, s: TaskState, parties: Parties): void {
  if (currentApprovals(s.reviews).some((r) => r.reviewerId === reviewerId))
    throw new NotEligibleError(
      'ALREADY_APPROVED',
      `${reviewerId} already approved task ${s.id}; the next approval must come from someone else`,
    );
  if (
    isFourEyes(s.requiredApprovals) &&
    (reviewerId === parties.ownerId || reviewerId === parties.requesterId)
  )
    throw new NotEligibleError(
      'CONFLICT_OF_INTEREST',
      `${reviewerId} owns the agent or requested the action; four-eyes task ${s.id} needs others`,
    );
}

/** A stored task as a queue row (the assignee only while claimed; the task decoded once). */
export function queueItem(s: TaskState): QueueItem {
  return {
    taskId: s.id,
    status: s.status,
    team: s.team,
    skill: s.skill,
    actionType: s.actionType,
    riskBand: s.riskBand,
    tier: s.tier,
    postHoc: s.postHoc,
    requiredApprovals: s.requiredApprovals,
    approvedBy: currentApprovals(s.reviews).map((r) => r.reviewerId),
    ...(s.status === 'CLAIMED' ? { assigneeId: s.assigneeId, leaseUntil: s.leaseUntil } : {}),
    createdAt: s.createdAt,
    warnAt: s.warnAt,
    dueAt: s.dueAt,
    task: taskView(s),
  };
}
