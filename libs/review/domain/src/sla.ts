import { AuditKind, ReviewDecision, ReviewOutcome } from '@mandate/contracts';
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
import { uuidFrom } from './ids';
import type { Clock, TenantSource } from './ports';
import { reviewConfig, type ReviewConfig, type ReviewConfigInput } from './review-config';
import { encodeReview, isActive, nextTimerOf, type ReviewTaskDoc } from './review-task.doc';
import { tierTeam, tierTimers } from './sla-config';
import { SOURCE, TaskRepository, type TaskState } from './task-repository';

/** Reviewer id of the decisions the SLA fail-safe makes. */
export const SLA_REVIEWER = 'system/sla';
/** Reason code of the fail-safe rejection. */
export const SLA_EXPIRED = 'SLA_EXPIRED';

export type SlaStep = 'escalate' | 'expire' | 'lease-expired' | 'warn';

/**
 * The SLA step due on a task at `now`, if any, in priority order: a passed deadline escalates (or,
 * in the last tier, expires: fail-safe); otherwise an expired claim is released; otherwise the
 * warning goes out once per tier.
 */
export function dueStep(state: TaskState, tiers: number, now: Date): SlaStep | undefined {
  if (!isActive(state.status)) return undefined;
  if (now >= state.dueAt) return state.tier < tiers - 1 ? 'escalate' : 'expire';
  if (state.status === 'CLAIMED' && state.leaseUntil && now >= state.leaseUntil)
    return 'lease-expired';
  if (!state.warnedAt && now >= state.warnAt) return 'warn';
  return undefined;
}

export interface SlaSweeperDeps {
  readonly tasks: DocumentStore<ReviewTaskDoc>;
  readonly now?: Clock;
  /** Tenants `sweep()` visits when none are given. */
  readonly tenants?: TenantSource;
  readonly config?: ReviewConfig | ReviewConfigInput;
  /** Tasks read per query. Default 200. */
  readonly batchSize?: number;
}

export interface SlaSweepReport {
  warned: number;
  escalated: number;
  expired: number;
  leasesExpired: number;
  /** Transitions skipped because the task changed meanwhile (the next sweep re-evaluates it). */
  conflicts: number;
}

const emptyReport = (): SlaSweepReport => ({
  warned: 0,
  escalated: 0,
  expired: 0,
  leasesExpired: 0,
  conflicts: 0,
});

const MAX_PAGES = 50;

/**
 * SLA timers. They are data on the task (`warnAt`, `dueAt`, `tier`, `leaseUntil`, summarised in
 * `nextTimerAt`), so any process can run `sweep(now)` at any time — after a restart, on several
 * replicas at once, twice in a row — and each step happens once: every transition is conditional
 * on the version it read, and a repeated sweep finds the step already taken.
 */
export class SlaSweeper {
  private readonly now: Clock;
  private readonly config: ReviewConfig;
  private readonly batchSize: number;

  constructor(private readonly deps: SlaSweeperDeps) {
    this.now = deps.now ?? (() => new Date());
    this.config = reviewConfig(deps.config);
    this.batchSize = deps.batchSize ?? 200;
  }

  /** Sweeps the given tenants (default: `deps.tenants()`). */
  async sweep(now: Date = this.now(), tenants?: readonly TenantId[]): Promise<SlaSweepReport> {
    const list = tenants ?? (this.deps.tenants ? await this.deps.tenants() : []);
    const total = emptyReport();
    for (const tenant of list) {
      const r = await this.sweepTenant(tenant, now);
      for (const k of Object.keys(total) as (keyof SlaSweepReport)[]) total[k] += r[k];
    }
    return total;
  }

  async sweepTenant(tenant: TenantId, now: Date = this.now()): Promise<SlaSweepReport> {
    const repo = new TaskRepository(this.deps.tasks, this.config, () => now);
    const report = emptyReport();
    const seen = new Set<string>();
    for (let page = 0; page < MAX_PAGES; page++) {
      const due = await this.deps.tasks.find(
        tenant,
        { status: { $in: ['OPEN', 'CLAIMED'] }, nextTimerAt: { $lte: now } },
        { sort: { nextTimerAt: 1 }, limit: this.batchSize },
      );
      const fresh = due.filter((d) => !seen.has(d.id));
      for (const doc of fresh) {
        seen.add(doc.id);
        await this.advance(repo, tenant, doc, now, report);
      }
      if (due.length < this.batchSize || fresh.length === 0) break;
    }
    // Documents written before timers were data: give them their timers (no events).
    const legacy = await this.deps.tasks.find(
      tenant,
      { status: { $in: ['OPEN', 'CLAIMED'] }, nextTimerAt: { $exists: false } },
      { limit: this.batchSize },
    );
    for (const doc of legacy) {
      if (seen.has(doc.id)) continue;
      await this.advance(repo, tenant, doc, now, report);
    }
    return report;
  }

  /** Takes every step due on one task, one conditional write per step. */
  private async advance(
    repo: TaskRepository,
    tenant: TenantId,
    doc: Versioned<ReviewTaskDoc>,
    now: Date,
    report: SlaSweepReport,
  ): Promise<void> {
    let current: Versioned<ReviewTaskDoc> | null = doc;
    for (let i = 0; current && i < 32; i++) {
      const before = repo.withDefaults(current);
      const { version: _v, ...fields } = before;
      const state = copyValue(fields) as TaskState;
      const policy = repo.policyOf(state);
      const step = dueStep(state, policy.tiers.length, now);
      if (!step && current.nextTimerAt?.getTime() === nextTimerOf(state)?.getTime()) return;
      const outbox = step ? this.apply(repo, tenant, state, step, now, before.version) : [];
      try {
        await repo.write(tenant, current, state, outbox);
      } catch (err) {
        if (err instanceof ConcurrencyError || err instanceof DocumentNotFoundError) {
          report.conflicts++;
          return;
        }
        throw err;
      }
      if (!step) return;
      if (step === 'warn') report.warned++;
      else if (step === 'escalate') report.escalated++;
      else if (step === 'expire') report.expired++;
      else report.leasesExpired++;
      current = await this.deps.tasks.get(tenant, doc.id);
    }
  }

  private apply(
    repo: TaskRepository,
    tenant: TenantId,
    state: TaskState,
    step: SlaStep,
    now: Date,
    version: number,
  ): OutboxMessage[] {
    const policy = repo.policyOf(state);
    const id = state.id;
    const claimHolder = state.status === 'CLAIMED' ? state.assigneeId : undefined;
    const releaseClaim = () => {
      state.status = 'OPEN';
      state.assigneeId = undefined;
      state.claimedAt = undefined;
      state.leaseUntil = undefined;
    };
    switch (step) {
      case 'warn': {
        state.warnedAt = now;
        return [
          repo.audit(tenant, state, {
            actor: SLA_REVIEWER,
            summary:
              `SLA warning: tier ${state.tier} (team ${state.team}) is due at ` +
              `${state.dueAt.toISOString()}${claimHolder ? `; claimed by ${claimHolder}` : '; unclaimed'}`,
            dedupeKey: `sla/${id}/warning/${state.tier}`,
            attributes: { event: 'sla_warning', dueAt: state.dueAt.toISOString() },
          }),
          repo.snapshot(tenant, state, `${id}/warning/${state.tier}`),
        ];
      }
      case 'lease-expired': {
        const until = state.leaseUntil?.toISOString() ?? '';
        releaseClaim();
        return [
          repo.audit(tenant, state, {
            actor: SLA_REVIEWER,
            summary: `claim by ${claimHolder} expired (lease until ${until}); task back in queue ${state.team}`,
            dedupeKey: `lease/${id}/${version}`,
            attributes: { event: 'claim_expired', previousAssignee: claimHolder ?? '' },
          }),
          repo.snapshot(tenant, state, `${id}/lease-expired/${version}`),
        ];
      }
      case 'escalate': {
        const from = { tier: state.tier, team: state.team, dueAt: state.dueAt };
        const tier = state.tier + 1;
        const timers = tierTimers(policy, tier, now);
        releaseClaim();
        state.tier = tier;
        state.team = tierTeam(policy, tier, state.team);
        state.skill = '';
        state.dueAt = timers.dueAt;
        state.warnAt = timers.warnAt;
        state.warnedAt = undefined;
        return [
          repo.audit(tenant, state, {
            actor: SLA_REVIEWER,
            summary:
              `SLA escalation: tier ${from.tier} (team ${from.team}) passed its deadline ` +
              `${from.dueAt.toISOString()}${claimHolder ? ` while claimed by ${claimHolder}` : ''}; ` +
              `now tier ${tier} (team ${state.team}), due ${timers.dueAt.toISOString()}`,
            dedupeKey: `sla/${id}/escalated/${tier}`,
            attributes: {
              event: 'sla_escalated',
              fromTier: String(from.tier),
              fromTeam: from.team,
              dueAt: timers.dueAt.toISOString(),
            },
          }),
          repo.snapshot(tenant, state, `${id}/escalated/${tier}`),
        ];
      }
      case 'expire': {
        const dueAt = state.dueAt.toISOString();
        releaseClaim();
        state.status = 'EXPIRED';
        state.closedAt = now;
        const outbox: OutboxMessage[] = [];
        if (policy.onExpiry === 'reject') {
          state.closeReason = SLA_EXPIRED;
          const review = ReviewDecision.fromPartial({
            reviewDecisionId: uuidFrom('sla-expired', tenant, id),
            taskId: id,
            tenantId: tenant,
            correlationId: state.correlationId,
            reviewerId: SLA_REVIEWER,
            outcome: ReviewOutcome.REVIEW_OUTCOME_REJECT,
            reasonCode: SLA_EXPIRED,
            decidedAt: now.toISOString(),
            proposalId: state.proposalId,
            decisionId: state.decisionId,
          });
          state.reviews.push({
            id: review.reviewDecisionId,
            reviewerId: SLA_REVIEWER,
            outcome: 'REJECT',
            reasonCode: SLA_EXPIRED,
            decidedAt: now,
            startedAt: state.createdAt,
            startedFrom: 'open',
            system: true,
            effect: 'expired',
            decision: encodeReview(review),
          });
          state.lastDecisionAt = now;
          outbox.push(
            outboxMessage(Topics.reviewDecisions, review, {
              tenantId: tenant,
              correlationId: state.correlationId,
              source: SOURCE,
              id: review.reviewDecisionId,
              time: now,
            }),
            repo.audit(tenant, state, {
              kind: AuditKind.AUDIT_KIND_REVIEW_DECISION,
              actor: SLA_REVIEWER,
              summary:
                `SLA expired: nobody decided by ${dueAt} (final tier ${state.tier}, team ${state.team}); ` +
                'fail-safe REJECT (SLA_EXPIRED), the action is not executed',
              dedupeKey: `review-decision/${review.reviewDecisionId}`,
              attributes: { event: 'sla_expired', outcome: 'REJECT', reasonCode: SLA_EXPIRED },
              payloadType: 'mandate.v1.ReviewDecision',
              payload: ReviewDecision.encode(review).finish(),
            }),
          );
        } else {
          state.closeReason = 'SLA_EXPIRED_NO_REJECTION';
          outbox.push(
            repo.audit(tenant, state, {
              actor: SLA_REVIEWER,
              summary:
                `SLA expired: nobody decided by ${dueAt} (final tier ${state.tier}, team ${state.team}); ` +
                `task closed EXPIRED without a rejection${state.postHoc ? ' (post-hoc review)' : ''}; ` +
                'the action is not executed by this review',
              dedupeKey: `sla/${id}/expired`,
              attributes: { event: 'sla_expired', outcome: 'EXPIRE' },
            }),
          );
        }
        outbox.push(repo.snapshot(tenant, state, `${id}/expired`));
        return outbox;
      }
    }
  }
}
