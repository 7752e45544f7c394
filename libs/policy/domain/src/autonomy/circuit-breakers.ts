import { Verdict } from '@mandate/contracts';
import type { AutonomyAuditEvent } from './autonomy-audit';
import { RoleAuthorizer, type Authorizer, type Principal } from './control-authorizer';
import { normalizeVerdict, verdictName } from './verdict-order';

export const BREAKER_KINDS = ['rejection_rate', 'error_spike', 'action_rate'] as const;
export type BreakerKind = (typeof BREAKER_KINDS)[number];

export interface CircuitBreakerConfig {
  /** Trips when, over the window, at least `minReviews` reviews and rejections/reviews ≥ threshold. */
  readonly rejectionRate: {
    readonly windowMs: number;
    readonly minReviews: number;
    readonly threshold: number;
    readonly demoteTo: Verdict;
  };
  /** Trips when at least `maxFailures` executions failed within the window. */
  readonly errorSpike: {
    readonly windowMs: number;
    readonly maxFailures: number;
    readonly demoteTo: Verdict;
  };
  /** Trips when more than `maxProposals` proposals arrived within the window. */
  readonly actionRate: {
    readonly windowMs: number;
    readonly maxProposals: number;
    readonly demoteTo: Verdict;
  };
}

/**
 * Defaults. Rejection-rate and action-rate spikes demote to APPROVE_1: the agent's judgement or
 * pace is in doubt, and a human in the loop fixes both without losing the work (proposals wait
 * in the review queue). An error spike demotes to DENY: executions are failing, and approving
 * more of them would only add failed or partial writes to the CRM until someone looks.
 */
export const DEFAULT_CIRCUIT_BREAKER_CONFIG: CircuitBreakerConfig = {
  rejectionRate: {
    windowMs: 3_600_000,
    minReviews: 5,
    threshold: 0.5,
    demoteTo: Verdict.VERDICT_APPROVE_1,
  },
  errorSpike: { windowMs: 600_000, maxFailures: 3, demoteTo: Verdict.VERDICT_DENY },
  actionRate: { windowMs: 60_000, maxProposals: 30, demoteTo: Verdict.VERDICT_APPROVE_1 },
};

interface ObservationBase {
  /** Unique per event; a redelivery is not counted twice. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly agentId: string;
  /** When it happened. Events older than a window do not count in it. */
  readonly at: Date;
}

/** What the breakers watch. */
export type BreakerObservation =
  | (ObservationBase & { readonly type: 'proposal' })
  | (ObservationBase & { readonly type: 'review'; readonly rejected: boolean })
  | (ObservationBase & { readonly type: 'execution'; readonly failed: boolean });

export interface OpenBreaker {
  readonly kind: BreakerKind;
  readonly tenantId: string;
  readonly agentId: string;
  /** Human-readable, e.g. "4 of 6 reviews rejected within 60 min". */
  readonly reason: string;
  /** ISO 8601. */
  readonly trippedAt: string;
  /** The most autonomous verdict allowed while open. */
  readonly demoteTo: Verdict;
}

export interface BreakerResetResult {
  readonly status: 'reset' | 'not_open' | 'refused';
  readonly audit?: AutonomyAuditEvent;
}

interface Windows {
  proposals: number[];
  reviews: { at: number; rejected: boolean }[];
  failures: number[];
  /** eventId → time, kept as long as the longest window. */
  seen: Map<string, number>;
  open: Map<BreakerKind, OpenBreaker>;
}

const KEY_SEPARATOR = '\u0000';

/**
 * Sliding-window circuit breakers per tenant × agent. A breaker trips once, stays open until an
 * authorised person resets it (never closes by itself: the spike's cause is unknown until a
 * human has looked), and each trip and reset yields an audit event.
 */
export class CircuitBreakers {
  private readonly windows = new Map<string, Windows>();
  private readonly longestWindowMs: number;

  constructor(
    private readonly config: CircuitBreakerConfig = DEFAULT_CIRCUIT_BREAKER_CONFIG,
    private readonly authorizer: Authorizer = new RoleAuthorizer(),
    private readonly clock: () => Date = () => new Date(),
  ) {
    const c = config;
    const bad = [
      !(c.rejectionRate.windowMs > 0) && 'rejectionRate.windowMs',
      !(c.rejectionRate.minReviews >= 1) && 'rejectionRate.minReviews',
      !(c.rejectionRate.threshold > 0 && c.rejectionRate.threshold <= 1) &&
        'rejectionRate.threshold',
      !(c.errorSpike.windowMs > 0) && 'errorSpike.windowMs',
      !(c.errorSpike.maxFailures >= 1) && 'errorSpike.maxFailures',
      !(c.actionRate.windowMs > 0) && 'actionRate.windowMs',
      !(c.actionRate.maxProposals >= 1) && 'actionRate.maxProposals',
    ].filter(Boolean);
    if (bad.length) throw new RangeError(`circuit breaker config: invalid ${bad.join(', ')}`);
    this.longestWindowMs = Math.max(
      c.rejectionRate.windowMs,
      c.errorSpike.windowMs,
      c.actionRate.windowMs,
    );
  }

  /** Counts one event; returns the audit events of the breakers it tripped (usually none). */
  observe(obs: BreakerObservation): AutonomyAuditEvent[] {
    if (!obs?.eventId || !obs.tenantId || !obs.agentId || !(obs.at instanceof Date))
      throw new RangeError('breaker observation needs eventId, tenantId, agentId and at');
    const now = this.clock().getTime();
    const at = Math.min(obs.at.getTime(), now);
    if (Number.isNaN(at)) throw new RangeError('breaker observation has an invalid `at`');
    const w = this.windowsOf(obs.tenantId, obs.agentId);
    this.prune(w, now);
    if (w.seen.has(obs.eventId) || at < now - this.longestWindowMs) return [];
    w.seen.set(obs.eventId, at);
    if (obs.type === 'proposal') w.proposals.push(at);
    else if (obs.type === 'review') w.reviews.push({ at, rejected: obs.rejected === true });
    else if (obs.type === 'execution' && obs.failed) w.failures.push(at);
    return this.evaluate(obs.tenantId, obs.agentId, w, now);
  }

  /** The open breakers of this tenant × agent. */
  state(tenantId: string, agentId: string): OpenBreaker[] {
    const w = this.windows.get(tenantId + KEY_SEPARATOR + agentId);
    return w
      ? BREAKER_KINDS.flatMap((k) => (w.open.has(k) ? [w.open.get(k) as OpenBreaker] : []))
      : [];
  }

  /** Every open breaker, by tenant, then agent, then kind (in `BREAKER_KINDS` order). */
  openBreakers(): OpenBreaker[] {
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...this.windows.values()]
      .flatMap((w) =>
        BREAKER_KINDS.flatMap((k) => (w.open.has(k) ? [w.open.get(k) as OpenBreaker] : [])),
      )
      .sort((a, b) => cmp(a.tenantId, b.tenantId) || cmp(a.agentId, b.agentId));
  }

  /**
   * Opens a breaker that another replica tripped (broadcast on the control topic), so every
   * replica demotes the tenant × agent at once. Idempotent: true when this call opened it,
   * false when it was already open (the first trip is kept, as for a local trip). No audit
   * event: the replica that tripped it audited the trip. Throws RangeError on a malformed trip.
   */
  applyTrip(trip: OpenBreaker): boolean {
    if (
      !trip ||
      !BREAKER_KINDS.includes(trip.kind) ||
      typeof trip.tenantId !== 'string' ||
      trip.tenantId === '' ||
      typeof trip.agentId !== 'string' ||
      trip.agentId === '' ||
      typeof trip.reason !== 'string' ||
      typeof trip.trippedAt !== 'string' ||
      Number.isNaN(Date.parse(trip.trippedAt))
    )
      throw new RangeError('breaker trip needs kind, tenantId, agentId, reason and trippedAt');
    const w = this.windowsOf(trip.tenantId, trip.agentId);
    if (w.open.has(trip.kind)) return false;
    w.open.set(trip.kind, {
      kind: trip.kind,
      tenantId: trip.tenantId,
      agentId: trip.agentId,
      reason: trip.reason,
      trippedAt: trip.trippedAt,
      demoteTo: normalizeVerdict(trip.demoteTo),
    });
    return true;
  }

  /**
   * Closes a breaker. Only an authorised person may (same rule as kill switches, for the
   * agent within its tenant); the breaker's window starts empty again, so the events that
   * tripped it do not trip it again at once. `at` (default: the clock) is when the reset was
   * asked for: a replica applying a reset from the control topic passes the event's time, so
   * every replica produces the same audit event.
   */
  reset(
    tenantId: string,
    agentId: string,
    kind: BreakerKind,
    by: Principal,
    reason: string,
    at: Date = this.clock(),
  ): BreakerResetResult {
    const when = at instanceof Date && !Number.isNaN(at.getTime()) ? at : this.clock();
    const atIso = when.toISOString();
    const target = { scope: 'agent' as const, tenantId, agentId };
    const base = {
      tenantId,
      actor: by?.id ?? '',
      occurredAt: atIso,
      attributes: { agent_id: agentId, breaker: kind, reason: reason ?? '' },
    };
    if (
      !this.authorizer.canControl(by, target) ||
      typeof reason !== 'string' ||
      reason.trim() === ''
    ) {
      return {
        status: 'refused',
        audit: {
          ...base,
          auditId: `breaker-reset-refused/${tenantId}/${agentId}/${kind}/${atIso}/${by?.id ?? ''}`,
          kind: 'CIRCUIT_BREAKER_RESET_REFUSED',
          summary: `reset of ${kind} breaker for agent ${agentId} refused for ${by?.id || 'unknown principal'}`,
        },
      };
    }
    const w = this.windows.get(tenantId + KEY_SEPARATOR + agentId);
    const open = w?.open.get(kind);
    if (!w || !open) return { status: 'not_open' };
    w.open.delete(kind);
    if (kind === 'rejection_rate') w.reviews = [];
    if (kind === 'error_spike') w.failures = [];
    if (kind === 'action_rate') w.proposals = [];
    return {
      status: 'reset',
      audit: {
        ...base,
        auditId: `breaker-reset/${tenantId}/${agentId}/${kind}/${open.trippedAt}`,
        kind: 'CIRCUIT_BREAKER_RESET',
        summary: `${kind} breaker for agent ${agentId} reset by ${by.id}`,
      },
    };
  }

  private windowsOf(tenantId: string, agentId: string): Windows {
    const key = tenantId + KEY_SEPARATOR + agentId;
    let w = this.windows.get(key);
    if (!w) {
      w = { proposals: [], reviews: [], failures: [], seen: new Map(), open: new Map() };
      this.windows.set(key, w);
    }
    return w;
  }

  private prune(w: Windows, now: number): void {
    const c = this.config;
    w.proposals = w.proposals.filter((t) => t >= now - c.actionRate.windowMs);
    w.reviews = w.reviews.filter((r) => r.at >= now - c.rejectionRate.windowMs);
    w.failures = w.failures.filter((t) => t >= now - c.errorSpike.windowMs);
    for (const [id, t] of w.seen) if (t < now - this.longestWindowMs) w.seen.delete(id);
  }

  private evaluate(
    tenantId: string,
    agentId: string,
    w: Windows,
    now: number,
  ): AutonomyAuditEvent[] {
    const c = this.config;
    const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;
    const trips: [BreakerKind, string, Verdict][] = [];
    const rejected = w.reviews.filter((r) => r.rejected).length;
    if (
      w.reviews.length >= c.rejectionRate.minReviews &&
      rejected / w.reviews.length >= c.rejectionRate.threshold
    )
      trips.push([
        'rejection_rate',
        `${rejected} of ${w.reviews.length} reviews rejected within ${minutes(c.rejectionRate.windowMs)}`,
        c.rejectionRate.demoteTo,
      ]);
    if (w.failures.length >= c.errorSpike.maxFailures)
      trips.push([
        'error_spike',
        `${w.failures.length} execution failures within ${minutes(c.errorSpike.windowMs)}`,
        c.errorSpike.demoteTo,
      ]);
    if (w.proposals.length > c.actionRate.maxProposals)
      trips.push([
        'action_rate',
        `${w.proposals.length} proposals within ${Math.round(c.actionRate.windowMs / 1000)} s (limit ${c.actionRate.maxProposals})`,
        c.actionRate.demoteTo,
      ]);
    const audits: AutonomyAuditEvent[] = [];
    const trippedAt = new Date(now).toISOString();
    for (const [kind, reason, demoteTo] of trips) {
      if (w.open.has(kind)) continue;
      const open: OpenBreaker = {
        kind,
        tenantId,
        agentId,
        reason,
        trippedAt,
        demoteTo: normalizeVerdict(demoteTo),
      };
      w.open.set(kind, open);
      audits.push({
        auditId: `breaker-trip/${tenantId}/${agentId}/${kind}/${trippedAt}`,
        kind: 'CIRCUIT_BREAKER_TRIPPED',
        tenantId,
        actor: 'policy',
        occurredAt: trippedAt,
        summary: `${kind} breaker tripped for agent ${agentId}: ${reason}; at most ${verdictName(open.demoteTo)} until reset`,
        attributes: {
          agent_id: agentId,
          breaker: kind,
          demote_to: verdictName(open.demoteTo),
          reason,
        },
      });
    }
    return audits;
  }
}
