import { PolicyControlEvent, Verdict } from '@mandate/contracts';
import type { OpenBreaker } from '../autonomy/circuit-breakers';
import type { Principal } from '../autonomy/control-authorizer';
import {
  breakerResetEvent,
  breakerTripEvent,
  isControlEventProblem,
  killSwitchEvent,
  parseBreakerKind,
  parseControlVersion,
  principalOf,
  toBreakerReset,
  toBreakerTrip,
  toKillSwitchControlEvent,
} from './control-events';

const ADMIN: Principal = { id: 'admin-1', roles: ['policy-admin'] };
const SUPERVISOR: Principal = { id: 'sup-acme', roles: ['supervisor'], tenantId: 'acme' };
const AT = '2025-03-01T09:00:00.000Z';

/** Through the wire: what a replica actually reads. */
function wire(e: PolicyControlEvent): PolicyControlEvent {
  return PolicyControlEvent.decode(PolicyControlEvent.encode(e).finish());
}

describe('control events', () => {
  describe('kill switch', () => {
    it('round-trips set and clear through the wire form', () => {
      const set = killSwitchEvent({
        change: { type: 'set', mode: 'deny' },
        target: { scope: 'agent', tenantId: 'acme', agentId: 'deal-bot' },
        reason: 'runaway agent',
        by: SUPERVISOR,
        version: 3,
        at: new Date(AT),
      });
      expect(set).toMatchObject({
        version: '3',
        actor: 'sup-acme',
        actorRoles: ['supervisor'],
        actorTenantId: 'acme',
        occurredAt: AT,
        change: {
          $case: 'killSwitchSet',
          value: { scope: 'agent', tenantId: 'acme', agentId: 'deal-bot', actionType: '' },
        },
      });
      expect(toKillSwitchControlEvent(wire(set))).toEqual({
        type: 'set',
        eventId: set.eventId,
        version: 3,
        target: { scope: 'agent', tenantId: 'acme', agentId: 'deal-bot' },
        mode: 'deny',
        reason: 'runaway agent',
        by: SUPERVISOR,
        at: AT,
      });
      const clear = killSwitchEvent({
        change: { type: 'clear' },
        target: { scope: 'global' },
        reason: 'incident over',
        by: ADMIN,
        version: 4,
        at: AT,
      });
      expect(toKillSwitchControlEvent(wire(clear))).toEqual({
        type: 'clear',
        eventId: clear.eventId,
        version: 4,
        target: { scope: 'global' },
        reason: 'incident over',
        by: ADMIN, // no actorTenantId → no tenantId
        at: AT,
      });
    });

    it('derives deterministic event ids from change, target and version', () => {
      const input = {
        change: { type: 'set', mode: 'deny' } as const,
        target: { scope: 'tenant', tenantId: 'acme' } as const,
        reason: 'r',
        by: ADMIN,
        version: 1,
        at: AT,
      };
      const id = killSwitchEvent(input).eventId;
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(killSwitchEvent({ ...input, reason: 'other', at: new Date(0) }).eventId).toBe(id);
      expect(killSwitchEvent({ ...input, version: 2 }).eventId).not.toBe(id);
      expect(killSwitchEvent({ ...input, change: { type: 'clear' } }).eventId).not.toBe(id);
      expect(
        killSwitchEvent({ ...input, target: { scope: 'tenant', tenantId: 'globex' } }).eventId,
      ).not.toBe(id);
    });

    it('reports what is missing instead of throwing', () => {
      const ok = killSwitchEvent({
        change: { type: 'set', mode: 'deny' },
        target: { scope: 'global' },
        reason: 'r',
        by: ADMIN,
        version: 1,
        at: AT,
      });
      const cases: [unknown, RegExp][] = [
        [null, /not an object/],
        [{ ...ok, eventId: '' }, /eventId/],
        [{ ...ok, version: '0' }, /version/],
        [{ ...ok, version: '-1' }, /version/],
        [{ ...ok, version: 'x' }, /version/],
        [{ ...ok, version: '9007199254740993' }, /version/],
        [{ ...ok, occurredAt: undefined }, /occurredAt/],
        [{ ...ok, occurredAt: 'yesterday' }, /occurredAt/],
        [{ ...ok, change: undefined }, /not a kill switch change/],
        [{ ...ok, change: { $case: 'breakerReset', value: {} } }, /not a kill switch change/],
        [{ ...ok, change: { $case: 'killSwitchSet', value: null } }, /no target/],
      ];
      for (const [e, problem] of cases) {
        const r = toKillSwitchControlEvent(e as PolicyControlEvent);
        expect(isControlEventProblem(r) && r.problem).toMatch(problem);
      }
    });

    it('leaves target and mode validation to the board (passes them through)', () => {
      const e = PolicyControlEvent.fromPartial({
        eventId: 'e1',
        version: '1',
        actor: 'x',
        occurredAt: AT,
        change: { $case: 'killSwitchSet', value: { scope: 'planet', mode: 'maybe' } },
      });
      expect(toKillSwitchControlEvent(e)).toMatchObject({
        target: { scope: 'planet' },
        mode: 'maybe',
        by: { id: 'x', roles: [] },
      });
    });
  });

  it('parses versions and principals defensively', () => {
    expect(parseControlVersion('12')).toBe(12);
    expect(parseControlVersion(7)).toBe(7);
    for (const bad of ['0', '', '1.5', ' 1', '1e3', undefined, null, -3])
      expect(parseControlVersion(bad)).toBeUndefined();
    expect(
      principalOf({
        actor: 'a',
        actorRoles: ['supervisor', 3 as unknown as string],
        actorTenantId: 'acme',
      } as PolicyControlEvent),
    ).toEqual({ id: 'a', roles: ['supervisor'], tenantId: 'acme' });
    expect(principalOf({} as PolicyControlEvent)).toEqual({ id: '', roles: [] });
  });

  describe('breaker reset', () => {
    it('round-trips and accepts the proto spelling "error_rate"', () => {
      const e = breakerResetEvent({
        tenantId: 'acme',
        agentId: 'deal-bot',
        kind: 'error_spike',
        reason: 'CRM outage over',
        by: SUPERVISOR,
        version: 2,
        at: AT,
      });
      expect(toBreakerReset(wire(e))).toEqual({
        eventId: e.eventId,
        version: 2,
        tenantId: 'acme',
        agentId: 'deal-bot',
        kind: 'error_spike',
        reason: 'CRM outage over',
        by: SUPERVISOR,
        at: AT,
      });
      expect(parseBreakerKind('error_rate')).toBe('error_spike');
      expect(parseBreakerKind('toString')).toBeUndefined();
      const alias = {
        ...e,
        change: {
          $case: 'breakerReset' as const,
          value: { tenantId: 'acme', agentId: 'a', kind: 'error_rate' },
        },
      };
      expect(toBreakerReset(alias)).toMatchObject({ kind: 'error_spike' });
      const unknown = {
        ...alias,
        change: { ...alias.change, value: { ...alias.change.value, kind: 'mood' } },
      };
      expect(toBreakerReset(unknown)).toEqual({ problem: 'unknown breaker kind "mood"' });
      const noAgent = {
        ...alias,
        change: { ...alias.change, value: { ...alias.change.value, agentId: '' } },
      };
      expect(isControlEventProblem(toBreakerReset(noAgent))).toBe(true);
    });
  });

  describe('breaker trip', () => {
    const open: OpenBreaker = {
      kind: 'rejection_rate',
      tenantId: 'acme',
      agentId: 'deal-bot',
      reason: '4 of 6 reviews rejected within 60 min',
      trippedAt: AT,
      demoteTo: Verdict.VERDICT_APPROVE_1,
    };

    it('round-trips, versioned by the trip time, with a deterministic id', () => {
      const e = breakerTripEvent(open);
      expect(e).toMatchObject({ version: String(Date.parse(AT)), actor: 'policy', actorRoles: [] });
      expect(breakerTripEvent({ ...open }).eventId).toBe(e.eventId);
      expect(toBreakerTrip(wire(e))).toEqual({
        eventId: e.eventId,
        version: Date.parse(AT),
        trip: open,
      });
      expect(() => breakerTripEvent({ ...open, trippedAt: 'never' })).toThrow(RangeError);
    });

    it('takes an unset version from the trip time and fails closed on an unknown verdict', () => {
      const e = PolicyControlEvent.fromPartial({
        eventId: 'breaker-trip/acme/deal-bot/error_spike/' + AT,
        version: '0',
        actor: 'policy',
        occurredAt: AT,
        change: {
          $case: 'breakerTripped',
          value: {
            breaker: { tenantId: 'acme', agentId: 'deal-bot', kind: 'error_spike' },
            reason: '',
            demoteTo: 99 as Verdict,
          },
        },
      });
      expect(toBreakerTrip(e)).toMatchObject({
        version: Date.parse(AT),
        trip: { kind: 'error_spike', demoteTo: Verdict.VERDICT_DENY, reason: 'tripped' },
      });
      // A kill switch event's version is never taken from the time.
      expect(
        isControlEventProblem(
          toKillSwitchControlEvent({
            ...e,
            change: {
              $case: 'killSwitchSet',
              value: { scope: 'global', tenantId: '', agentId: '', actionType: '', mode: 'deny' },
            },
          }),
        ),
      ).toBe(true);
      expect(
        isControlEventProblem(
          toBreakerTrip({
            ...e,
            change: {
              $case: 'breakerTripped',
              value: { breaker: undefined, reason: '', demoteTo: 0 },
            },
          }),
        ),
      ).toBe(true);
    });
  });
});
