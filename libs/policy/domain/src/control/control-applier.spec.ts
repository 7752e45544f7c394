import { PolicyControlEvent, Verdict } from '@mandate/contracts';
import { CircuitBreakers, type OpenBreaker } from '../autonomy/circuit-breakers';
import type { Principal } from '../autonomy/control-authorizer';
import { KillSwitchBoard, type KillSwitchTarget } from '../autonomy/kill-switch.board';
import { ControlApplier } from './control-applier';
import { breakerResetEvent, breakerTripEvent, killSwitchEvent } from './control-events';

const ADMIN: Principal = { id: 'admin-1', roles: ['policy-admin'] };
const ACME_SUPERVISOR: Principal = { id: 'sup-acme', roles: ['supervisor'], tenantId: 'acme' };
const AT = '2025-03-01T09:00:00.000Z';
const ACME: KillSwitchTarget = { scope: 'tenant', tenantId: 'acme' };

function setup(onBundleEvent?: (e: PolicyControlEvent) => void) {
  const board = new KillSwitchBoard();
  const breakers = new CircuitBreakers();
  return { board, breakers, applier: new ControlApplier(board, breakers, onBundleEvent) };
}

function set(version: number, by: Principal = ADMIN, target: KillSwitchTarget = ACME) {
  return killSwitchEvent({
    change: { type: 'set', mode: 'deny' },
    target,
    reason: 'incident',
    by,
    version,
    at: AT,
  });
}

function clear(version: number, by: Principal = ADMIN, target: KillSwitchTarget = ACME) {
  return killSwitchEvent({
    change: { type: 'clear' },
    target,
    reason: 'over',
    by,
    version,
    at: AT,
  });
}

const TRIP: OpenBreaker = {
  kind: 'error_spike',
  tenantId: 'acme',
  agentId: 'deal-bot',
  reason: '3 execution failures within 10 min',
  trippedAt: '2025-03-01T08:30:00.000Z',
  demoteTo: Verdict.VERDICT_DENY,
};

function reset(version: number, by: Principal = ADMIN, at = AT) {
  return breakerResetEvent({
    tenantId: 'acme',
    agentId: 'deal-bot',
    kind: 'error_spike',
    reason: 'fixed',
    by,
    version,
    at,
  });
}

describe('ControlApplier', () => {
  describe('kill switches', () => {
    it('applies set and clear, with the board audit events', () => {
      const t = setup();
      expect(t.applier.apply(set(1))).toEqual({
        status: 'applied',
        audits: [expect.objectContaining({ kind: 'KILL_SWITCH_SET', actor: 'admin-1' })],
      });
      expect(t.board.check('acme', 'bot', 'x')).toMatchObject({ mode: 'deny', setBy: 'admin-1' });
      expect(t.applier.apply(clear(2))).toMatchObject({
        status: 'applied',
        audits: [expect.objectContaining({ kind: 'KILL_SWITCH_CLEARED' })],
      });
      expect(t.board.check('acme', 'bot', 'x')).toBeUndefined();
    });

    it('refuses a forged event (roles without policy-admin) and changes nothing', () => {
      const t = setup();
      const forged = [
        set(1, { id: 'mallory', roles: ['reviewer'] }),
        set(2, { id: 'mallory', roles: ['supervisor'], tenantId: 'globex' }),
        set(3, { id: 'mallory', roles: ['supervisor'], tenantId: 'acme' }, { scope: 'global' }),
        set(4, { id: '', roles: ['policy-admin'] }),
      ];
      for (const e of forged) {
        const r = t.applier.apply(e);
        expect(r.status).toBe('refused');
        expect(r.audits).toEqual([expect.objectContaining({ kind: 'KILL_SWITCH_REFUSED' })]);
      }
      expect(t.board.list()).toEqual([]);
    });

    it('accepts a supervisor within their tenant', () => {
      const t = setup();
      expect(t.applier.apply(set(1, ACME_SUPERVISOR)).status).toBe('applied');
    });

    it('ignores a stale version and a duplicate', () => {
      const t = setup();
      const v1 = set(1);
      expect(t.applier.apply(clear(2)).status).toBe('applied');
      expect(t.applier.apply(v1)).toEqual({ status: 'stale', audits: [] });
      expect(t.board.list()).toEqual([]); // a stale set does not resurrect the switch
      const v3 = set(3);
      expect(t.applier.apply(v3).status).toBe('applied');
      expect(t.applier.apply(v3)).toEqual({ status: 'duplicate', audits: [] });
      expect(t.applier.apply({ ...v3 }).status).toBe('duplicate');
    });

    it('reports an invalid target or mode (the board validates)', () => {
      const t = setup();
      const bad = PolicyControlEvent.fromPartial({
        ...set(1),
        change: {
          $case: 'killSwitchSet',
          value: { scope: 'tenant', tenantId: '', mode: 'deny' },
        },
      });
      expect(t.applier.apply(bad)).toMatchObject({
        status: 'invalid',
        problem: 'tenant scope requires tenantId',
      });
    });
  });

  describe('breakers', () => {
    it('opens a breaker tripped elsewhere, once', () => {
      const t = setup();
      const e = breakerTripEvent(TRIP);
      expect(t.applier.apply(e)).toEqual({ status: 'applied', audits: [] });
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([TRIP]);
      expect(t.applier.apply(e).status).toBe('duplicate');
      // Another announcement of a breaker that is already open changes nothing.
      const later = breakerTripEvent({ ...TRIP, trippedAt: '2025-03-01T08:40:00.000Z' });
      expect(t.applier.apply(later).status).toBe('duplicate');
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([TRIP]);
    });

    it('accepts a trip announced without a version (the trip time orders it)', () => {
      const t = setup();
      const e = PolicyControlEvent.fromPartial({
        eventId: `breaker-trip/acme/deal-bot/error_spike/${TRIP.trippedAt}`,
        version: '0',
        actor: 'policy',
        reason: TRIP.reason,
        occurredAt: TRIP.trippedAt,
        change: {
          $case: 'breakerTripped',
          value: {
            breaker: { tenantId: 'acme', agentId: 'deal-bot', kind: 'error_spike' },
            reason: TRIP.reason,
            demoteTo: Verdict.VERDICT_DENY,
          },
        },
      });
      expect(t.applier.apply(e).status).toBe('applied');
      expect(t.breakers.openBreakers()).toEqual([TRIP]);
    });

    it('closes on an authorised reset; refuses a forged one', () => {
      const t = setup();
      t.applier.apply(breakerTripEvent(TRIP));
      const forged = reset(1, { id: 'mallory', roles: ['supervisor'], tenantId: 'globex' });
      expect(t.applier.apply(forged)).toMatchObject({
        status: 'refused',
        audits: [expect.objectContaining({ kind: 'CIRCUIT_BREAKER_RESET_REFUSED' })],
      });
      expect(t.breakers.openBreakers()).toHaveLength(1);
      expect(t.applier.apply(reset(2, ACME_SUPERVISOR))).toMatchObject({
        status: 'applied',
        audits: [expect.objectContaining({ kind: 'CIRCUIT_BREAKER_RESET', occurredAt: AT })],
      });
      expect(t.breakers.openBreakers()).toEqual([]);
    });

    it('ignores a duplicate or stale reset, and a trip older than the last reset', () => {
      const t = setup();
      t.applier.apply(breakerTripEvent(TRIP));
      const r2 = reset(2);
      expect(t.applier.apply(r2).status).toBe('applied');
      expect(t.applier.apply(r2).status).toBe('duplicate');
      expect(t.applier.apply(reset(1)).status).toBe('stale');
      // A trip from before the reset, arriving late, does not reopen the breaker.
      const early = breakerTripEvent({ ...TRIP, trippedAt: '2025-03-01T08:59:00.000Z' });
      expect(t.applier.apply(early).status).toBe('stale');
      expect(t.breakers.openBreakers()).toEqual([]);
      // A new trip after the reset does.
      const next = breakerTripEvent({ ...TRIP, trippedAt: '2025-03-01T09:05:00.000Z' });
      expect(t.applier.apply(next).status).toBe('applied');
      expect(t.breakers.openBreakers()).toHaveLength(1);
    });

    it('applies a reset of a breaker that is not open here (nothing to close)', () => {
      const t = setup();
      expect(t.applier.apply(reset(1))).toEqual({ status: 'applied', audits: [] });
    });
  });

  it('hands bundle events over and reports them ignored', () => {
    const seen: string[] = [];
    const t = setup((e) => seen.push(e.change?.$case ?? ''));
    const bundle = PolicyControlEvent.fromPartial({
      eventId: 'b1',
      version: '1',
      occurredAt: AT,
      change: { $case: 'bundleActivated', value: { version: '7', contentHash: 'sha256:00' } },
    });
    const shadow = PolicyControlEvent.fromPartial({
      ...bundle,
      eventId: 'b2',
      change: { $case: 'shadowSet', value: { version: '8', contentHash: 'sha256:01' } },
    });
    expect(t.applier.apply(bundle)).toMatchObject({ status: 'ignored', audits: [] });
    expect(t.applier.apply(shadow)).toMatchObject({ status: 'ignored', audits: [] });
    expect(seen).toEqual(['bundleActivated', 'shadowSet']);
    expect(setup().applier.apply(bundle).status).toBe('ignored'); // no handler: fine
  });

  it('never throws on malformed input', () => {
    const t = setup();
    const ok = set(1);
    const garbage: unknown[] = [
      null,
      undefined,
      42,
      'event',
      {},
      { change: null },
      { change: { $case: 'killSwitchSet' } },
      { change: { $case: 'breakerReset', value: null } },
      { change: { $case: 'breakerTripped', value: { breaker: null } } },
      { change: { $case: 'teleport', value: {} } },
      { ...ok, version: 'x' },
      { ...ok, version: '0' },
      { ...ok, occurredAt: 'soon' },
      { ...ok, actorRoles: 'policy-admin', eventId: 'odd-roles' },
      { ...ok, change: { $case: 'killSwitchSet', value: { scope: 7 } }, eventId: 'odd-scope' },
      { ...reset(1), change: { $case: 'breakerReset', value: { tenantId: 'a', agentId: 'b' } } },
      {
        ...breakerTripEvent(TRIP),
        change: { $case: 'breakerTripped', value: { breaker: { tenantId: 'a' } } },
      },
    ];
    for (const e of garbage) {
      const r = t.applier.apply(e as PolicyControlEvent);
      expect(['invalid', 'ignored', 'refused']).toContain(r.status);
      expect(Array.isArray(r.audits)).toBe(true);
    }
    expect(t.applier.apply({} as PolicyControlEvent)).toMatchObject({
      status: 'invalid',
      problem: 'control event carries no change',
    });
    expect(t.applier.apply({ ...ok, version: 'x' }).status).toBe('invalid');
    expect(t.board.list()).toEqual([]);
    expect(t.breakers.openBreakers()).toEqual([]);
  });

  it('rebuilds the same state when the whole log is replayed on a fresh replica', () => {
    const log = [
      set(1),
      set(1, ADMIN, { scope: 'global' }),
      breakerTripEvent(TRIP),
      clear(2),
      reset(1, ACME_SUPERVISOR),
      breakerTripEvent({ ...TRIP, kind: 'action_rate', trippedAt: '2025-03-01T09:10:00.000Z' }),
      set(3, { id: 'mallory', roles: [] }),
    ];
    const a = setup();
    const statuses = log.map((e) => a.applier.apply(e).status);
    expect(statuses).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'refused',
    ]);
    const b = setup();
    for (const e of log) b.applier.apply(e);
    expect(b.board.list()).toEqual(a.board.list());
    expect(b.breakers.openBreakers()).toEqual(a.breakers.openBreakers());
    expect(b.breakers.openBreakers().map((o) => o.kind)).toEqual(['action_rate']);
    // Redelivery of the whole log to a running replica changes nothing.
    expect(new Set(log.map((e) => a.applier.apply(e).status))).toEqual(new Set(['duplicate']));
  });
});
