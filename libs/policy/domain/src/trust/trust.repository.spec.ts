import {
  ConcurrencyError,
  InMemoryDocumentStore,
  tenantId,
  type DocumentStore,
  type UpdateOptions,
  type UpdateSpec,
  type Versioned,
} from '@mandate/storage';
import { DEFAULT_TRUST_CONFIG } from './trust-model';
import {
  TRUST_HISTORY_LIMIT,
  TRUST_LIST_LIMIT,
  TRUST_STATES,
  TrustRepository,
  trustDocId,
  type TrustDoc,
} from './trust.repository';

const ACME = tenantId('acme');
const GLOBEX = tenantId('globex');
const T0 = new Date('2025-03-01T09:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

function setup() {
  const store = new InMemoryDocumentStore(TRUST_STATES);
  return { store, repo: new TrustRepository(store) };
}

describe('TrustRepository', () => {
  it('gives an agent with no history the prior (untrusted) without writing anything', async () => {
    const { store, repo } = setup();
    const a = await repo.get(ACME, 'lead-bot', 'qualify_lead', T0);
    expect(a.band).toBe('untrusted');
    expect(a.score).toBeCloseTo(0.05, 10);
    expect(a.novelty).toBe(1);
    expect(await store.count(ACME)).toBe(0);
  });

  it('stores one document per agent × action type, keyed `${agentId}:${actionType}`', async () => {
    const { store, repo } = setup();
    await repo.record(ACME, 'lead-bot', 'qualify_lead', {
      eventId: 'r1',
      kind: 'review_approve',
      at: at(1),
    });
    const doc = await store.get(ACME, 'lead-bot:qualify_lead');
    expect(doc).toMatchObject({
      agentId: 'lead-bot',
      actionType: 'qualify_lead',
      alpha: 2,
      beta: 1,
      processedEventIds: ['r1'],
      modelVersion: DEFAULT_TRUST_CONFIG.version,
      version: 1,
    });
    expect(doc?.evidence.review_approve).toBe(1);
  });

  it('does not count a redelivered outcome twice, even after a restart', async () => {
    const { store, repo } = setup();
    const ev = { eventId: 'review-7', kind: 'review_reject' as const, at: at(1) };
    expect((await repo.record(ACME, 'lead-bot', 'send_email', ev)).applied).toBe(true);
    expect((await repo.record(ACME, 'lead-bot', 'send_email', ev)).applied).toBe(false);
    const restarted = new TrustRepository(store);
    const again = await restarted.record(ACME, 'lead-bot', 'send_email', ev);
    expect(again.applied).toBe(false);
    expect(again.assessment.evidence.review_reject).toBe(1);
    expect((await store.get(ACME, 'lead-bot:send_email'))?.version).toBe(1);
  });

  it('keeps tenants apart', async () => {
    const { repo } = setup();
    for (let i = 1; i <= 10; i++)
      await repo.record(ACME, 'lead-bot', 'qualify_lead', {
        eventId: `a${i}`,
        kind: 'review_approve',
        at: at(i),
      });
    expect((await repo.get(ACME, 'lead-bot', 'qualify_lead', at(11))).band).not.toBe('untrusted');
    const other = await repo.get(GLOBEX, 'lead-bot', 'qualify_lead', at(11));
    expect(other.band).toBe('untrusted');
    expect(other.evidence.review_approve).toBe(0);
  });

  it('decays on read', async () => {
    const { repo } = setup();
    for (let i = 1; i <= 20; i++)
      await repo.record(ACME, 'lead-bot', 'qualify_lead', {
        eventId: `a${i}`,
        kind: 'review_approve',
        at: at(i),
      });
    const fresh = await repo.get(ACME, 'lead-bot', 'qualify_lead', at(21));
    const stale = await repo.get(ACME, 'lead-bot', 'qualify_lead', at(21 + 90 * 24 * 60));
    expect(stale.score).toBeLessThan(fresh.score);
    expect(stale.band).toBe('untrusted');
  });

  it('counts every one of many concurrent outcomes exactly once (optimistic retries)', async () => {
    const { store, repo } = setup();
    const events = Array.from({ length: 12 }, (_, i) => ({
      eventId: `c${i}`,
      kind: 'review_approve' as const,
      at: at(i),
    }));
    // Each event also arrives twice at once (a redelivery racing the original).
    const results = await Promise.all(
      [...events, ...events].map((e) => repo.record(ACME, 'lead-bot', 'assign_owner', e)),
    );
    expect(results.filter((r) => r.applied)).toHaveLength(12);
    const doc = (await store.get(ACME, 'lead-bot:assign_owner')) as Versioned<TrustDoc>;
    expect(doc.evidence.review_approve).toBe(12);
    expect([...doc.processedEventIds].sort()).toEqual(events.map((e) => e.eventId).sort());
    expect(doc.version).toBe(12);
  });

  it('re-reads and retries when another writer gets in between', async () => {
    const inner = new InMemoryDocumentStore(TRUST_STATES);
    const rival = new TrustRepository(inner);
    let raced = false;
    // A store that lets a rival consumer write just before our first update lands.
    const racing: DocumentStore<TrustDoc> = Object.assign(Object.create(inner), {
      async update(
        tenant: typeof ACME,
        id: string,
        spec: UpdateSpec<TrustDoc>,
        options?: UpdateOptions,
      ) {
        if (!raced) {
          raced = true;
          await rival.record(ACME, 'lead-bot', 'close_case', {
            eventId: 'rival',
            kind: 'incident',
            at: at(2),
          });
        }
        return inner.update(tenant, id, spec, options);
      },
    });
    await rival.record(ACME, 'lead-bot', 'close_case', {
      eventId: 'first',
      kind: 'review_approve',
      at: at(1),
    });
    const repo = new TrustRepository(racing);
    const r = await repo.record(ACME, 'lead-bot', 'close_case', {
      eventId: 'mine',
      kind: 'review_approve',
      at: at(3),
    });
    expect(r.applied).toBe(true);
    const doc = (await inner.get(ACME, 'lead-bot:close_case')) as Versioned<TrustDoc>;
    expect(doc.processedEventIds).toEqual(['first', 'rival', 'mine']);
    expect(doc.evidence).toMatchObject({ review_approve: 2, incident: 1 });
  });

  it('gives up with ConcurrencyError after maxAttempts of constant contention', async () => {
    const inner = new InMemoryDocumentStore(TRUST_STATES);
    const seed = new TrustRepository(inner);
    await seed.record(ACME, 'lead-bot', 'close_case', {
      eventId: 'seed',
      kind: 'review_approve',
      at: at(1),
    });
    let n = 0;
    const contended: DocumentStore<TrustDoc> = Object.assign(Object.create(inner), {
      async update(
        tenant: typeof ACME,
        id: string,
        spec: UpdateSpec<TrustDoc>,
        options?: UpdateOptions,
      ) {
        await seed.record(ACME, 'lead-bot', 'close_case', {
          eventId: `other-${++n}`,
          kind: 'review_approve',
          at: at(2),
        });
        return inner.update(tenant, id, spec, options);
      },
    });
    const repo = new TrustRepository(contended, DEFAULT_TRUST_CONFIG, { maxAttempts: 3 });
    await expect(
      repo.record(ACME, 'lead-bot', 'close_case', {
        eventId: 'mine',
        kind: 'review_reject',
        at: at(3),
      }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(n).toBe(3);
  });

  it('refuses ids that would be ambiguous', () => {
    expect(trustDocId('bot', 'send_email')).toBe('bot:send_email');
    expect(() => trustDocId('bot', 'a:b')).toThrow(RangeError);
    expect(() => trustDocId('', 'send_email')).toThrow(RangeError);
  });
});

describe('TrustRepository history', () => {
  const approve = (i: number) => ({
    eventId: `h${i}`,
    kind: 'review_approve' as const,
    at: at(i),
  });

  it('appends the assessment after each applied outcome, in the same write', async () => {
    const { store, repo } = setup();
    const first = await repo.record(ACME, 'lead-bot', 'qualify_lead', approve(1));
    const second = await repo.record(ACME, 'lead-bot', 'qualify_lead', {
      eventId: 'h2',
      kind: 'review_reject',
      at: at(2),
    });
    const doc = (await store.get(ACME, 'lead-bot:qualify_lead')) as Versioned<TrustDoc>;
    expect(doc.version).toBe(2);
    expect(doc.history).toEqual([
      { at: at(1), score: first.assessment.score, band: first.assessment.band },
      { at: at(2), score: second.assessment.score, band: second.assessment.band },
    ]);
    expect(second.assessment.score).toBeLessThan(first.assessment.score);
  });

  it('adds no point for a redelivered outcome', async () => {
    const { store, repo } = setup();
    await repo.record(ACME, 'lead-bot', 'qualify_lead', approve(1));
    expect((await repo.record(ACME, 'lead-bot', 'qualify_lead', approve(1))).applied).toBe(false);
    await new TrustRepository(store).record(ACME, 'lead-bot', 'qualify_lead', approve(1));
    expect((await store.get(ACME, 'lead-bot:qualify_lead'))?.history).toHaveLength(1);
  });

  it(`keeps the last ${TRUST_HISTORY_LIMIT} points`, async () => {
    const { store, repo } = setup();
    const n = TRUST_HISTORY_LIMIT + 5;
    for (let i = 1; i <= n; i++) await repo.record(ACME, 'lead-bot', 'qualify_lead', approve(i));
    const history = (await store.get(ACME, 'lead-bot:qualify_lead'))?.history ?? [];
    expect(history).toHaveLength(TRUST_HISTORY_LIMIT);
    expect(history[0].at).toEqual(at(6));
    expect(history[history.length - 1].at).toEqual(at(n));
  });

  it('records a late outcome at the state instant, so history never runs backwards', async () => {
    const { store, repo } = setup();
    await repo.record(ACME, 'lead-bot', 'qualify_lead', approve(10));
    await repo.record(ACME, 'lead-bot', 'qualify_lead', approve(5));
    const history = (await store.get(ACME, 'lead-bot:qualify_lead'))?.history ?? [];
    expect(history.map((p) => p.at)).toEqual([at(10), at(10)]);
  });

  it('reads a document written before history existed as empty, then starts it', async () => {
    const { store, repo } = setup();
    const legacy: TrustDoc = {
      id: 'lead-bot:send_email',
      agentId: 'lead-bot',
      actionType: 'send_email',
      alpha: 3,
      beta: 1,
      evidence: {
        review_approve: 2,
        review_edit_approve: 0,
        review_reject: 0,
        execution_success: 0,
        execution_failure: 0,
        execution_rolled_back: 0,
        incident: 0,
      },
      updatedAt: at(1),
      processedEventIds: ['old-1', 'old-2'],
      modelVersion: DEFAULT_TRUST_CONFIG.version,
    };
    await store.insert(ACME, legacy);
    const [listed] = await repo.list(ACME, at(2));
    expect(listed.history).toEqual([]);
    expect(listed.assessment.evidence.review_approve).toBe(2);
    const r = await repo.record(ACME, 'lead-bot', 'send_email', approve(3));
    expect((await store.get(ACME, 'lead-bot:send_email'))?.history).toEqual([
      { at: at(3), score: r.assessment.score, band: r.assessment.band },
    ]);
  });

  it('keeps one point per applied outcome under concurrent writers', async () => {
    const { store, repo } = setup();
    const events = Array.from({ length: 8 }, (_, i) => approve(i));
    await Promise.all(
      [...events, ...events].map((e) => repo.record(ACME, 'lead-bot', 'assign_owner', e)),
    );
    const doc = (await store.get(ACME, 'lead-bot:assign_owner')) as Versioned<TrustDoc>;
    expect(doc.history).toHaveLength(8);
    const times = (doc.history ?? []).map((p) => p.at.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});

describe('TrustRepository.list', () => {
  it("lists every agent × action type of the tenant, assessed as of now, and nothing of another's", async () => {
    const { repo } = setup();
    for (let i = 1; i <= 20; i++)
      await repo.record(ACME, 'lead-bot', 'qualify_lead', {
        eventId: `a${i}`,
        kind: 'review_approve',
        at: at(i),
      });
    await repo.record(ACME, 'deal-desk', 'apply_discount', {
      eventId: 'd1',
      kind: 'review_reject',
      at: at(1),
    });
    await repo.record(ACME, 'lead-bot', 'assign_owner', {
      eventId: 'o1',
      kind: 'review_approve',
      at: at(1),
    });
    await repo.record(GLOBEX, 'globex-bot', 'qualify_lead', {
      eventId: 'g1',
      kind: 'review_approve',
      at: at(1),
    });

    const now = at(21);
    const listed = await repo.list(ACME, now);
    expect(listed.map((l) => `${l.agentId}/${l.actionType}`)).toEqual([
      'deal-desk/apply_discount',
      'lead-bot/assign_owner',
      'lead-bot/qualify_lead',
    ]);
    const qualify = listed[2];
    expect(qualify.assessment).toEqual(await repo.get(ACME, 'lead-bot', 'qualify_lead', now));
    expect(qualify.history).toHaveLength(20);
    expect(qualify.history[19].band).toBe(qualify.assessment.band);

    // Assessed as of `now`: an idle agent's trust decays on read.
    const later = await repo.list(ACME, at(21 + 90 * 24 * 60));
    expect(later[2].assessment.score).toBeLessThan(qualify.assessment.score);
    expect(later[2].history).toEqual(qualify.history);

    expect((await repo.list(GLOBEX, now)).map((l) => l.agentId)).toEqual(['globex-bot']);
    expect(await repo.list(tenantId('initech'), now)).toEqual([]);
  });

  it("lists one agent's documents only when asked for an agent (not another agent whose id it prefixes)", async () => {
    const { store, repo } = setup();
    for (const [agent, action] of [
      ['lead-bot', 'qualify_lead'],
      ['lead-bot', 'assign_owner'],
      ['lead-bot-2', 'qualify_lead'],
      ['deal-desk', 'apply_discount'],
    ])
      await repo.record(ACME, agent, action, {
        eventId: `${agent}-${action}`,
        kind: 'review_approve',
        at: at(1),
      });
    await repo.record(GLOBEX, 'lead-bot', 'qualify_lead', {
      eventId: 'g',
      kind: 'review_approve',
      at: at(1),
    });
    const find = jest.spyOn(store, 'find');
    const listed = await repo.list(ACME, at(2), { agentId: 'lead-bot' });
    expect(listed.map((l) => `${l.agentId}/${l.actionType}`)).toEqual([
      'lead-bot/assign_owner',
      'lead-bot/qualify_lead',
    ]);
    // The store is asked for that agent's documents (the agent_action index), not the tenant's.
    expect(find.mock.calls[0][1]).toEqual({ agentId: 'lead-bot' });
    expect(await repo.list(ACME, at(2), { agentId: 'nobody' })).toEqual([]);
    await expect(repo.list(ACME, at(2), { agentId: '' })).rejects.toThrow(RangeError);
  });

  it(`returns at most ${TRUST_LIST_LIMIT} documents, or the limit asked for, reading no more`, async () => {
    const { store, repo } = setup();
    const doc = (agentId: string, actionType: string): TrustDoc => ({
      id: trustDocId(agentId, actionType),
      agentId,
      actionType,
      alpha: 1,
      beta: 1,
      evidence: {} as TrustDoc['evidence'],
      updatedAt: T0,
      processedEventIds: [],
      modelVersion: DEFAULT_TRUST_CONFIG.version,
      history: [{ at: T0, score: 0.05, band: 'untrusted' }],
    });
    for (let i = 0; i < TRUST_LIST_LIMIT + 5; i++)
      await store.insert(ACME, doc(`agent-${String(i).padStart(5, '0')}`, 'qualify_lead'));
    const find = jest.spyOn(store, 'find');
    const listed = await repo.list(ACME, at(1));
    expect(listed).toHaveLength(TRUST_LIST_LIMIT);
    expect(listed[0].agentId).toBe('agent-00000');
    expect(listed[TRUST_LIST_LIMIT - 1].agentId).toBe(
      `agent-${String(TRUST_LIST_LIMIT - 1).padStart(5, '0')}`,
    );
    const read = await Promise.all(find.mock.results.map((r) => r.value as Promise<unknown[]>));
    expect(read.reduce((n, page) => n + page.length, 0)).toBe(TRUST_LIST_LIMIT);

    // A smaller limit pages no further than it.
    find.mockClear();
    expect((await repo.list(ACME, at(1), { limit: 3 })).map((l) => l.agentId)).toEqual([
      'agent-00000',
      'agent-00001',
      'agent-00002',
    ]);
    expect(find.mock.calls.map((c) => c[2]?.limit)).toEqual([3]);
    for (const limit of [0, TRUST_LIST_LIMIT + 1, 1.5])
      await expect(repo.list(ACME, at(1), { limit })).rejects.toThrow(RangeError);
  });
});
