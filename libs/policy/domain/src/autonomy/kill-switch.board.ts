import type { AutonomyAuditEvent } from './autonomy-audit';
import {
  RoleAuthorizer,
  type Authorizer,
  type ControlTarget,
  type Principal,
} from './control-authorizer';

export type KillSwitchScope = ControlTarget['scope'];
/** `deny`: nothing executes. `require_approval`: nothing executes without a human. */
export type KillSwitchMode = 'deny' | 'require_approval';

export const KILL_SWITCH_SCOPES: readonly KillSwitchScope[] = [
  'global',
  'tenant',
  'agent',
  'action',
];

export type KillSwitchTarget = ControlTarget;

/** An active kill switch. */
export interface KillSwitch extends KillSwitchTarget {
  readonly mode: KillSwitchMode;
  readonly reason: string;
  /** Principal id. */
  readonly setBy: string;
  /** ISO 8601. */
  readonly setAt: string;
}

interface ControlEventBase {
  /** Unique per event: a redelivery is recognised by it. */
  readonly eventId: string;
  /**
   * Monotonically increasing per target (e.g. the version of the switch's document): an event
   * not newer than the last one applied to the same target is stale and ignored.
   */
  readonly version: number;
  readonly target: KillSwitchTarget;
  readonly reason: string;
  readonly by: Principal;
  /** ISO 8601. */
  readonly at: string;
}

/** What the control topic carries. */
export type KillSwitchControlEvent =
  | (ControlEventBase & { readonly type: 'set'; readonly mode: KillSwitchMode })
  | (ControlEventBase & { readonly type: 'clear' });

export type KillSwitchApplyStatus = 'applied' | 'duplicate' | 'stale' | 'refused' | 'invalid';

export interface KillSwitchApplyResult {
  readonly status: KillSwitchApplyStatus;
  /** For `applied` and `refused`: what to publish to the audit ledger. */
  readonly audit?: AutonomyAuditEvent;
  /** For `invalid`: why. */
  readonly problem?: string;
}

/** Which keys each scope requires (r) or forbids (x); others are optional narrowing. */
const SHAPE: Record<
  KillSwitchScope,
  Record<'tenantId' | 'agentId' | 'actionType', 'r' | 'x' | 'o'>
> = {
  global: { tenantId: 'x', agentId: 'x', actionType: 'x' },
  tenant: { tenantId: 'r', agentId: 'x', actionType: 'x' },
  agent: { tenantId: 'o', agentId: 'r', actionType: 'x' },
  action: { tenantId: 'o', agentId: 'o', actionType: 'r' },
};

/** Why a target is malformed, or undefined when it is well-formed. */
export function killSwitchTargetProblem(target: KillSwitchTarget | undefined): string | undefined {
  if (!target || !KILL_SWITCH_SCOPES.includes(target.scope))
    return `unknown kill switch scope ${JSON.stringify(target?.scope)}`;
  for (const [key, rule] of Object.entries(SHAPE[target.scope])) {
    const value = target[key as keyof typeof SHAPE.global];
    if (rule === 'r' && (typeof value !== 'string' || value === ''))
      return `${target.scope} scope requires ${key}`;
    if (rule === 'x' && value !== undefined && value !== '')
      return `${target.scope} scope must not carry ${key}`;
  }
  return undefined;
}

/** The key that identifies a switch: one switch per exact target. */
export function killSwitchKey(t: KillSwitchTarget): string {
  return [t.scope, t.tenantId || '*', t.agentId || '*', t.actionType || '*'].join('|');
}

const SCOPE_BREADTH: Record<KillSwitchScope, number> = {
  global: 3,
  tenant: 2,
  agent: 1,
  action: 0,
};
const MODE_STRENGTH: Record<KillSwitchMode, number> = { deny: 1, require_approval: 0 };

function matches(
  s: KillSwitchTarget,
  tenantId: string,
  agentId: string,
  actionType: string,
): boolean {
  return (
    (!s.tenantId || s.tenantId === tenantId) &&
    (!s.agentId || s.agentId === agentId) &&
    (!s.actionType || s.actionType === actionType)
  );
}

export interface KillSwitchBoardOptions {
  readonly authorizer?: Authorizer;
  /** Event ids remembered for idempotency (oldest forgotten first). */
  readonly maxRememberedEvents?: number;
}

/**
 * The kill switches in force, rebuilt by applying control events (from a compacted control
 * topic, replayed at start). Idempotent by event id, ordered per target by version, and every
 * event is authorised again here: a forged event on the topic changes nothing and is audited.
 */
export class KillSwitchBoard {
  private readonly authorizer: Authorizer;
  private readonly maxRemembered: number;
  /** Per target key: the last version applied and the switch (absent once cleared). */
  private readonly entries = new Map<string, { version: number; active?: KillSwitch }>();
  private readonly seen = new Set<string>();

  constructor(options: KillSwitchBoardOptions = {}) {
    this.authorizer = options.authorizer ?? new RoleAuthorizer();
    this.maxRemembered = options.maxRememberedEvents ?? 10_000;
  }

  /** May `principal` set or clear this switch? (For the API, before it publishes an event.) */
  canControl(principal: Principal, target: KillSwitchTarget): boolean {
    return this.authorizer.canControl(principal, target);
  }

  apply(event: KillSwitchControlEvent): KillSwitchApplyResult {
    if (!event || typeof event.eventId !== 'string' || event.eventId === '')
      return { status: 'invalid', problem: 'control event needs an eventId' };
    if (this.seen.has(event.eventId)) return { status: 'duplicate' };
    const problem = validate(event);
    if (problem) {
      this.remember(event.eventId);
      return { status: 'invalid', problem };
    }
    const key = killSwitchKey(event.target);
    const entry = this.entries.get(key);
    if (entry && event.version <= entry.version) {
      this.remember(event.eventId);
      return { status: 'stale' };
    }
    this.remember(event.eventId);
    if (!this.authorizer.canControl(event.by, event.target))
      return { status: 'refused', audit: audit(event, 'KILL_SWITCH_REFUSED') };
    if (event.type === 'set') {
      const active: KillSwitch = {
        ...compactTarget(event.target),
        mode: event.mode,
        reason: event.reason,
        setBy: event.by.id,
        setAt: event.at,
      };
      this.entries.set(key, { version: event.version, active });
      return { status: 'applied', audit: audit(event, 'KILL_SWITCH_SET') };
    }
    // A cleared target keeps its version, so a stale "set" cannot resurrect it.
    this.entries.set(key, { version: event.version });
    return { status: 'applied', audit: audit(event, 'KILL_SWITCH_CLEARED') };
  }

  /**
   * The strongest switch that applies to this tenant × agent × action type: `deny` before
   * `require_approval`, then the broadest scope (its reason code is the most useful one).
   */
  check(tenantId: string, agentId: string, actionType: string): KillSwitch | undefined {
    let best: KillSwitch | undefined;
    for (const { active } of this.entries.values()) {
      if (!active || !matches(active, tenantId, agentId, actionType)) continue;
      if (!best || strength(active) > strength(best)) best = active;
    }
    return best;
  }

  /** Every switch in force. */
  list(): KillSwitch[] {
    return [...this.entries.values()].flatMap((e) => (e.active ? [e.active] : []));
  }

  private remember(eventId: string): void {
    this.seen.add(eventId);
    if (this.seen.size > this.maxRemembered) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
  }
}

function strength(s: KillSwitch): number {
  return MODE_STRENGTH[s.mode] * 10 + SCOPE_BREADTH[s.scope];
}

/** The target without empty optional ids (one canonical form per target). */
export function compactTarget(t: KillSwitchTarget): KillSwitchTarget {
  return {
    scope: t.scope,
    ...(t.tenantId ? { tenantId: t.tenantId } : {}),
    ...(t.agentId ? { agentId: t.agentId } : {}),
    ...(t.actionType ? { actionType: t.actionType } : {}),
  };
}

function validate(event: KillSwitchControlEvent): string | undefined {
  if (event.type !== 'set' && event.type !== 'clear')
    return `unknown control event type ${JSON.stringify((event as { type?: unknown }).type)}`;
  if (!Number.isSafeInteger(event.version) || event.version < 1)
    return 'version must be a positive integer';
  const targetProblem = killSwitchTargetProblem(event.target);
  if (targetProblem) return targetProblem;
  if (event.type === 'set' && event.mode !== 'deny' && event.mode !== 'require_approval')
    return `unknown kill switch mode ${JSON.stringify(event.mode)}`;
  if (typeof event.reason !== 'string' || event.reason.trim() === '')
    return 'a reason is required (it is audited)';
  if (!event.by || typeof event.by.id !== 'string') return 'the acting principal is required';
  if (typeof event.at !== 'string' || Number.isNaN(Date.parse(event.at)))
    return '`at` must be an ISO 8601 instant';
  return undefined;
}

function audit(
  event: KillSwitchControlEvent,
  kind: 'KILL_SWITCH_SET' | 'KILL_SWITCH_CLEARED' | 'KILL_SWITCH_REFUSED',
): AutonomyAuditEvent {
  const t = event.target;
  const what = `${t.scope} kill switch${t.tenantId ? ` tenant=${t.tenantId}` : ''}${t.agentId ? ` agent=${t.agentId}` : ''}${t.actionType ? ` action=${t.actionType}` : ''}`;
  const verb =
    kind === 'KILL_SWITCH_REFUSED'
      ? `refused: ${event.by.id} may not ${event.type}`
      : event.type === 'set'
        ? `set (${event.mode}) by ${event.by.id}`
        : `cleared by ${event.by.id}`;
  return {
    auditId: `kill-switch/${event.eventId}/${kind}`,
    kind,
    tenantId: t.tenantId ?? '',
    actor: event.by.id,
    occurredAt: event.at,
    summary: `${what} ${verb}`,
    attributes: {
      scope: t.scope,
      ...(t.agentId ? { agent_id: t.agentId } : {}),
      ...(t.actionType ? { action_type: t.actionType } : {}),
      ...(event.type === 'set' ? { mode: event.mode } : {}),
      operation: event.type,
      reason: event.reason,
      version: String(event.version),
      event_id: event.eventId,
    },
  };
}
