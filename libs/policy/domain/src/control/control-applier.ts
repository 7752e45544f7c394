import type { PolicyControlEvent } from '@mandate/contracts';
import type { AutonomyAuditEvent } from '../autonomy/autonomy-audit';
import type { CircuitBreakers } from '../autonomy/circuit-breakers';
import type { KillSwitchBoard } from '../autonomy/kill-switch.board';
import {
  breakerKey,
  isControlEventProblem,
  toBreakerReset,
  toBreakerTrip,
  toKillSwitchControlEvent,
} from './control-events';

export type ControlApplyStatus =
  'applied' | 'duplicate' | 'stale' | 'refused' | 'invalid' | 'ignored';

export interface ControlApplyResult {
  readonly status: ControlApplyStatus;
  /**
   * What to publish to the audit ledger (e.g. with `controlAuditOutboxMessage(audit, event)`):
   * ids are deterministic per event, so every replica publishing them yields one leaf each.
   * At least the `refused` ones must be published: a forged event never went through
   * ControlAdmin, so nothing else records it.
   */
  readonly audits: AutonomyAuditEvent[];
  /** For `invalid` (and `ignored`): why. */
  readonly problem?: string;
}

/** Bundle activations and shadow bundles are applied elsewhere; this hands them over. */
export type BundleControlHandler = (event: PolicyControlEvent) => void;

export interface ControlApplierOptions {
  /** Breaker event ids remembered for idempotency (oldest forgotten first). */
  readonly maxRememberedEvents?: number;
}

/**
 * Applies control events from the control topic to this replica's state. Kill switch changes go
 * to `KillSwitchBoard.apply`, which authorises the event again (a forged event changes nothing
 * and is audited as refused), deduplicates by id and orders by version per target. Breaker
 * resets are authorised again by `CircuitBreakers.reset`, with the event's principal; they are
 * deduplicated by id and ordered by version per breaker here. Breaker trips are not authorised
 * (they carry no person: the policy service announces them, and they can only restrict) and are
 * ordered per breaker by trip time; a trip older than the last reset of that breaker is stale.
 * Bundle events are handed to `onBundleEvent` and reported as `ignored`.
 *
 * `apply` never throws on malformed input: it reports `invalid` with a problem. (An exception
 * thrown by `onBundleEvent` is that handler's and propagates.)
 */
export class ControlApplier {
  private readonly maxRemembered: number;
  private readonly seen = new Set<string>();
  /** Per breaker key: the last reset version applied and its time (ms). */
  private readonly resets = new Map<string, { version: number; at: number }>();
  /** Per breaker key: the last trip version (= trip time, ms) applied. */
  private readonly trips = new Map<string, number>();

  constructor(
    private readonly board: KillSwitchBoard,
    private readonly breakers: CircuitBreakers,
    private readonly onBundleEvent?: BundleControlHandler,
    options: ControlApplierOptions = {},
  ) {
    this.maxRemembered = options.maxRememberedEvents ?? 10_000;
  }

  apply(event: PolicyControlEvent): ControlApplyResult {
    const $case = safeCase(event);
    if ($case === 'bundleActivated' || $case === 'shadowSet') {
      this.onBundleEvent?.(event);
      return { status: 'ignored', audits: [], problem: `${$case} is not a kill switch or breaker` };
    }
    try {
      switch ($case) {
        case 'killSwitchSet':
        case 'killSwitchCleared':
          return this.applyKillSwitch(event);
        case 'breakerReset':
          return this.applyReset(event);
        case 'breakerTripped':
          return this.applyTrip(event);
        case undefined:
          return invalid('control event carries no change');
        default:
          return { status: 'ignored', audits: [], problem: `unknown change ${String($case)}` };
      }
    } catch (e) {
      return invalid(`malformed control event: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private applyKillSwitch(event: PolicyControlEvent): ControlApplyResult {
    const domain = toKillSwitchControlEvent(event);
    if (isControlEventProblem(domain)) return invalid(domain.problem);
    const r = this.board.apply(domain);
    return {
      status: r.status,
      audits: r.audit ? [r.audit] : [],
      ...(r.problem ? { problem: r.problem } : {}),
    };
  }

  private applyReset(event: PolicyControlEvent): ControlApplyResult {
    const reset = toBreakerReset(event);
    if (isControlEventProblem(reset)) return invalid(reset.problem);
    if (this.seen.has(reset.eventId)) return { status: 'duplicate', audits: [] };
    this.remember(reset.eventId);
    const key = breakerKey(reset.tenantId, reset.agentId, reset.kind);
    const last = this.resets.get(key);
    if (last && reset.version <= last.version) return { status: 'stale', audits: [] };
    const at = new Date(reset.at);
    const r = this.breakers.reset(
      reset.tenantId,
      reset.agentId,
      reset.kind,
      reset.by,
      reset.reason,
      at,
    );
    if (r.status === 'refused') return { status: 'refused', audits: r.audit ? [r.audit] : [] };
    this.resets.set(key, { version: reset.version, at: at.getTime() });
    // `not_open` is applied too: the breaker is closed on this replica, as asked.
    return { status: 'applied', audits: r.audit ? [r.audit] : [] };
  }

  private applyTrip(event: PolicyControlEvent): ControlApplyResult {
    const notice = toBreakerTrip(event);
    if (isControlEventProblem(notice)) return invalid(notice.problem);
    if (this.seen.has(notice.eventId)) return { status: 'duplicate', audits: [] };
    this.remember(notice.eventId);
    const { trip, version } = notice;
    const key = breakerKey(trip.tenantId, trip.agentId, trip.kind);
    const lastTrip = this.trips.get(key);
    const lastReset = this.resets.get(key);
    if (
      (lastTrip !== undefined && version <= lastTrip) ||
      (lastReset !== undefined && Date.parse(trip.trippedAt) < lastReset.at)
    )
      return { status: 'stale', audits: [] };
    this.trips.set(key, version);
    // Already open here (tripped locally, or announced twice): nothing changes.
    return { status: this.breakers.applyTrip(trip) ? 'applied' : 'duplicate', audits: [] };
  }

  private remember(eventId: string): void {
    this.seen.add(eventId);
    if (this.seen.size > this.maxRemembered) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
  }
}

function invalid(problem: string): ControlApplyResult {
  return { status: 'invalid', audits: [], problem };
}

function safeCase(event: PolicyControlEvent): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const change = (event as { change?: unknown }).change;
  if (typeof change !== 'object' || change === null) return undefined;
  const $case = (change as { $case?: unknown }).$case;
  return typeof $case === 'string' ? $case : undefined;
}
