import { createHash } from 'node:crypto';
import { PolicyControlEvent } from '@mandate/contracts';
import { BREAKER_KINDS, type BreakerKind, type OpenBreaker } from '../autonomy/circuit-breakers';
import type { Principal } from '../autonomy/control-authorizer';
import {
  killSwitchKey,
  type KillSwitchControlEvent,
  type KillSwitchMode,
  type KillSwitchTarget,
} from '../autonomy/kill-switch.board';
import { normalizeVerdict } from '../autonomy/verdict-order';

// Pure mapping between the wire form of a control event (`mandate.v1.PolicyControlEvent`, what
// the control topic carries) and the autonomy domain (KillSwitchBoard, CircuitBreakers). No I/O,
// no clock: the same input always gives the same output, ids included.

/** Why an event (or part of one) cannot be used. */
export interface ControlEventProblem {
  readonly problem: string;
}

export function isControlEventProblem(value: unknown): value is ControlEventProblem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { problem?: unknown }).problem === 'string'
  );
}

/** A breaker reset as carried by a control event. */
export interface BreakerResetRequest {
  readonly eventId: string;
  readonly version: number;
  readonly tenantId: string;
  readonly agentId: string;
  readonly kind: BreakerKind;
  readonly reason: string;
  readonly by: Principal;
  /** ISO 8601. */
  readonly at: string;
}

/** A breaker trip as carried by a control event. */
export interface BreakerTripNotice {
  readonly eventId: string;
  readonly version: number;
  readonly trip: OpenBreaker;
}

const UINT = /^[0-9]{1,16}$/;

/** The proto's uint64 version (a decimal string) as a positive safe integer, or undefined. */
export function parseControlVersion(version: unknown): number | undefined {
  const text = typeof version === 'number' ? String(version) : version;
  if (typeof text !== 'string' || !UINT.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/**
 * The proto spells the error breaker "error_rate"; the domain calls it "error_spike". Both are
 * accepted on the way in; the builders write the domain name.
 */
const BREAKER_KIND_ALIASES: Readonly<Record<string, BreakerKind>> = { error_rate: 'error_spike' };

/** A breaker kind from the wire (aliases accepted), or undefined when unknown. */
export function parseBreakerKind(kind: unknown): BreakerKind | undefined {
  if (typeof kind !== 'string') return undefined;
  if ((BREAKER_KINDS as readonly string[]).includes(kind)) return kind as BreakerKind;
  return Object.prototype.hasOwnProperty.call(BREAKER_KIND_ALIASES, kind)
    ? BREAKER_KIND_ALIASES[kind]
    : undefined;
}

/** The acting principal an event claims (each replica authorises it again). */
export function principalOf(e: PolicyControlEvent): Principal {
  const roles = Array.isArray(e?.actorRoles)
    ? e.actorRoles.filter((r): r is string => typeof r === 'string')
    : [];
  return {
    id: typeof e?.actor === 'string' ? e.actor : '',
    roles,
    ...(typeof e?.actorTenantId === 'string' && e.actorTenantId !== ''
      ? { tenantId: e.actorTenantId }
      : {}),
  };
}

interface CommonFields {
  readonly eventId: string;
  readonly version: number;
  readonly at: string;
}

/**
 * `versionFromTime`: an unset version ("0" or empty) is taken from `occurredAt` (ms). Trips
 * are announced by the replica that tripped the breaker, which has no document to version them
 * by; the trip time orders them per breaker.
 */
function commonFields(
  e: PolicyControlEvent,
  versionFromTime = false,
): CommonFields | ControlEventProblem {
  if (typeof e !== 'object' || e === null) return { problem: 'control event is not an object' };
  if (typeof e.eventId !== 'string' || e.eventId === '')
    return { problem: 'control event needs an eventId' };
  if (typeof e.occurredAt !== 'string' || Number.isNaN(Date.parse(e.occurredAt)))
    return { problem: 'occurredAt must be an ISO 8601 instant' };
  const unset = e.version === '0' || e.version === '' || e.version === undefined;
  const version =
    versionFromTime && unset
      ? parseControlVersion(Date.parse(e.occurredAt))
      : parseControlVersion(e.version);
  if (version === undefined)
    return { problem: `version must be a positive integer, got ${JSON.stringify(e.version)}` };
  return { eventId: e.eventId, version, at: e.occurredAt };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A wire kill switch target in domain form: empty ids are absent. */
function targetOf(value: {
  scope?: unknown;
  tenantId?: unknown;
  agentId?: unknown;
  actionType?: unknown;
}): KillSwitchTarget {
  const tenantId = text(value.tenantId);
  const agentId = text(value.agentId);
  const actionType = text(value.actionType);
  return {
    scope: value.scope as KillSwitchTarget['scope'],
    ...(tenantId ? { tenantId } : {}),
    ...(agentId ? { agentId } : {}),
    ...(actionType ? { actionType } : {}),
  };
}

/**
 * The kill switch change an event carries, for `KillSwitchBoard.apply` (which validates the
 * target, mode and reason and authorises the principal). A problem when the event is not a
 * kill switch change or lacks what every event needs (id, version, time).
 */
export function toKillSwitchControlEvent(
  e: PolicyControlEvent,
): KillSwitchControlEvent | ControlEventProblem {
  const common = commonFields(e);
  if (isControlEventProblem(common)) return common;
  const change = e.change;
  if (change?.$case !== 'killSwitchSet' && change?.$case !== 'killSwitchCleared')
    return { problem: `not a kill switch change (${String(change?.$case ?? 'empty')})` };
  if (typeof change.value !== 'object' || change.value === null)
    return { problem: 'kill switch change has no target' };
  const base = {
    eventId: common.eventId,
    version: common.version,
    target: targetOf(change.value),
    reason: typeof e.reason === 'string' ? e.reason : '',
    by: principalOf(e),
    at: common.at,
  };
  return change.$case === 'killSwitchSet'
    ? { ...base, type: 'set', mode: change.value.mode as KillSwitchMode }
    : { ...base, type: 'clear' };
}

/** The breaker reset an event carries; a problem when malformed or not a reset. */
export function toBreakerReset(e: PolicyControlEvent): BreakerResetRequest | ControlEventProblem {
  const common = commonFields(e);
  if (isControlEventProblem(common)) return common;
  if (e.change?.$case !== 'breakerReset') return { problem: 'not a breaker reset' };
  const ref = e.change.value;
  const tenantId = text(ref?.tenantId);
  const agentId = text(ref?.agentId);
  if (!tenantId || !agentId) return { problem: 'breaker reset needs tenantId and agentId' };
  const kind = parseBreakerKind(ref.kind);
  if (!kind) return { problem: `unknown breaker kind ${JSON.stringify(ref.kind)}` };
  return {
    eventId: common.eventId,
    version: common.version,
    tenantId,
    agentId,
    kind,
    reason: typeof e.reason === 'string' ? e.reason : '',
    by: principalOf(e),
    at: common.at,
  };
}

/**
 * The breaker trip an event carries; a problem when malformed or not a trip. The trip time is
 * the event's `occurredAt`, which is also the version when none is set ("0"); an unknown
 * demote-to verdict reads as DENY (fail closed).
 */
export function toBreakerTrip(e: PolicyControlEvent): BreakerTripNotice | ControlEventProblem {
  const common = commonFields(e, true);
  if (isControlEventProblem(common)) return common;
  if (e.change?.$case !== 'breakerTripped') return { problem: 'not a breaker trip' };
  const trip = e.change.value;
  const tenantId = text(trip?.breaker?.tenantId);
  const agentId = text(trip?.breaker?.agentId);
  if (!tenantId || !agentId) return { problem: 'breaker trip needs tenantId and agentId' };
  const kind = parseBreakerKind(trip.breaker?.kind);
  if (!kind) return { problem: `unknown breaker kind ${JSON.stringify(trip.breaker?.kind)}` };
  return {
    eventId: common.eventId,
    version: common.version,
    trip: {
      kind,
      tenantId,
      agentId,
      reason: typeof trip.reason === 'string' && trip.reason !== '' ? trip.reason : 'tripped',
      trippedAt: common.at,
      demoteTo: normalizeVerdict(trip.demoteTo),
    },
  };
}

/** Deterministic event id: the same change (kind, subject, version) always gets the same id. */
export function controlEventId(change: string, subject: string, version: number): string {
  return createHash('sha256')
    .update(['policy-control', change, subject, String(version)].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

/** Key of one breaker (tenant × agent × kind), e.g. for its control document. */
export function breakerKey(tenantId: string, agentId: string, kind: BreakerKind): string {
  return ['breaker', tenantId, agentId, kind].join('|');
}

function isoOf(at: Date | string): string {
  return typeof at === 'string' ? new Date(at).toISOString() : at.toISOString();
}

function actorFields(by: Principal) {
  return {
    actor: by.id,
    actorRoles: [...by.roles],
    actorTenantId: by.tenantId ?? '',
  };
}

export type KillSwitchChange =
  { readonly type: 'set'; readonly mode: KillSwitchMode } | { readonly type: 'clear' };

export interface KillSwitchEventInput {
  readonly change: KillSwitchChange;
  readonly target: KillSwitchTarget;
  readonly reason: string;
  readonly by: Principal;
  /** Monotonic per target: the version of the switch's document after the change. */
  readonly version: number;
  readonly at: Date | string;
}

/** A kill switch set/clear as a control event (id derived from target key, change and version). */
export function killSwitchEvent(input: KillSwitchEventInput): PolicyControlEvent {
  const { change, target: t } = input;
  const $case = change.type === 'set' ? 'killSwitchSet' : 'killSwitchCleared';
  return PolicyControlEvent.fromPartial({
    eventId: controlEventId($case, killSwitchKey(t), input.version),
    version: String(input.version),
    ...actorFields(input.by),
    reason: input.reason,
    occurredAt: isoOf(input.at),
    change: {
      $case,
      value: {
        scope: t.scope,
        tenantId: t.tenantId ?? '',
        agentId: t.agentId ?? '',
        actionType: t.actionType ?? '',
        mode: change.type === 'set' ? change.mode : '',
      },
    },
  });
}

export interface BreakerResetEventInput {
  readonly tenantId: string;
  readonly agentId: string;
  readonly kind: BreakerKind;
  readonly reason: string;
  readonly by: Principal;
  /** Monotonic per breaker: the version of its control document after the reset. */
  readonly version: number;
  readonly at: Date | string;
}

/** A breaker reset as a control event (id derived from the breaker and version). */
export function breakerResetEvent(input: BreakerResetEventInput): PolicyControlEvent {
  return PolicyControlEvent.fromPartial({
    eventId: controlEventId(
      'breakerReset',
      breakerKey(input.tenantId, input.agentId, input.kind),
      input.version,
    ),
    version: String(input.version),
    ...actorFields(input.by),
    reason: input.reason,
    occurredAt: isoOf(input.at),
    change: {
      $case: 'breakerReset',
      value: { tenantId: input.tenantId, agentId: input.agentId, kind: input.kind },
    },
  });
}

/** Actor of a trip event: the policy service itself, with no roles. */
export const BREAKER_TRIP_ACTOR = 'policy';

/**
 * A local trip (from `CircuitBreakers.observe`/`state`) as a control event, so every replica
 * demotes the tenant × agent. Version = the trip time in ms (a later trip of the same breaker
 * is newer); id derived from the breaker and that time, so re-announcing the same trip (e.g.
 * after a crash) yields the same event.
 */
export function breakerTripEvent(open: OpenBreaker): PolicyControlEvent {
  const version = Date.parse(open.trippedAt);
  if (!Number.isSafeInteger(version) || version < 1)
    throw new RangeError(`breaker trip has an invalid trippedAt ${JSON.stringify(open.trippedAt)}`);
  return PolicyControlEvent.fromPartial({
    eventId: controlEventId(
      'breakerTripped',
      breakerKey(open.tenantId, open.agentId, open.kind),
      version,
    ),
    version: String(version),
    actor: BREAKER_TRIP_ACTOR,
    actorRoles: [],
    actorTenantId: '',
    reason: open.reason,
    occurredAt: open.trippedAt,
    change: {
      $case: 'breakerTripped',
      value: {
        breaker: { tenantId: open.tenantId, agentId: open.agentId, kind: open.kind },
        reason: open.reason,
        demoteTo: normalizeVerdict(open.demoteTo),
      },
    },
  });
}
