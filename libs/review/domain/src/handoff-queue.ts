import { randomUUID } from 'node:crypto';
import { AuditKind, PlanHandOff } from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import {
  ConcurrencyError,
  copyValue,
  DocumentNotFoundError,
  DuplicateKeyError,
  isTenantId,
  MAX_FIND_LIMIT,
  type DocumentStore,
  type Filter,
  type OutboxMessage,
  type TenantId,
  type Versioned,
} from '@mandate/storage';
import { authoriseReviewer, eligibility, isSupervisor } from './access';
import {
  HandOffAlreadyClaimedError,
  HandOffClosedError,
  HandOffContentionError,
  HandOffNotFoundError,
  InvalidDecisionError,
  NotAuthorisedError,
} from './errors';
import {
  ACTIVE_HANDOFF_STATUSES,
  HANDOFF_OUTCOMES,
  handOffTaskOf,
  isOpenHandOff,
  type HandOffOutcome,
  type HandOffResolution,
  type HandOffStatusName,
  type HandOffTask,
  type HandOffTaskDoc,
} from './handoff-task.doc';
import type { Clock, Reviewer, ReviewerDirectory } from './ports';
import { reviewConfig, type ReviewConfig, type ReviewConfigInput } from './review-config';
import type { TenantRegistrar } from './tenant-registry';

const SOURCE = 'human-review';
const MAX_ATTEMPTS = 8;
const RESOLUTION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface HandOffQueueDeps {
  readonly handoffs: DocumentStore<HandOffTaskDoc>;
  readonly reviewers: ReviewerDirectory;
  readonly now?: Clock;
  /** `handoffTeam` (default: the routing's default team) and `maxCommentChars` (the note). */
  readonly config?: ReviewConfig | ReviewConfigInput;
  /** The durable tenant list (`ReviewTenantRegistry`): registered before the tenant's first task. */
  readonly tenants?: TenantRegistrar;
  /** Resolution ids the caller did not name. Default: random UUIDs. */
  readonly newId?: () => string;
}

export interface HandOffFilter {
  /** One status or several; default the open ones (OPEN, CLAIMED). */
  readonly status?: HandOffStatusName | readonly HandOffStatusName[];
  readonly team?: string;
  readonly agentId?: string;
  readonly assigneeId?: string;
}

export interface HandOffPage {
  readonly items: HandOffTask[];
  /** Cursor of the next page; absent on the last one. */
  readonly next?: string;
}

export interface OpenResult {
  readonly task: HandOffTask;
  /** False when the hand-off had been opened already (a redelivery): nothing was written. */
  readonly opened: boolean;
}

export interface ResolveInput {
  readonly outcome: HandOffOutcome;
  readonly note?: string;
  /** Id of this resolution; the same id again returns the recorded one and changes nothing. */
  readonly resolutionId?: string;
}

export interface ResolveResult {
  readonly task: HandOffTask;
  readonly resolution: HandOffResolution;
  /** The same resolution id had been recorded already: nothing changed. */
  readonly duplicate: boolean;
}

type Change<R> =
  | { readonly write: false; readonly result: R }
  | { readonly write: true; readonly outbox: OutboxMessage[]; readonly result: R };

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof ms === 'number' && typeof id === 'string') return { at: new Date(ms), id };
  } catch {
    // fall through
  }
  throw new InvalidDecisionError('invalid page cursor');
}

/**
 * The hand-off queue: agents' plans handed off to a person. `open` turns a `PlanHandOff` into a
 * task (idempotent on the hand-off id); a reviewer or supervisor of the tenant claims it (an
 * exclusive claim, held until released or resolved: the work happens in the CRM and takes its
 * time), and resolves it once, DONE or DISMISSED (idempotent on the resolution id). Reviewers work
 * the hand-offs of their team (`handoffTeam`), supervisors all of the tenant's; auditors and
 * admins never. Every transition is one write conditioned on the version that was read, with its
 * HANDOFF_TASK audit record (actor: the reviewer) in the document's outbox.
 */
export class HandOffQueue {
  readonly config: ReviewConfig;
  private readonly now: Clock;
  private readonly newId: () => string;

  constructor(private readonly deps: HandOffQueueDeps) {
    this.config = reviewConfig(deps.config);
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? randomUUID;
  }

  /** Opens the task of a hand-off; a hand-off opened already (redelivery) writes nothing. */
  async open(msg: PlanHandOff): Promise<OpenResult> {
    if (!isTenantId(msg.tenantId))
      throw new InvalidDecisionError(`hand-off with invalid tenant id "${msg.tenantId}"`);
    if (!msg.handoffId || !msg.planId)
      throw new InvalidDecisionError('a hand-off needs its handoff_id and plan_id');
    const tenant = msg.tenantId;
    const existing = await this.deps.handoffs.get(tenant, msg.handoffId);
    if (existing) return { task: handOffTaskOf(tenant, existing), opened: false };
    const now = this.now();
    const handedOffAt = msg.handedOffAt ? new Date(msg.handedOffAt) : now;
    const doc: HandOffTaskDoc = {
      id: msg.handoffId,
      status: 'OPEN',
      correlationId: msg.correlationId,
      planId: msg.planId,
      agentId: msg.agentId,
      objective: msg.objective,
      target: { objectType: msg.target?.objectType ?? '', recordId: msg.target?.recordId ?? '' },
      reason: msg.reason,
      candidates: [...msg.candidates],
      steps: msg.steps.map((s) => ({
        index: s.index,
        actionType: s.actionType,
        status: s.status,
        reasons: [...s.reasons],
        proposalId: s.proposalId,
      })),
      team: this.config.handoffTeam,
      handedOffAt: Number.isNaN(handedOffAt.getTime()) ? now : handedOffAt,
      createdAt: now,
      updatedAt: now,
      history: [{ at: now, event: 'opened', actor: SOURCE }],
      handoff: Buffer.from(PlanHandOff.encode(msg).finish()).toString('base64'),
    };
    const candidates = doc.candidates.length ? ` (candidates: ${doc.candidates.join(', ')})` : '';
    const audit = this.audit(tenant, doc, {
      actor: SOURCE,
      summary: `hand-off of ${doc.agentId}'s plan opened in queue ${doc.team}: ${doc.reason}${candidates}`,
      dedupeKey: `handoff/${doc.id}/opened`,
      attributes: { event: 'opened', candidates: doc.candidates.join(',') },
      payload: PlanHandOff.encode(msg).finish(),
    });
    // Before the task: a crash in between leaves a registered tenant without a task (harmless).
    await this.deps.tenants?.register(tenant);
    try {
      const stored = await this.deps.handoffs.insert(tenant, doc, { outbox: [audit] });
      return { task: handOffTaskOf(tenant, stored), opened: true };
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      // A concurrent delivery won.
      return { task: await this.get(tenant, msg.handoffId), opened: false };
    }
  }

  /** A tenant's hand-offs matching `filter`, oldest hand-off first, a page at a time. */
  async list(
    tenant: TenantId,
    filter: HandOffFilter = {},
    page: { limit?: number; after?: string } = {},
  ): Promise<HandOffPage> {
    const limit = Math.min(Math.max(Math.trunc(page.limit ?? 50), 1), 500);
    const statuses =
      filter.status === undefined
        ? ACTIVE_HANDOFF_STATUSES
        : typeof filter.status === 'string'
          ? [filter.status]
          : filter.status;
    const after = page.after ? decodeCursor(page.after) : undefined;
    const query: Record<string, unknown> = { status: { $in: [...statuses] } };
    for (const key of ['team', 'agentId', 'assigneeId'] as const)
      if (filter[key] !== undefined) query[key] = filter[key];
    if (after) query['handedOffAt'] = { $gte: after.at };
    // Hand-offs at the cursor's instant with an id up to the cursor's were on earlier pages.
    const seen = (d: HandOffTaskDoc) =>
      after !== undefined && d.handedOffAt.getTime() === after.at.getTime() && d.id <= after.id;
    let fetch = limit + 1;
    let docs: Versioned<HandOffTaskDoc>[] = [];
    for (;;) {
      const found = await this.deps.handoffs.find(tenant, query as Filter<HandOffTaskDoc>, {
        sort: { handedOffAt: 1 },
        limit: fetch,
      });
      docs = found.filter((d) => !seen(d));
      if (docs.length > limit || found.length < fetch || fetch >= MAX_FIND_LIMIT) break;
      fetch = Math.min(fetch * 2 + (found.length - docs.length), MAX_FIND_LIMIT);
    }
    const items = docs.slice(0, limit).map((d) => handOffTaskOf(tenant, d));
    const last = items[items.length - 1];
    return {
      items,
      ...(docs.length > limit && last
        ? { next: encodeCursor(last.handedOffAt, last.handoffId) }
        : {}),
    };
  }

  /** One hand-off of the tenant (`HandOffNotFoundError` otherwise, also for another tenant's). */
  async get(tenant: TenantId, handoffId: string): Promise<HandOffTask> {
    return handOffTaskOf(tenant, await this.load(tenant, handoffId));
  }

  /**
   * Takes the hand-off over. Exclusive: of concurrent claims exactly one wins, the others get
   * `HandOffAlreadyClaimedError`; claiming one's own claim again changes nothing.
   */
  async claim(tenant: TenantId, handoffId: string, reviewerId: string): Promise<HandOffTask> {
    const reviewer = await this.reviewer(tenant, reviewerId);
    return this.transition(tenant, handoffId, (d, version) => {
      if (!isOpenHandOff(d.status)) throw new HandOffClosedError(d.id, d.status);
      const ineligible = eligibility(reviewer, { team: d.team, skill: '' });
      if (ineligible) throw ineligible;
      if (d.status === 'CLAIMED' && d.assigneeId) {
        if (d.assigneeId !== reviewer.id) throw new HandOffAlreadyClaimedError(d.id, d.assigneeId);
        return { write: false, result: undefined };
      }
      const now = this.now();
      d.status = 'CLAIMED';
      d.assigneeId = reviewer.id;
      d.claimedAt = now;
      d.history.push({ at: now, event: 'claimed', actor: reviewer.id });
      return {
        write: true,
        outbox: [
          this.audit(tenant, d, {
            actor: reviewer.id,
            summary: `hand-off taken over by ${reviewer.id}`,
            dedupeKey: `handoff/${d.id}/claim/${version}`,
            attributes: { event: 'claimed', assignee: reviewer.id },
          }),
        ],
        result: undefined,
      };
    });
  }

  /**
   * Gives the hand-off back to its queue: the holder, or a supervisor (anyone's claim). Releasing
   * a hand-off nobody holds changes nothing.
   */
  async release(tenant: TenantId, handoffId: string, reviewerId: string): Promise<HandOffTask> {
    const reviewer = await this.reviewer(tenant, reviewerId);
    return this.transition(tenant, handoffId, (d, version) => {
      if (d.status !== 'CLAIMED') return { write: false, result: undefined };
      const holder = d.assigneeId ?? '';
      if (holder !== reviewer.id && !isSupervisor(reviewer))
        throw new NotAuthorisedError(
          'NOT_ASSIGNEE',
          `${reviewer.id} does not hold hand-off ${d.id} (${holder} does); only they or a supervisor can release it`,
        );
      const now = this.now();
      d.status = 'OPEN';
      d.assigneeId = undefined;
      d.claimedAt = undefined;
      d.history.push({
        at: now,
        event: 'released',
        actor: reviewer.id,
        ...(holder !== reviewer.id ? { previousAssignee: holder } : {}),
      });
      return {
        write: true,
        outbox: [
          this.audit(tenant, d, {
            actor: reviewer.id,
            summary:
              holder === reviewer.id
                ? `hand-off released by ${holder}; back in queue ${d.team}`
                : `claim by ${holder} released by supervisor ${reviewer.id}; back in queue ${d.team}`,
            dedupeKey: `handoff/${d.id}/release/${version}`,
            attributes: { event: 'released', previousAssignee: holder },
          }),
        ],
        result: undefined,
      };
    });
  }

  /**
   * Closes the hand-off once: DONE (the work was done in the CRM) or DISMISSED (nothing to do).
   * Open or held by the resolver (a claim by someone else must be released first). Idempotent on
   * `resolutionId`: the same id again returns the recorded resolution with `duplicate: true`.
   */
  async resolve(
    tenant: TenantId,
    handoffId: string,
    reviewerId: string,
    input: ResolveInput,
  ): Promise<ResolveResult> {
    if (!HANDOFF_OUTCOMES.includes(input.outcome))
      throw new InvalidDecisionError(`outcome must be one of ${HANDOFF_OUTCOMES.join(', ')}`);
    if (input.resolutionId !== undefined && !RESOLUTION_ID.test(input.resolutionId))
      throw new InvalidDecisionError('invalid resolution id');
    const note = input.note?.trim() ?? '';
    if (note.length > this.config.maxCommentChars)
      throw new InvalidDecisionError(
        `a note holds at most ${this.config.maxCommentChars} characters`,
      );
    const reviewer = await this.reviewer(tenant, reviewerId);
    const id = input.resolutionId || this.newId();
    let duplicate = false;
    const task = await this.transition(tenant, handoffId, (d) => {
      const recorded = d.resolution;
      if (recorded?.id === id) {
        if (recorded.reviewerId !== reviewer.id)
          throw new InvalidDecisionError(`resolution ${id} was made by someone else`);
        duplicate = true;
        return { write: false, result: undefined };
      }
      if (!isOpenHandOff(d.status)) throw new HandOffClosedError(d.id, d.status);
      const ineligible = eligibility(reviewer, { team: d.team, skill: '' });
      if (ineligible) throw ineligible;
      if (d.status === 'CLAIMED' && d.assigneeId && d.assigneeId !== reviewer.id)
        throw new HandOffAlreadyClaimedError(d.id, d.assigneeId);
      const now = this.now();
      d.status = input.outcome;
      d.resolution = {
        id,
        outcome: input.outcome,
        reviewerId: reviewer.id,
        at: now,
        ...(note ? { note } : {}),
      };
      d.assigneeId = undefined;
      d.claimedAt = undefined;
      d.closedAt = now;
      d.history.push({ at: now, event: 'resolved', actor: reviewer.id, outcome: input.outcome });
      return {
        write: true,
        outbox: [
          this.audit(tenant, d, {
            actor: reviewer.id,
            summary:
              input.outcome === 'DONE'
                ? `hand-off resolved by ${reviewer.id}: done (the work was taken over in the CRM)`
                : `hand-off dismissed by ${reviewer.id}: nothing to do`,
            dedupeKey: `handoff/${d.id}/resolution/${id}`,
            attributes: {
              event: 'resolved',
              outcome: input.outcome,
              resolutionId: id,
              hasNote: String(Boolean(note)),
            },
          }),
        ],
        result: undefined,
      };
    });
    if (!task.resolution) throw new HandOffContentionError(handoffId); // unreachable
    return { task, resolution: task.resolution, duplicate };
  }

  private async reviewer(tenant: TenantId, reviewerId: string): Promise<Reviewer> {
    return authoriseReviewer(
      await this.deps.reviewers.reviewer(tenant, reviewerId),
      reviewerId,
      tenant,
    );
  }

  private async load(tenant: TenantId, handoffId: string): Promise<Versioned<HandOffTaskDoc>> {
    const doc = await this.deps.handoffs.get(tenant, handoffId);
    if (!doc) throw new HandOffNotFoundError(handoffId);
    return doc;
  }

  /**
   * Runs `change` on a copy of the hand-off and writes it if nothing changed it since it was
   * read; on a conflict, re-reads and runs it again. Returns the hand-off as it then is.
   */
  private async transition(
    tenant: TenantId,
    handoffId: string,
    change: (doc: HandOffTaskDoc, version: number) => Change<void>,
  ): Promise<HandOffTask> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.load(tenant, handoffId);
      const { version, ...fields } = stored;
      const doc = copyValue(fields) as HandOffTaskDoc;
      const t = change(doc, version);
      if (!t.write) return handOffTaskOf(tenant, stored);
      doc.updatedAt = this.now();
      const { id: _id, ...rest } = doc;
      const set: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) set[k] = v;
      const unset = (['assigneeId', 'claimedAt', 'resolution', 'closedAt'] as const).filter(
        (k) => doc[k] === undefined && stored[k] !== undefined,
      );
      try {
        const written = await this.deps.handoffs.update(
          tenant,
          handoffId,
          { set: set as Partial<HandOffTaskDoc>, unset, outbox: t.outbox },
          { expectVersion: version },
        );
        return handOffTaskOf(tenant, written);
      } catch (err) {
        if (err instanceof DocumentNotFoundError) throw new HandOffNotFoundError(handoffId);
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
    throw new HandOffContentionError(handoffId);
  }

  private audit(
    tenant: TenantId,
    d: HandOffTaskDoc,
    facts: {
      actor: string;
      summary: string;
      dedupeKey: string;
      attributes: Record<string, string>;
      payload?: Uint8Array;
    },
  ): OutboxMessage {
    return auditOutboxMessage(
      {
        kind: AuditKind.AUDIT_KIND_HANDOFF_TASK,
        tenantId: tenant,
        correlationId: d.correlationId,
        actor: facts.actor,
        subject: d.target.recordId ? d.target : undefined,
        summary: facts.summary,
        dedupeKey: facts.dedupeKey,
        attributes: {
          handoffId: d.id,
          planId: d.planId,
          agentId: d.agentId,
          team: d.team,
          status: d.status,
          ...facts.attributes,
        },
        ...(facts.payload ? { payload: facts.payload, payloadType: 'mandate.v1.PlanHandOff' } : {}),
        occurredAt: this.now(),
      },
      SOURCE,
    );
  }
}
