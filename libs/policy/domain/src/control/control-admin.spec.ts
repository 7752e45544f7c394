import { AuditKind, AuditRecord, PolicyControlEvent, Verdict } from '@mandate/contracts';
import { auditRecordId } from '@mandate/audit-client';
import { controlTenant, SYSTEM_TENANT, Topics } from '@mandate/messaging';
import { InMemoryDocumentStore, tenantId, type OutboxEntry } from '@mandate/storage';
import { CircuitBreakers } from '../autonomy/circuit-breakers';
import type { Principal } from '../autonomy/control-authorizer';
import { KillSwitchBoard, type KillSwitchTarget } from '../autonomy/kill-switch.board';
import { ControlAdmin, POLICY_CONTROLS, type ControlDoc } from './control-admin';
import { ControlApplier } from './control-applier';

const ADMIN: Principal = { id: 'admin-1', roles: ['policy-admin'] };
const ACME_SUPERVISOR: Principal = { id: 'sup-acme', roles: ['supervisor'], tenantId: 'acme' };
const REVIEWER: Principal = { id: 'rev-1', roles: ['reviewer'], tenantId: 'acme' };
const SYSTEM = tenantId(SYSTEM_TENANT);

function setup() {
  let now = new Date('2025-03-01T09:00:00Z').getTime();
  const clock = () => new Date(now);
  const store = new InMemoryDocumentStore<ControlDoc>(POLICY_CONTROLS, { clock });
  const board = new KillSwitchBoard();
  const admin = new ControlAdmin(board, store, clock);
  /** Every outbox entry, in document order, as the relay would publish them. */
  const outbox = async (): Promise<OutboxEntry[]> =>
    (await store.pendingOutbox({ limit: 1000 })).flatMap((p) => [...p.entries]);
  const controlEvents = async () =>
    (await outbox())
      .filter((e) => e.topic === Topics.policyControl.name)
      .map((e) => PolicyControlEvent.decode(e.payload));
  const auditRecords = async () =>
    (await outbox())
      .filter((e) => e.topic === Topics.auditRecords.name)
      .map((e) => AuditRecord.decode(e.payload));
  return {
    store,
    board,
    admin,
    outbox,
    controlEvents,
    auditRecords,
    advance: (ms: number) => (now += ms),
  };
}

const ACME: KillSwitchTarget = { scope: 'tenant', tenantId: 'acme' };
const GLOBEX: KillSwitchTarget = { scope: 'tenant', tenantId: 'globex' };

describe('ControlAdmin', () => {
  it('persists a kill switch with its control event and audit record in one write', async () => {
    const t = setup();
    const r = await t.admin.setKillSwitch(ADMIN, ACME, 'deny', '  runaway agents  ');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event).toMatchObject({
      version: '1',
      actor: 'admin-1',
      actorRoles: ['policy-admin'],
      reason: 'runaway agents',
      occurredAt: '2025-03-01T09:00:00.000Z',
      change: {
        $case: 'killSwitchSet',
        value: { scope: 'tenant', tenantId: 'acme', mode: 'deny' },
      },
    });
    const entries = await t.outbox();
    expect(entries.map((e) => [e.topic, e.key])).toEqual([
      [Topics.policyControl.name, 'acme'],
      [Topics.auditRecords.name, 'acme'],
    ]);
    expect(await t.controlEvents()).toEqual([r.event]);
    const [record] = await t.auditRecords();
    expect(record).toMatchObject({
      kind: AuditKind.AUDIT_KIND_POLICY_CONTROL,
      tenantId: 'acme',
      actor: 'admin-1',
      correlationId: r.event.eventId,
      payloadType: 'mandate.v1.PolicyControlEvent',
      attributes: expect.objectContaining({
        control: 'KILL_SWITCH_SET',
        mode: 'deny',
        version: '1',
        event_id: r.event.eventId,
      }),
    });
    expect(PolicyControlEvent.decode(record.payload)).toEqual(r.event);
    // The same id a replica's board produces for this event: the ledger keeps one leaf.
    const replica = new KillSwitchBoard();
    const applied = new ControlApplier(replica, new CircuitBreakers()).apply(r.event);
    expect(applied.audits[0].auditId).toBe(r.audit.auditId);
    expect(record.recordId).toBe(
      auditRecordId('acme', AuditKind.AUDIT_KIND_POLICY_CONTROL, 'admin-1', r.audit.auditId),
    );
    // The local board is not changed by the admin: it learns from the topic like every replica.
    expect(t.board.list()).toEqual([]);
    expect(await t.admin.list()).toEqual([
      {
        scope: 'tenant',
        tenantId: 'acme',
        mode: 'deny',
        reason: 'runaway agents',
        setBy: 'admin-1',
        setAt: '2025-03-01T09:00:00.000Z',
        version: 1,
      },
    ]);
  });

  it('round-trips to a replica: the outbox events rebuild the same board', async () => {
    const t = setup();
    const changes = [
      () => t.admin.setKillSwitch(ADMIN, { scope: 'global' }, 'require_approval', 'freeze'),
      () => t.admin.setKillSwitch(ACME_SUPERVISOR, ACME, 'deny', 'acme incident'),
      () =>
        t.admin.setKillSwitch(
          ADMIN,
          { scope: 'action', actionType: 'delete_record' },
          'deny',
          'no deletes',
        ),
      () => t.admin.setKillSwitch(ADMIN, { scope: 'agent', agentId: 'deal-bot' }, 'deny', 'bot'),
      () => t.admin.clearKillSwitch(ADMIN, { scope: 'global' }, 'thawed'),
      () => t.admin.clearKillSwitch(ACME_SUPERVISOR, ACME, 'acme fixed'),
      () => t.admin.setKillSwitch(ACME_SUPERVISOR, ACME, 'require_approval', 'acme watch'),
    ];
    for (const change of changes) {
      expect((await change()).ok).toBe(true);
      t.advance(1000);
    }
    const events = await t.controlEvents();
    expect(events.map((e) => e.eventId)).toHaveLength(changes.length);
    // Reference: the events applied in the order the API made them (the topic's order).
    const byTime = [...events].sort((a, b) => a.occurredAt!.localeCompare(b.occurredAt!));
    const reference = new KillSwitchBoard();
    const referenceApplier = new ControlApplier(reference, new CircuitBreakers());
    for (const e of byTime) expect(referenceApplier.apply(e).status).toBe('applied');
    // A replica fed document by document (the in-memory relay's order): versions are per
    // target, so the order across targets does not matter and it ends in the same state.
    const replica = new KillSwitchBoard();
    const applier = new ControlApplier(replica, new CircuitBreakers());
    for (const e of events) expect(applier.apply(e).status).toBe('applied');
    for (const [tenant, agent, action] of [
      ['acme', 'deal-bot', 'update_field'],
      ['acme', 'other-bot', 'update_field'],
      ['globex', 'deal-bot', 'update_field'],
      ['globex', 'other-bot', 'delete_record'],
      ['globex', 'other-bot', 'update_field'],
    ])
      expect(replica.check(tenant, agent, action)).toEqual(reference.check(tenant, agent, action));
    expect(replica.check('globex', 'other-bot', 'update_field')).toBeUndefined();
    expect(replica.check('acme', 'other-bot', 'update_field')).toMatchObject({
      mode: 'require_approval',
      reason: 'acme watch',
    });
    expect(replica.check('globex', 'deal-bot', 'x')).toMatchObject({ scope: 'agent' });
    // The documents (the API's view) agree with the replica.
    const listed = (await t.admin.list()).map(({ version: _v, ...s }) => s);
    expect(listed).toEqual(
      expect.arrayContaining(replica.list().map((s) => expect.objectContaining(s))),
    );
    expect(listed).toHaveLength(replica.list().length);
    // A replica starting later replays everything again: nothing changes.
    for (const e of events) expect(applier.apply(e).status).toBe('duplicate');
  });

  it('versions each target monotonically, one document per target', async () => {
    const t = setup();
    const versions: string[] = [];
    for (const step of [
      () => t.admin.setKillSwitch(ADMIN, ACME, 'deny', 'a'),
      () => t.admin.setKillSwitch(ADMIN, ACME, 'require_approval', 'b'),
      () => t.admin.clearKillSwitch(ADMIN, ACME, 'c'),
      () => t.admin.setKillSwitch(ADMIN, ACME, 'deny', 'd'),
    ]) {
      const r = await step();
      if (r.ok) versions.push(r.event.version);
    }
    expect(versions).toEqual(['1', '2', '3', '4']);
    const other = await t.admin.setKillSwitch(ADMIN, GLOBEX, 'deny', 'e');
    expect(other.ok && other.event.version).toBe('1');
    expect(await t.store.count(SYSTEM)).toBe(2);
    const acme = (await t.store.find(SYSTEM, { key: 'tenant|acme|*|*' }))[0];
    expect(acme).toMatchObject({ version: 4, active: true, mode: 'deny', reason: 'd' });
    // Each write announced its own event, with distinct ids.
    const events = await t.controlEvents();
    expect(new Set(events.map((e) => e.eventId)).size).toBe(5);
    // On a replica, an older version of the same target than the last applied is stale.
    const acmeEvents = events.filter((e) => e.change?.value && controlTenant(e) === 'acme');
    expect(acmeEvents.map((e) => e.version)).toEqual(['1', '2', '3', '4']);
    const replica = new ControlApplier(new KillSwitchBoard(), new CircuitBreakers());
    expect(replica.apply(acmeEvents[2]).status).toBe('applied');
    expect(replica.apply(acmeEvents[1]).status).toBe('stale');
    expect(replica.apply(acmeEvents[3]).status).toBe('applied');
  });

  it('retries a lost compare-and-set with the next version', async () => {
    const t = setup();
    const insert = jest.spyOn(t.store, 'insert');
    const results = await Promise.all([
      t.admin.setKillSwitch(ADMIN, ACME, 'deny', 'one'),
      t.admin.setKillSwitch(ADMIN, ACME, 'require_approval', 'two'),
      t.admin.clearKillSwitch(ADMIN, ACME, 'three'),
    ]);
    const versions = results.map((r) => (r.ok ? r.event.version : 'failed')).sort();
    expect(versions).toEqual(['1', '2', '3']);
    const doc = (await t.store.find(SYSTEM, { kind: 'kill_switch' }))[0];
    expect(doc.version).toBe(3);
    expect(insert).toHaveBeenCalledTimes(3); // all three raced to create the document
    expect(await t.controlEvents()).toHaveLength(3);
  });

  it('refuses a supervisor outside their tenant, audits it durably, changes nothing', async () => {
    const t = setup();
    const r = await t.admin.setKillSwitch(ACME_SUPERVISOR, GLOBEX, 'deny', 'not mine');
    expect(r).toMatchObject({
      ok: false,
      status: 'forbidden',
      audit: { kind: 'KILL_SWITCH_REFUSED', actor: 'sup-acme', tenantId: 'globex' },
    });
    expect(await t.controlEvents()).toEqual([]);
    const records = await t.auditRecords();
    expect(records).toEqual([
      expect.objectContaining({
        kind: AuditKind.AUDIT_KIND_POLICY_CONTROL,
        tenantId: 'globex',
        actor: 'sup-acme',
        attributes: expect.objectContaining({ control: 'KILL_SWITCH_REFUSED', reason: 'not mine' }),
      }),
    ]);
    expect(await t.admin.list()).toEqual([]);
    expect(await t.store.find(SYSTEM, { kind: 'kill_switch' })).toEqual([]);
    // Nor a global switch, nor anything for a reviewer or a principal without an id.
    for (const [who, target] of [
      [ACME_SUPERVISOR, { scope: 'global' }],
      [ACME_SUPERVISOR, { scope: 'agent', agentId: 'deal-bot' }],
      [REVIEWER, ACME],
      [{ id: '', roles: ['policy-admin'] }, ACME],
      [undefined, ACME],
    ] as [Principal, KillSwitchTarget][]) {
      t.advance(1);
      const refused = await t.admin.clearKillSwitch(who, target, 'try');
      expect(refused).toMatchObject({ ok: false, status: 'forbidden' });
    }
    expect(await t.controlEvents()).toEqual([]);
    expect((await t.auditRecords()).map((a) => a.actor)).toEqual(
      expect.arrayContaining(['sup-acme', 'rev-1', 'unknown']),
    );
    // Refusal documents expire once their audit record is out (TTL), never the switches.
    expect(await t.store.count(SYSTEM, { kind: 'refused' })).toBe(6);
    // …while their supervisor may act within the tenant.
    const own = await t.admin.setKillSwitch(ACME_SUPERVISOR, ACME, 'deny', 'mine');
    expect(own.ok).toBe(true);
  });

  it.each([
    ['an unknown scope', { scope: 'planet' }, 'deny', 'r', /scope/],
    ['a global switch with a tenant', { scope: 'global', tenantId: 'acme' }, 'deny', 'r', /global/],
    ['a tenant switch without tenant', { scope: 'tenant' }, 'deny', 'r', /requires tenantId/],
    ['an agent switch without agent', { scope: 'agent', tenantId: 'acme' }, 'deny', 'r', /agentId/],
    ['a malformed tenant id', { scope: 'tenant', tenantId: 'Acme Corp' }, 'deny', 'r', /tenant id/],
    ['the system tenant', { scope: 'tenant', tenantId: SYSTEM_TENANT }, 'deny', 'r', /reserved/],
    ['a huge agent id', { scope: 'agent', agentId: 'a'.repeat(300) }, 'deny', 'r', /agentId/],
    ['an unknown mode', ACME, 'pause', 'r', /mode/],
    ['no reason', ACME, 'deny', '   ', /reason/],
    ['a reason over 500 chars', ACME, 'deny', 'x'.repeat(501), /500/],
    ['no target', undefined, 'deny', 'r', /target/],
  ])('rejects %s as invalid, writing nothing', async (_, target, mode, reason, problem) => {
    const t = setup();
    const r = await t.admin.setKillSwitch(
      ADMIN,
      target as KillSwitchTarget,
      mode as 'deny',
      reason,
    );
    expect(r).toEqual({ ok: false, status: 'invalid', problem: expect.stringMatching(problem) });
    expect(await t.store.count(SYSTEM)).toBe(0);
  });

  it('accepts a reason of exactly 500 characters', async () => {
    const t = setup();
    expect((await t.admin.setKillSwitch(ADMIN, ACME, 'deny', 'x'.repeat(500))).ok).toBe(true);
  });

  describe('breaker reset', () => {
    it('announces the reset; a replica with the breaker open closes it', async () => {
      const t = setup();
      const r = await t.admin.resetBreaker(
        ACME_SUPERVISOR,
        'acme',
        'deal-bot',
        'error_spike',
        'ok',
      );
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.event).toMatchObject({
        version: '1',
        change: {
          $case: 'breakerReset',
          value: { tenantId: 'acme', agentId: 'deal-bot', kind: 'error_spike' },
        },
      });
      expect(r.audit).toMatchObject({ kind: 'CIRCUIT_BREAKER_RESET', actor: 'sup-acme' });
      const [record] = await t.auditRecords();
      expect(record.attributes).toMatchObject({ control: 'CIRCUIT_BREAKER_RESET', version: '1' });
      const again = await t.admin.resetBreaker(ADMIN, 'acme', 'deal-bot', 'error_spike', 'again');
      expect(again.ok && again.event.version).toBe('2');

      const breakers = new CircuitBreakers();
      breakers.applyTrip({
        kind: 'error_spike',
        tenantId: 'acme',
        agentId: 'deal-bot',
        reason: '3 failures',
        trippedAt: '2025-03-01T08:00:00.000Z',
        demoteTo: Verdict.VERDICT_DENY,
      });
      const applied = new ControlApplier(new KillSwitchBoard(), breakers).apply(r.event);
      expect(applied).toMatchObject({
        status: 'applied',
        audits: [expect.objectContaining({ kind: 'CIRCUIT_BREAKER_RESET', actor: 'sup-acme' })],
      });
      expect(breakers.openBreakers()).toEqual([]);
    });

    it('refuses a supervisor of another tenant, audited, nothing announced', async () => {
      const t = setup();
      const r = await t.admin.resetBreaker(ACME_SUPERVISOR, 'globex', 'bot', 'action_rate', 'x');
      expect(r).toMatchObject({
        ok: false,
        status: 'forbidden',
        audit: { kind: 'CIRCUIT_BREAKER_RESET_REFUSED', tenantId: 'globex' },
      });
      expect(await t.controlEvents()).toEqual([]);
      expect((await t.auditRecords())[0].attributes).toMatchObject({
        control: 'CIRCUIT_BREAKER_RESET_REFUSED',
        breaker: 'action_rate',
      });
    });

    it.each([
      ['an unknown kind', 'acme', 'bot', 'error_rate', 'r', /breaker kind/],
      ['no agent', 'acme', '', 'error_spike', 'r', /agentId/],
      ['no tenant', '', 'bot', 'error_spike', 'r', /tenantId/],
      ['a malformed tenant', 'ACME', 'bot', 'error_spike', 'r', /tenant id/],
      ['no reason', 'acme', 'bot', 'error_spike', '', /reason/],
    ])('rejects %s as invalid', async (_, tenant, agent, kind, reason, problem) => {
      const t = setup();
      const r = await t.admin.resetBreaker(ADMIN, tenant, agent, kind as 'error_spike', reason);
      expect(r).toEqual({ ok: false, status: 'invalid', problem: expect.stringMatching(problem) });
      expect(await t.store.count(SYSTEM)).toBe(0);
    });
  });
});
