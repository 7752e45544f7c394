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
import { TRUST_STATES, TrustRepository, trustDocId, type TrustDoc } from './trust.repository';

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
