import { Verdict } from '@mandate/contracts';
import {
  CircuitBreakers,
  DEFAULT_CIRCUIT_BREAKER_CONFIG,
  type BreakerObservation,
  type OpenBreaker,
} from './circuit-breakers';
import { RoleAuthorizer, type Principal } from './control-authorizer';

const ADMIN: Principal = { id: 'admin-1', roles: ['policy-admin'] };
const ACME_SUPERVISOR: Principal = { id: 'sup-acme', roles: ['supervisor'], tenantId: 'acme' };
const GLOBEX_SUPERVISOR: Principal = {
  id: 'sup-globex',
  roles: ['supervisor'],
  tenantId: 'globex',
};
const REVIEWER: Principal = { id: 'rev-1', roles: ['reviewer'], tenantId: 'acme' };
const MIN = 60_000;

function setup() {
  let now = new Date('2025-03-01T09:00:00Z').getTime();
  const breakers = new CircuitBreakers(
    DEFAULT_CIRCUIT_BREAKER_CONFIG,
    new RoleAuthorizer(),
    () => new Date(now),
  );
  let n = 0;
  const base = (agentId = 'deal-bot', tenantId = 'acme') => ({
    eventId: `ev-${++n}`,
    tenantId,
    agentId,
    at: new Date(now),
  });
  return {
    breakers,
    advance: (ms: number) => (now += ms),
    review: (rejected: boolean, agentId?: string): BreakerObservation => ({
      ...base(agentId),
      type: 'review',
      rejected,
    }),
    execution: (failed: boolean): BreakerObservation => ({ ...base(), type: 'execution', failed }),
    proposal: (tenantId?: string): BreakerObservation => ({
      ...base('deal-bot', tenantId),
      type: 'proposal',
    }),
  };
}

describe('CircuitBreakers', () => {
  describe('rejection-rate spike', () => {
    it('trips at ≥ 50% rejections over ≥ 5 reviews within an hour, with an audit event', () => {
      const t = setup();
      for (const rejected of [true, false, true, false]) {
        expect(t.breakers.observe(t.review(rejected))).toEqual([]);
        t.advance(MIN);
      }
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([]);
      const audits = t.breakers.observe(t.review(true)); // 3 of 5
      expect(audits).toEqual([
        expect.objectContaining({
          kind: 'CIRCUIT_BREAKER_TRIPPED',
          tenantId: 'acme',
          actor: 'policy',
          attributes: expect.objectContaining({
            agent_id: 'deal-bot',
            breaker: 'rejection_rate',
            demote_to: 'APPROVE_1',
          }),
        }),
      ]);
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([
        expect.objectContaining({
          kind: 'rejection_rate',
          demoteTo: Verdict.VERDICT_APPROVE_1,
          reason: '3 of 5 reviews rejected within 60 min',
        }),
      ]);
    });

    it('does not trip below the rate or below the minimum number of reviews', () => {
      const t = setup();
      for (const rejected of [true, true, true, true]) t.breakers.observe(t.review(rejected));
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([]); // 4 reviews only
      const u = setup();
      for (const rejected of [true, true, false, false, false])
        u.breakers.observe(u.review(rejected));
      expect(u.breakers.state('acme', 'deal-bot')).toEqual([]); // 40%
    });

    it('forgets reviews older than the window', () => {
      const t = setup();
      for (let i = 0; i < 4; i++) t.breakers.observe(t.review(true));
      t.advance(61 * MIN);
      t.breakers.observe(t.review(true));
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([]);
    });
  });

  describe('error spike', () => {
    it('trips at 3 execution failures within 10 minutes and demotes to DENY', () => {
      const t = setup();
      t.breakers.observe(t.execution(true));
      t.breakers.observe(t.execution(false));
      t.advance(4 * MIN);
      t.breakers.observe(t.execution(true));
      t.advance(4 * MIN);
      const audits = t.breakers.observe(t.execution(true));
      expect(audits.map((a) => a.attributes['breaker'])).toEqual(['error_spike']);
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([
        expect.objectContaining({ kind: 'error_spike', demoteTo: Verdict.VERDICT_DENY }),
      ]);
    });

    it('does not trip when the failures are spread out', () => {
      const t = setup();
      for (let i = 0; i < 3; i++) {
        t.breakers.observe(t.execution(true));
        t.advance(6 * MIN);
      }
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([]);
    });
  });

  describe('action-rate spike', () => {
    it('trips at more than 30 proposals per minute', () => {
      const t = setup();
      for (let i = 0; i < 30; i++) expect(t.breakers.observe(t.proposal())).toEqual([]);
      expect(t.breakers.observe(t.proposal())).toHaveLength(1);
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([
        expect.objectContaining({ kind: 'action_rate', demoteTo: Verdict.VERDICT_APPROVE_1 }),
      ]);
    });

    it('allows the same volume spread over time', () => {
      const t = setup();
      for (let i = 0; i < 60; i++) {
        t.breakers.observe(t.proposal());
        t.advance(2_500);
      }
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([]);
    });

    it('counts per tenant × agent', () => {
      const t = setup();
      for (let i = 0; i < 20; i++) t.breakers.observe(t.proposal('acme'));
      for (let i = 0; i < 20; i++) t.breakers.observe(t.proposal('globex'));
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([]);
      expect(t.breakers.state('globex', 'deal-bot')).toEqual([]);
    });
  });

  it('does not count a redelivered event twice', () => {
    const t = setup();
    const ev = t.execution(true);
    for (let i = 0; i < 5; i++) t.breakers.observe(ev);
    t.breakers.observe(t.execution(true));
    expect(t.breakers.state('acme', 'deal-bot')).toEqual([]);
  });

  it('ignores events older than every window (a consumer catching up)', () => {
    const t = setup();
    const old = [t.execution(true), t.execution(true), t.execution(true)];
    t.advance(2 * 60 * MIN);
    for (const ev of old) t.breakers.observe(ev);
    expect(t.breakers.state('acme', 'deal-bot')).toEqual([]);
  });

  describe('staying open', () => {
    it('trips once and stays open: no auto-close with time or good behaviour', () => {
      const t = setup();
      for (let i = 0; i < 3; i++) t.breakers.observe(t.execution(true));
      expect(t.breakers.observe(t.execution(true))).toEqual([]); // no second trip event
      t.advance(7 * 24 * 60 * MIN);
      for (let i = 0; i < 20; i++) t.breakers.observe(t.execution(false));
      expect(t.breakers.state('acme', 'deal-bot').map((b) => b.kind)).toEqual(['error_spike']);
    });

    it('refuses a reset by someone not authorised, audits it and stays open', () => {
      const t = setup();
      for (let i = 0; i < 3; i++) t.breakers.observe(t.execution(true));
      for (const who of [REVIEWER, GLOBEX_SUPERVISOR, { id: '', roles: ['policy-admin'] }]) {
        const r = t.breakers.reset('acme', 'deal-bot', 'error_spike', who, 'looked into it');
        expect(r.status).toBe('refused');
        expect(r.audit?.kind).toBe('CIRCUIT_BREAKER_RESET_REFUSED');
      }
      expect(t.breakers.state('acme', 'deal-bot')).toHaveLength(1);
    });

    it('requires a reason for a reset', () => {
      const t = setup();
      for (let i = 0; i < 3; i++) t.breakers.observe(t.execution(true));
      expect(t.breakers.reset('acme', 'deal-bot', 'error_spike', ADMIN, ' ').status).toBe(
        'refused',
      );
      expect(t.breakers.state('acme', 'deal-bot')).toHaveLength(1);
    });

    it.each([
      ['a policy admin', ADMIN],
      ["the tenant's supervisor", ACME_SUPERVISOR],
    ])('closes on a reset by %s, audited, with a fresh window', (_, who) => {
      const t = setup();
      for (let i = 0; i < 3; i++) t.breakers.observe(t.execution(true));
      const r = t.breakers.reset('acme', 'deal-bot', 'error_spike', who, 'CRM outage over');
      expect(r).toEqual({
        status: 'reset',
        audit: expect.objectContaining({
          kind: 'CIRCUIT_BREAKER_RESET',
          actor: who.id,
          tenantId: 'acme',
          attributes: { agent_id: 'deal-bot', breaker: 'error_spike', reason: 'CRM outage over' },
        }),
      });
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([]);
      // The failures that tripped it do not trip it again at once.
      t.breakers.observe(t.execution(true));
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([]);
      t.breakers.observe(t.execution(true));
      expect(t.breakers.observe(t.execution(true))).toHaveLength(1);
    });

    it('resets one breaker at a time and reports not_open for a closed one', () => {
      const t = setup();
      for (let i = 0; i < 3; i++) t.breakers.observe(t.execution(true));
      for (let i = 0; i < 31; i++) t.breakers.observe(t.proposal());
      expect(t.breakers.state('acme', 'deal-bot').map((b) => b.kind)).toEqual([
        'error_spike',
        'action_rate',
      ]);
      expect(
        t.breakers.reset('acme', 'deal-bot', 'action_rate', ADMIN, 'batch import').status,
      ).toBe('reset');
      expect(t.breakers.state('acme', 'deal-bot').map((b) => b.kind)).toEqual(['error_spike']);
      expect(t.breakers.reset('acme', 'deal-bot', 'rejection_rate', ADMIN, 'x')).toEqual({
        status: 'not_open',
      });
    });
  });

  it('refuses a nonsensical config and malformed observations', () => {
    expect(
      () =>
        new CircuitBreakers({
          ...DEFAULT_CIRCUIT_BREAKER_CONFIG,
          rejectionRate: { ...DEFAULT_CIRCUIT_BREAKER_CONFIG.rejectionRate, threshold: 0 },
        }),
    ).toThrow(/rejectionRate\.threshold/);
    const t = setup();
    expect(() => t.breakers.observe({ ...t.proposal(), tenantId: '' })).toThrow(RangeError);
  });

  describe('replicated state (control topic)', () => {
    const trip = (over: Partial<OpenBreaker> = {}): OpenBreaker => ({
      kind: 'error_spike',
      tenantId: 'acme',
      agentId: 'deal-bot',
      reason: '3 execution failures within 10 min',
      trippedAt: '2025-03-01T08:59:00.000Z',
      demoteTo: Verdict.VERDICT_DENY,
      ...over,
    });

    it('opens a breaker tripped by another replica, once (idempotent)', () => {
      const t = setup();
      expect(t.breakers.applyTrip(trip())).toBe(true);
      expect(
        t.breakers.applyTrip(trip({ reason: 'again', trippedAt: '2025-03-01T09:00:00Z' })),
      ).toBe(false);
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([trip()]);
    });

    it('keeps a local trip when the broadcast of it comes back', () => {
      const t = setup();
      for (let i = 0; i < 3; i++) t.breakers.observe(t.execution(true));
      const [local] = t.breakers.state('acme', 'deal-bot');
      expect(t.breakers.applyTrip({ ...local })).toBe(false);
      expect(t.breakers.state('acme', 'deal-bot')).toEqual([local]);
    });

    it('fails closed on an unknown demote-to verdict and refuses a malformed trip', () => {
      const t = setup();
      t.breakers.applyTrip(trip({ demoteTo: 42 as Verdict }));
      expect(t.breakers.state('acme', 'deal-bot')[0].demoteTo).toBe(Verdict.VERDICT_DENY);
      for (const bad of [
        trip({ kind: 'error_rate' as OpenBreaker['kind'] }),
        trip({ tenantId: '' }),
        trip({ agentId: '' }),
        trip({ trippedAt: 'yesterday' }),
        undefined as unknown as OpenBreaker,
      ])
        expect(() => t.breakers.applyTrip(bad)).toThrow(RangeError);
    });

    it('closes a replicated trip on an authorised reset, with a deterministic audit', () => {
      const a = setup();
      const b = setup();
      a.breakers.applyTrip(trip());
      b.breakers.applyTrip(trip());
      const at = new Date('2025-03-01T10:00:00Z');
      const ra = a.breakers.reset('acme', 'deal-bot', 'error_spike', ADMIN, 'fixed', at);
      b.advance(5 * MIN);
      const rb = b.breakers.reset('acme', 'deal-bot', 'error_spike', ADMIN, 'fixed', at);
      expect(ra.status).toBe('reset');
      expect(rb).toEqual(ra);
      expect(ra.audit?.occurredAt).toBe(at.toISOString());
      expect(a.breakers.openBreakers()).toEqual([]);
      const refused = a.breakers.reset('acme', 'deal-bot', 'error_spike', REVIEWER, 'x', at);
      expect(refused.audit?.auditId).toContain(at.toISOString());
    });

    it('lists every open breaker by tenant, agent and kind', () => {
      const t = setup();
      t.breakers.applyTrip(trip({ tenantId: 'globex' }));
      t.breakers.applyTrip(trip({ agentId: 'zed-bot' }));
      t.breakers.applyTrip(trip({ kind: 'rejection_rate' }));
      t.breakers.applyTrip(trip());
      expect(t.breakers.openBreakers().map((b) => [b.tenantId, b.agentId, b.kind])).toEqual([
        ['acme', 'deal-bot', 'rejection_rate'],
        ['acme', 'deal-bot', 'error_spike'],
        ['acme', 'zed-bot', 'error_spike'],
        ['globex', 'deal-bot', 'error_spike'],
      ]);
    });
  });
});
