/**
 * The write side of the policy control plane: kill switches and breaker resets.
 *
 *   API (authenticated principal)
 *     → ControlAdmin: validate the input, authorise (KillSwitchBoard.canControl), then one
 *       compare-and-set write of the target's document in POLICY_CONTROLS (tenant
 *       SYSTEM_TENANT) carrying, in its outbox, the PolicyControlEvent (version = the document's
 *       version after the write, so versions are monotonic per target) and its audit record
 *     → outbox relay → control topic `mandate.policy.control.v1` (1 partition: a total order)
 *     → every policy replica's ControlApplier (a consumer group per replica), which authorises
 *       the event again and applies it to its KillSwitchBoard / CircuitBreakers.
 *
 * The event is published exactly when the change is durable: the document and the outbox entry
 * are one atomic write, and a lost compare-and-set (a concurrent change of the same target) is
 * retried from a fresh read with the next version. A replica that starts replays the control
 * topic from the beginning, which rebuilds its board; events it has already applied come back
 * as `duplicate`/`stale` and change nothing. The documents are the source of truth for the API
 * (`list()`); the topic is how replicas learn about them.
 *
 * The `board` given to ControlAdmin is only used for `canControl` (same rule as the replicas);
 * the local board changes when this replica consumes the event, like every other replica.
 *
 * Audit: every attempt that passed validation is audited through the outbox, durably.
 * - An accepted change: its audit record is in the same write as the change and the event.
 *   Its id is the one the board produces when applying the event (KILL_SWITCH_SET/CLEARED,
 *   `kill-switch/<eventId>/<kind>`), so the ledger keeps one leaf even if replicas publish
 *   their ControlApplier audits too.
 * - A refused attempt (`forbidden`) writes a small `refused` document whose outbox carries the
 *   KILL_SWITCH_REFUSED / CIRCUIT_BREAKER_RESET_REFUSED record; those documents expire (TTL
 *   index on `refusedAt`) once their record has been delivered. Nothing goes to the control
 *   topic and the target's document is untouched.
 * - Invalid input is not audited (nothing was authorised or refused) and writes nothing.
 * See `control-outbox.ts` for the AuditKind used.
 */
import { createHash } from 'node:crypto';
import type { PolicyControlEvent } from '@mandate/contracts';
import { SYSTEM_TENANT } from '@mandate/messaging';
import {
  ConcurrencyError,
  defineCollection,
  DuplicateKeyError,
  isTenantId,
  MAX_FIND_LIMIT,
  tenantId as toTenantId,
  type DocumentStore,
  type Filter,
  type OutboxMessage,
  type Versioned,
} from '@mandate/storage';
import type { AutonomyAuditEvent } from '../autonomy/autonomy-audit';
import { BREAKER_KINDS, type BreakerKind } from '../autonomy/circuit-breakers';
import type { Principal } from '../autonomy/control-authorizer';
import {
  compactTarget,
  KillSwitchBoard,
  killSwitchKey,
  killSwitchTargetProblem,
  type KillSwitch,
  type KillSwitchMode,
  type KillSwitchScope,
  type KillSwitchTarget,
} from '../autonomy/kill-switch.board';
import {
  breakerKey,
  breakerResetEvent,
  controlEventId,
  isControlEventProblem,
  killSwitchEvent,
  toKillSwitchControlEvent,
  type KillSwitchChange,
} from './control-events';
import { controlAuditOutboxMessage, controlOutboxMessage } from './control-outbox';

export type ControlDocKind = 'kill_switch' | 'breaker' | 'refused';

/**
 * One document per kill switch target (`kill_switch`), per breaker (`breaker`, its resets) and
 * per refused attempt (`refused`). All live in the system tenant.
 */
export interface ControlDoc {
  /** `kill-switch/<hash of killSwitchKey>`, `breaker/<hash of breakerKey>` or `refused/<event id>`. */
  id: string;
  kind: ControlDocKind;
  /** killSwitchKey / breakerKey of the target, readable. */
  key: string;
  scope?: string;
  tenantId?: string;
  agentId?: string;
  actionType?: string;
  breakerKind?: string;
  /** Kill switch: engaged (true) or cleared (false). */
  active?: boolean;
  /** Kill switch, while engaged: `deny` or `require_approval`. */
  mode?: string;
  /** The last change (`set`, `clear`, `reset`); for `refused`: what was attempted. */
  operation: string;
  reason: string;
  /** Principal id. */
  actor: string;
  /** When the last change was made. */
  at: Date;
  /** Id of the control event of the last change (for `refused`: of the refused attempt). */
  eventId: string;
  /** Only on `refused` documents: they expire once their audit record is delivered. */
  refusedAt?: Date;
}

const REFUSED_RETENTION_SECONDS = 30 * 24 * 60 * 60;

/** Collection `policy_controls`, tenant SYSTEM_TENANT. */
export const POLICY_CONTROLS = defineCollection<ControlDoc>({
  name: 'policy_controls',
  indexes: [
    {
      name: 'kind_active',
      keys: { kind: 1, active: 1 },
      why: 'list() reads the kill switches in force, which are the source of truth for the API.',
    },
    {
      name: 'refused_ttl',
      keys: { refusedAt: 1 },
      ttlSeconds: REFUSED_RETENTION_SECONDS,
      why: 'Refused attempts only carry an audit record; they expire after it has been delivered.',
    },
  ],
});

export const MAX_CONTROL_REASON_LENGTH = 500;
const MAX_ID_LENGTH = 256;
const MAX_ATTEMPTS = 5;
const CONTROL_TENANT = toTenantId(SYSTEM_TENANT);

export type ControlAdminResult =
  | {
      readonly ok: true;
      /** What was written to the outbox for the control topic. */
      readonly event: PolicyControlEvent;
      /** What was written to the outbox for the audit ledger. */
      readonly audit: AutonomyAuditEvent;
    }
  | { readonly ok: false; readonly status: 'invalid'; readonly problem: string }
  | {
      readonly ok: false;
      readonly status: 'forbidden';
      readonly problem: string;
      /** The refusal, already written (durably) to the outbox for the audit ledger. */
      readonly audit: AutonomyAuditEvent;
    };

/** A switch in force, with the version of its document (e.g. for an ETag). */
export type ListedKillSwitch = KillSwitch & { readonly version: number };

const ALLOW_ALL = { canControl: () => true };
const DENY_ALL = { canControl: () => false };

export class ControlAdmin {
  constructor(
    private readonly board: KillSwitchBoard,
    private readonly store: DocumentStore<ControlDoc>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Engages (or changes the mode or reason of) the kill switch on `target`. */
  setKillSwitch(
    principal: Principal,
    target: KillSwitchTarget,
    mode: KillSwitchMode,
    reason: string,
  ): Promise<ControlAdminResult> {
    if (mode !== 'deny' && mode !== 'require_approval')
      return Promise.resolve(invalid(`unknown kill switch mode ${JSON.stringify(mode)}`));
    return this.changeKillSwitch(principal, target, { type: 'set', mode }, reason);
  }

  /** Releases the kill switch on `target` (a no-op change when none is engaged, still versioned). */
  clearKillSwitch(
    principal: Principal,
    target: KillSwitchTarget,
    reason: string,
  ): Promise<ControlAdminResult> {
    return this.changeKillSwitch(principal, target, { type: 'clear' }, reason);
  }

  /** Closes a tripped breaker on every replica (those where it is not open ignore it). */
  async resetBreaker(
    principal: Principal,
    tenantId: string,
    agentId: string,
    kind: BreakerKind,
    reason: string,
  ): Promise<ControlAdminResult> {
    const problem =
      tenantProblem(tenantId, true) ??
      idProblem('agentId', agentId, true) ??
      (BREAKER_KINDS.includes(kind) ? undefined : `unknown breaker kind ${JSON.stringify(kind)}`) ??
      reasonProblem(reason);
    if (problem) return invalid(problem);
    const by = normalizePrincipal(principal);
    const why = reason.trim();
    const key = breakerKey(tenantId, agentId, kind);
    const id = `breaker/${hashOf(key)}`;
    const target = { scope: 'agent' as const, tenantId, agentId };
    const what = `${kind} breaker for agent ${agentId}`;
    const attributes = { agent_id: agentId, breaker: kind, reason: why };
    if (!this.board.canControl(by, target)) {
      const at = this.clock();
      const version = ((await this.store.get(CONTROL_TENANT, id))?.version ?? 0) + 1;
      const eventId = refusedEventId('breakerReset', key, by, at, version);
      const audit: AutonomyAuditEvent = {
        auditId: `breaker-reset-request/${eventId}/CIRCUIT_BREAKER_RESET_REFUSED`,
        kind: 'CIRCUIT_BREAKER_RESET_REFUSED',
        tenantId,
        actor: by.id || 'unknown',
        occurredAt: at.toISOString(),
        summary: `reset of ${what} refused for ${by.id || 'unknown principal'}`,
        attributes: { ...attributes, operation: 'reset', event_id: eventId },
      };
      const attempt = breakerResetEvent({
        tenantId,
        agentId,
        kind,
        reason: why,
        by: { ...by, id: by.id || 'unknown' },
        version,
        at,
      });
      await this.recordRefusal({ ...attempt, eventId }, key, 'reset', audit, {
        tenantId,
        agentId,
        breakerKind: kind,
      });
      return forbidden(by, audit);
    }
    return this.write(id, async (current) => {
      const at = this.clock();
      const version = (current?.version ?? 0) + 1;
      const event = breakerResetEvent({ tenantId, agentId, kind, reason: why, by, version, at });
      const audit: AutonomyAuditEvent = {
        auditId: `breaker-reset-request/${event.eventId}/CIRCUIT_BREAKER_RESET`,
        kind: 'CIRCUIT_BREAKER_RESET',
        tenantId,
        actor: by.id,
        occurredAt: at.toISOString(),
        summary: `reset of ${what} requested by ${by.id}`,
        attributes: {
          ...attributes,
          operation: 'reset',
          version: String(version),
          event_id: event.eventId,
        },
      };
      const doc: ControlDoc = {
        id,
        kind: 'breaker',
        key,
        tenantId,
        agentId,
        breakerKind: kind,
        operation: 'reset',
        reason: why,
        actor: by.id,
        at,
        eventId: event.eventId,
      };
      return { doc, version, event, audit };
    });
  }

  /** The kill switches in force, from the documents (the source of truth for the API). */
  async list(): Promise<ListedKillSwitch[]> {
    const out: ListedKillSwitch[] = [];
    let after: string | undefined;
    for (;;) {
      const filter: Filter<ControlDoc> = after
        ? { kind: 'kill_switch', active: true, id: { $gt: after } }
        : { kind: 'kill_switch', active: true };
      const page = await this.store.find(CONTROL_TENANT, filter, {
        limit: MAX_FIND_LIMIT,
        sort: { id: 1 },
      });
      for (const doc of page) {
        const listed = listedOf(doc);
        if (listed) out.push(listed);
      }
      if (page.length < MAX_FIND_LIMIT) break;
      after = page[page.length - 1].id;
    }
    return out.sort((a, b) => compare(killSwitchKey(a), killSwitchKey(b)));
  }

  private async changeKillSwitch(
    principal: Principal,
    rawTarget: KillSwitchTarget,
    change: KillSwitchChange,
    reason: string,
  ): Promise<ControlAdminResult> {
    const problem = targetProblem(rawTarget) ?? reasonProblem(reason);
    if (problem) return invalid(problem);
    const target = compactTarget(rawTarget);
    const by = normalizePrincipal(principal);
    const why = reason.trim();
    const key = killSwitchKey(target);
    const id = `kill-switch/${hashOf(key)}`;
    if (!this.board.canControl(by, target)) {
      const at = this.clock();
      const version = ((await this.store.get(CONTROL_TENANT, id))?.version ?? 0) + 1;
      const attempt = killSwitchEvent({
        change,
        target,
        reason: why,
        by: { ...by, id: by.id || 'unknown' },
        version,
        at,
      });
      const eventId = refusedEventId(attempt.change?.$case ?? '', key, by, at, version);
      const audit = boardAudit({ ...attempt, eventId }, false);
      if (isControlEventProblem(audit)) return invalid(audit.problem);
      await this.recordRefusal({ ...attempt, eventId }, key, change.type, audit, {
        scope: target.scope,
        tenantId: target.tenantId,
        agentId: target.agentId,
        actionType: target.actionType,
      });
      return forbidden(by, audit);
    }
    return this.write(id, async (current) => {
      const at = this.clock();
      const version = (current?.version ?? 0) + 1;
      const event = killSwitchEvent({ change, target, reason: why, by, version, at });
      const audit = boardAudit(event, true);
      if (isControlEventProblem(audit)) return audit;
      const doc: ControlDoc = {
        id,
        kind: 'kill_switch',
        key,
        scope: target.scope,
        tenantId: target.tenantId,
        agentId: target.agentId,
        actionType: target.actionType,
        active: change.type === 'set',
        mode: change.type === 'set' ? change.mode : undefined,
        operation: change.type,
        reason: why,
        actor: by.id,
        at,
        eventId: event.eventId,
      };
      return { doc, version, event, audit };
    });
  }

  /**
   * One compare-and-set write of document `id` with the event and its audit record in its
   * outbox; on a lost race the change is planned again from a fresh read (next version).
   */
  private async write(
    id: string,
    plan: (current: Versioned<ControlDoc> | null) => Promise<
      | {
          doc: ControlDoc;
          version: number;
          event: PolicyControlEvent;
          audit: AutonomyAuditEvent;
        }
      | { problem: string }
    >,
  ): Promise<ControlAdminResult> {
    let lastConflict: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.store.get(CONTROL_TENANT, id);
      const planned = await plan(current);
      if (isControlEventProblem(planned)) return invalid(planned.problem);
      const { doc, version, event, audit } = planned;
      const outbox: OutboxMessage[] = [
        controlOutboxMessage(event),
        controlAuditOutboxMessage(audit, event),
      ];
      try {
        const written = current
          ? await this.store.upsert(CONTROL_TENANT, doc, {
              expectVersion: current.version,
              outbox,
            })
          : await this.store.insert(CONTROL_TENANT, doc, { outbox });
        if (written.version !== version)
          throw new Error(
            `${this.store.collection}/${id}: written at version ${written.version}, event says ${version}`,
          );
        return { ok: true, event, audit };
      } catch (e) {
        if (e instanceof ConcurrencyError || e instanceof DuplicateKeyError) {
          lastConflict = e;
          continue;
        }
        throw e;
      }
    }
    throw lastConflict;
  }

  /**
   * A refused attempt: a `refused` document whose outbox carries the refusal's audit record
   * (with the attempted event as payload). Nothing goes to the control topic.
   */
  private async recordRefusal(
    attempt: PolicyControlEvent,
    key: string,
    operation: string,
    audit: AutonomyAuditEvent,
    subject: Pick<ControlDoc, 'scope' | 'tenantId' | 'agentId' | 'actionType' | 'breakerKind'>,
  ): Promise<void> {
    const at = new Date(audit.occurredAt);
    try {
      await this.store.insert(
        CONTROL_TENANT,
        {
          id: `refused/${attempt.eventId}`,
          kind: 'refused',
          key,
          ...subject,
          operation,
          reason: attempt.reason,
          actor: audit.actor,
          at,
          eventId: attempt.eventId,
          refusedAt: at,
        },
        { outbox: [controlAuditOutboxMessage(audit, attempt)] },
      );
    } catch (e) {
      // The same attempt (same principal, target, instant) is already recorded.
      if (!(e instanceof DuplicateKeyError)) throw e;
    }
  }
}

function invalid(problem: string): ControlAdminResult {
  return { ok: false, status: 'invalid', problem };
}

function forbidden(by: Principal, audit: AutonomyAuditEvent): ControlAdminResult {
  return {
    ok: false,
    status: 'forbidden',
    problem: `${by.id || 'unknown principal'} may not change this control`,
    audit,
  };
}

/**
 * The audit event the board produces for this event, from a scratch board that allows (or
 * refuses) everything: the admin's record and the replicas' are then identical (same id). A
 * problem when the board finds the event invalid.
 */
function boardAudit(
  event: PolicyControlEvent,
  allowed: boolean,
): AutonomyAuditEvent | { problem: string } {
  const domain = toKillSwitchControlEvent(event);
  if (isControlEventProblem(domain)) return domain;
  const result = new KillSwitchBoard({ authorizer: allowed ? ALLOW_ALL : DENY_ALL }).apply(domain);
  if (!result.audit) return { problem: result.problem ?? `control event ${result.status}` };
  return result.audit;
}

function hashOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

function refusedEventId(
  change: string,
  key: string,
  by: Principal,
  at: Date,
  version: number,
): string {
  return controlEventId(`refused:${change}`, `${key}|${by.id}|${at.toISOString()}`, version);
}

/** A principal in a shape the authorizer and audit can rely on (anything missing: nothing). */
function normalizePrincipal(p: Principal | undefined): Principal {
  const id = typeof p?.id === 'string' ? p.id : '';
  const roles = Array.isArray(p?.roles)
    ? p.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return {
    id,
    roles,
    ...(typeof p?.tenantId === 'string' && p.tenantId !== '' ? { tenantId: p.tenantId } : {}),
  };
}

function reasonProblem(reason: unknown): string | undefined {
  if (typeof reason !== 'string' || reason.trim() === '')
    return 'a reason is required (it is audited)';
  if (reason.trim().length > MAX_CONTROL_REASON_LENGTH)
    return `reason must be at most ${MAX_CONTROL_REASON_LENGTH} characters`;
  return undefined;
}

function idProblem(name: string, value: unknown, required: boolean): string | undefined {
  if (value === undefined || value === '') return required ? `${name} is required` : undefined;
  if (typeof value !== 'string') return `${name} must be a string`;
  if (value.length > MAX_ID_LENGTH) return `${name} must be at most ${MAX_ID_LENGTH} characters`;
  return undefined;
}

function tenantProblem(value: unknown, required: boolean): string | undefined {
  const problem = idProblem('tenantId', value, required);
  if (problem || value === undefined || value === '') return problem;
  if (!isTenantId(value)) return `invalid tenant id ${JSON.stringify(value)}`;
  if (value === SYSTEM_TENANT) return `tenant id ${SYSTEM_TENANT} is reserved`;
  return undefined;
}

function targetProblem(target: KillSwitchTarget | undefined): string | undefined {
  if (typeof target !== 'object' || target === null) return 'a kill switch target is required';
  return (
    killSwitchTargetProblem(target) ??
    tenantProblem(target.tenantId, false) ??
    idProblem('agentId', target.agentId, false) ??
    idProblem('actionType', target.actionType, false)
  );
}

function listedOf(doc: Versioned<ControlDoc>): ListedKillSwitch | undefined {
  if (doc.mode !== 'deny' && doc.mode !== 'require_approval') return undefined;
  return {
    ...compactTarget({
      scope: doc.scope as KillSwitchScope,
      tenantId: doc.tenantId,
      agentId: doc.agentId,
      actionType: doc.actionType,
    }),
    mode: doc.mode,
    reason: doc.reason,
    setBy: doc.actor,
    setAt: doc.at.toISOString(),
    version: doc.version,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
