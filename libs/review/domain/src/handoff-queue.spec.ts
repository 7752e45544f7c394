import { AuditKind, AuditRecord, PlanHandOff } from '@mandate/contracts';
import { Topics } from '@mandate/messaging';
import { InMemoryDocumentStore, type TenantId } from '@mandate/storage';
import { HANDOFF_TASKS, REVIEW_TENANTS, type ReviewTenantDoc } from './collections';
import {
  HandOffAlreadyClaimedError,
  HandOffClosedError,
  HandOffNotFoundError,
  InvalidDecisionError,
  NotAuthorisedError,
  NotEligibleError,
  ReviewConfigError,
} from './errors';
import { HandOffQueue } from './handoff-queue';
import type { HandOffTaskDoc } from './handoff-task.doc';
import type { ReviewConfigInput } from './review-config';
import { REVIEW_TENANTS_SCOPE, ReviewTenantRegistry } from './tenant-registry';
import { ACME, GLOBEX, MIN, StaticDirectory, START, TestClock } from './testing/fixtures';

function handOff(n: number, o: Partial<PlanHandOff> = {}): PlanHandOff {
  return PlanHandOff.fromPartial({
    handoffId: `ho-${n}`,
    tenantId: ACME,
    correlationId: `corr-${n}`,
    planId: `plan-${n}`,
    agentId: 'service-triage',
    target: { objectType: 'activity', recordId: `act-${n}` },
    reason: 'hand_off: The message could refer to 2 open cases; a human must decide which.',
    candidates: ['case-0001', 'case-0002'],
    steps: [
      {
        index: 0,
        actionType: 'reply_to_case',
        status: 'denied',
        reasons: ['NO_CONSENT'],
        proposalId: `p-${n}`,
      },
    ],
    handedOffAt: new Date(START.getTime() + n * MIN).toISOString(),
    objective: 'triage an inbound email',
    ...o,
  });
}

function setup(o: { config?: ReviewConfigInput } = {}) {
  const clock = new TestClock();
  const store = new InMemoryDocumentStore<HandOffTaskDoc>(HANDOFF_TASKS, { clock: clock.now });
  const tenantStore = new InMemoryDocumentStore<ReviewTenantDoc>(REVIEW_TENANTS);
  const registry = new ReviewTenantRegistry(tenantStore, clock.now);
  let ids = 0;
  const queue = new HandOffQueue({
    handoffs: store,
    reviewers: new StaticDirectory(),
    now: clock.now,
    config: o.config,
    tenants: registry,
    newId: () => `res-${++ids}`,
  });
  const audits = async (): Promise<AuditRecord[]> =>
    (await store.pendingOutbox({ limit: 1000 }))
      .flatMap((p) => p.entries)
      .filter((e) => e.topic === Topics.auditRecords.name)
      .map((e) => AuditRecord.decode(e.payload));
  const opened = async (n: number, tenant: TenantId = ACME) => {
    const r = await queue.open(handOff(n, { tenantId: tenant }));
    return r.task.handoffId;
  };
  return { clock, store, registry, queue, audits, opened };
}

describe('HandOffQueue', () => {
  it('opens a task from a hand-off message, in the hand-off team, audited with the message', async () => {
    const { queue, audits, registry, store } = setup();
    const r = await queue.open(handOff(1));
    expect(r.opened).toBe(true);
    expect(r.task).toMatchObject({
      handoffId: 'ho-1',
      tenantId: 'acme',
      status: 'OPEN',
      team: 'general',
      planId: 'plan-1',
      correlationId: 'corr-1',
      agentId: 'service-triage',
      objective: 'triage an inbound email',
      target: { objectType: 'activity', recordId: 'act-1' },
      candidates: ['case-0001', 'case-0002'],
      steps: [{ index: 0, actionType: 'reply_to_case', status: 'denied', reasons: ['NO_CONSENT'] }],
      history: [{ event: 'opened', actor: 'human-review' }],
    });
    expect(r.task.reason).toMatch(/could refer to 2 open cases/);
    expect(r.task.handedOffAt).toEqual(new Date(START.getTime() + MIN));
    expect(r.task.assigneeId).toBeUndefined();
    const [audit] = await audits();
    expect(audit).toMatchObject({
      kind: AuditKind.AUDIT_KIND_HANDOFF_TASK,
      tenantId: 'acme',
      correlationId: 'corr-1',
      actor: 'human-review',
      subject: { objectType: 'activity', recordId: 'act-1' },
      payloadType: 'mandate.v1.PlanHandOff',
    });
    expect(audit.attributes).toMatchObject({
      event: 'opened',
      handoffId: 'ho-1',
      planId: 'plan-1',
      candidates: 'case-0001,case-0002',
    });
    expect(PlanHandOff.decode(audit.payload)).toEqual(handOff(1));
    // The tenant is in the review service's durable tenant list.
    expect(await registry.tenants()).toEqual(['acme']);
    expect(await store.count(ACME)).toBe(1);
    expect(REVIEW_TENANTS_SCOPE).not.toBe(ACME);
  });

  it('opens one task for duplicate messages, sequential or concurrent', async () => {
    const { queue, audits, store } = setup();
    const first = await queue.open(handOff(1));
    const again = await queue.open(handOff(1, { reason: 'a redelivery must not overwrite' }));
    expect(again.opened).toBe(false);
    expect(again.task.reason).toBe(first.task.reason);
    const racing = await Promise.all([1, 2, 3].map(() => queue.open(handOff(2))));
    expect(racing.filter((r) => r.opened)).toHaveLength(1);
    expect(new Set(racing.map((r) => r.task.handoffId))).toEqual(new Set(['ho-2']));
    expect(await store.count(ACME)).toBe(2);
    expect((await audits()).map((a) => a.attributes['handoffId'])).toEqual(['ho-1', 'ho-2']);
  });

  it('refuses a malformed hand-off message', async () => {
    const { queue } = setup();
    await expect(queue.open(handOff(1, { tenantId: 'no such tenant!' }))).rejects.toBeInstanceOf(
      InvalidDecisionError,
    );
    await expect(queue.open(handOff(1, { handoffId: '' }))).rejects.toBeInstanceOf(
      InvalidDecisionError,
    );
  });

  it("keeps tenants apart: another tenant's hand-off is not found, its list is its own", async () => {
    const { queue, opened } = setup();
    await opened(1);
    await opened(2, GLOBEX);
    await expect(queue.get(GLOBEX, 'ho-1')).rejects.toBeInstanceOf(HandOffNotFoundError);
    expect((await queue.list(GLOBEX)).items.map((i) => i.handoffId)).toEqual(['ho-2']);
    expect((await queue.list(ACME)).items.map((i) => i.handoffId)).toEqual(['ho-1']);
    // greta works for globex: acme's hand-off does not exist for her, nor may she act in acme.
    await expect(queue.claim(GLOBEX, 'ho-1', 'greta')).rejects.toBeInstanceOf(HandOffNotFoundError);
    await expect(queue.claim(ACME, 'ho-1', 'greta')).rejects.toMatchObject({
      reason: 'OTHER_TENANT',
    });
  });

  it('lets exactly one of concurrent claims win; the holder may claim again, nobody else', async () => {
    const { queue, opened, audits } = setup();
    const id = await opened(1);
    const results = await Promise.allSettled([
      queue.claim(ACME, id, 'alice'),
      queue.claim(ACME, id, 'bob'),
      queue.claim(ACME, id, 'bea'),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(2);
    for (const l of lost) expect(l.reason).toBeInstanceOf(HandOffAlreadyClaimedError);
    const task = await queue.get(ACME, id);
    expect(task.status).toBe('CLAIMED');
    const holder = task.assigneeId!;
    expect(['alice', 'bob', 'bea']).toContain(holder);
    expect(task.claimedAt).toEqual(START);
    // Claiming one's own claim again changes nothing (no second audit).
    expect((await queue.claim(ACME, id, holder)).assigneeId).toBe(holder);
    const claims = (await audits()).filter((a) => a.attributes['event'] === 'claimed');
    expect(claims).toHaveLength(1);
    expect(claims[0].actor).toBe(holder);
    expect(claims[0].attributes['assignee']).toBe(holder);
  });

  it('refuses auditors, admins, inactive people and reviewers outside the hand-off team', async () => {
    const { queue, opened } = setup();
    const id = await opened(1);
    for (const [who, reason] of [
      ['aud', 'AUDITOR'],
      ['erin', 'AUDITOR'], // reviewer and auditor: still never acts
      ['adm', 'ROLE'],
      ['ivan', 'INACTIVE'],
      ['mallory', 'UNKNOWN_REVIEWER'],
    ] as const) {
      await expect(queue.claim(ACME, id, who)).rejects.toMatchObject({ reason });
      await expect(queue.resolve(ACME, id, who, { outcome: 'DONE' })).rejects.toBeInstanceOf(
        NotAuthorisedError,
      );
    }
    expect((await queue.get(ACME, id)).status).toBe('OPEN');
    // A configured hand-off team: dave (general only) is not in it; a supervisor works them all.
    const deal = setup({ config: { handoffTeam: 'deal-desk' } });
    const other = await deal.opened(2);
    expect((await deal.queue.get(ACME, other)).team).toBe('deal-desk');
    await expect(deal.queue.claim(ACME, other, 'dave')).rejects.toBeInstanceOf(NotEligibleError);
    expect((await deal.queue.claim(ACME, other, 'carol')).assigneeId).toBe('carol');
    expect(() => setup({ config: { handoffTeam: 'Not A Team' } })).toThrow(ReviewConfigError);
  });

  it('releases: the holder, or a supervisor for anyone; nobody else', async () => {
    const { queue, opened, audits } = setup();
    const id = await opened(1);
    await queue.claim(ACME, id, 'alice');
    await expect(queue.release(ACME, id, 'bob')).rejects.toMatchObject({ reason: 'NOT_ASSIGNEE' });
    const released = await queue.release(ACME, id, 'alice');
    expect(released.status).toBe('OPEN');
    expect(released.assigneeId).toBeUndefined();
    // Releasing an open hand-off changes nothing.
    await queue.release(ACME, id, 'alice');
    await queue.claim(ACME, id, 'bob');
    const bySupervisor = await queue.release(ACME, id, 'carol');
    expect(bySupervisor.status).toBe('OPEN');
    expect(bySupervisor.history.map((h) => [h.event, h.actor, h.previousAssignee])).toEqual([
      ['opened', 'human-review', undefined],
      ['claimed', 'alice', undefined],
      ['released', 'alice', undefined],
      ['claimed', 'bob', undefined],
      ['released', 'carol', 'bob'],
    ]);
    const releases = (await audits()).filter((a) => a.attributes['event'] === 'released');
    expect(releases.map((a) => [a.actor, a.attributes['previousAssignee']])).toEqual([
      ['alice', 'alice'],
      ['carol', 'bob'],
    ]);
  });

  it('resolves exactly once: the same resolution id again is a duplicate, another one a conflict', async () => {
    const { queue, opened, audits } = setup();
    const id = await opened(1);
    await queue.claim(ACME, id, 'alice');
    // While alice holds it, nobody else resolves it.
    await expect(queue.resolve(ACME, id, 'bob', { outcome: 'DONE' })).rejects.toBeInstanceOf(
      HandOffAlreadyClaimedError,
    );
    const input = { outcome: 'DONE', note: 'Replied to Jane on case-0001.', resolutionId: 'r-1' };
    const [a, b] = await Promise.all([
      queue.resolve(ACME, id, 'alice', input as never),
      queue.resolve(ACME, id, 'alice', input as never),
    ]);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    for (const r of [a, b]) {
      expect(r.resolution).toEqual({
        id: 'r-1',
        outcome: 'DONE',
        reviewerId: 'alice',
        at: START,
        note: 'Replied to Jane on case-0001.',
      });
      expect(r.task.status).toBe('DONE');
      expect(r.task.assigneeId).toBeUndefined();
      expect(r.task.closedAt).toEqual(START);
    }
    // Someone else with the same id is refused; a new resolution of a closed hand-off too.
    await expect(
      queue.resolve(ACME, id, 'bob', { outcome: 'DONE', resolutionId: 'r-1' }),
    ).rejects.toBeInstanceOf(InvalidDecisionError);
    await expect(
      queue.resolve(ACME, id, 'alice', { outcome: 'DISMISSED', resolutionId: 'r-2' }),
    ).rejects.toBeInstanceOf(HandOffClosedError);
    await expect(queue.claim(ACME, id, 'bob')).rejects.toBeInstanceOf(HandOffClosedError);
    const resolved = (await audits()).filter((a) => a.attributes['event'] === 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ actor: 'alice', kind: AuditKind.AUDIT_KIND_HANDOFF_TASK });
    expect(resolved[0].attributes).toMatchObject({
      outcome: 'DONE',
      resolutionId: 'r-1',
      hasNote: 'true',
      status: 'DONE',
    });
    // The note may name people: it stays out of the ledger.
    expect(JSON.stringify(AuditRecord.toJSON(resolved[0]))).not.toContain('Jane');
  });

  it('dismisses an open hand-off without a claim; refuses a bad outcome, id or note', async () => {
    const { queue, opened } = setup();
    const id = await opened(1);
    await expect(
      queue.resolve(ACME, id, 'dave', { outcome: 'APPROVE' as never }),
    ).rejects.toBeInstanceOf(InvalidDecisionError);
    await expect(
      queue.resolve(ACME, id, 'dave', { outcome: 'DONE', resolutionId: 'a b' }),
    ).rejects.toBeInstanceOf(InvalidDecisionError);
    await expect(
      queue.resolve(ACME, id, 'dave', { outcome: 'DONE', note: 'x'.repeat(4001) }),
    ).rejects.toBeInstanceOf(InvalidDecisionError);
    const r = await queue.resolve(ACME, id, 'dave', { outcome: 'DISMISSED' });
    expect(r).toMatchObject({
      duplicate: false,
      resolution: { id: 'res-1', outcome: 'DISMISSED' },
    });
    expect(r.resolution.note).toBeUndefined();
    expect(r.task.status).toBe('DISMISSED');
  });

  it('lists by status, oldest hand-off first, a page at a time', async () => {
    const { queue, opened, clock } = setup();
    for (const n of [3, 1, 2, 4]) await opened(n);
    clock.advance(MIN);
    await queue.resolve(ACME, 'ho-2', 'alice', { outcome: 'DONE' });
    await queue.claim(ACME, 'ho-3', 'bob');
    const open = await queue.list(ACME);
    expect(open.items.map((i) => [i.handoffId, i.status])).toEqual([
      ['ho-1', 'OPEN'],
      ['ho-3', 'CLAIMED'],
      ['ho-4', 'OPEN'],
    ]);
    expect((await queue.list(ACME, { status: 'DONE' })).items.map((i) => i.handoffId)).toEqual([
      'ho-2',
    ]);
    expect((await queue.list(ACME, { assigneeId: 'bob' })).items.map((i) => i.handoffId)).toEqual([
      'ho-3',
    ]);
    const first = await queue.list(ACME, { status: ['OPEN', 'CLAIMED', 'DONE'] }, { limit: 3 });
    expect(first.items.map((i) => i.handoffId)).toEqual(['ho-1', 'ho-2', 'ho-3']);
    const second = await queue.list(
      ACME,
      { status: ['OPEN', 'CLAIMED', 'DONE'] },
      { limit: 3, after: first.next },
    );
    expect(second.items.map((i) => i.handoffId)).toEqual(['ho-4']);
    expect(second.next).toBeUndefined();
    await expect(queue.list(ACME, {}, { after: 'garbage' })).rejects.toBeInstanceOf(
      InvalidDecisionError,
    );
  });
});
