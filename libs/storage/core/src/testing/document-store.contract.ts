/* Contract suite every DocumentStore adapter must pass (jest globals). */
import {
  BulkInsertError,
  ConcurrencyError,
  DocumentNotFoundError,
  DuplicateKeyError,
  InvalidStorageRequestError,
  MAX_INSERT_MANY,
  OutboxRelay,
  defineCollection,
  tenantId,
} from '../index';
import type {
  CollectionDefinition,
  DocumentStore,
  ExpirySweeper,
  OutboxEntry,
  OutboxMessage,
  OutboxOrigin,
  OutboxRelayErrorContext,
  OutboxSource,
  TenantId,
} from '../index';

/** The document shape the contract exercises: scalars, optionals, arrays, nested, bytes, dates. */
export interface ContractDoc {
  id: string;
  name: string;
  status: 'open' | 'won' | 'lost';
  amount: number;
  ref: string;
  tags: string[];
  owner?: string | null;
  closedAt?: Date;
  expiresAt?: Date;
  details?: { source: string; score?: number };
  blob?: Uint8Array;
}

export type ContractStore = DocumentStore<ContractDoc> & OutboxSource & ExpirySweeper;

/** Builds a fresh, empty store for `definition` (for a database: its indexes ensured). */
export type DocumentStoreFactory = (
  definition: CollectionDefinition<ContractDoc>,
) => Promise<ContractStore>;

export const CONTRACT_TTL_SECONDS = 60;

export function contractCollection(name: string): CollectionDefinition<ContractDoc> {
  return defineCollection<ContractDoc>({
    name,
    indexes: [
      {
        name: 'ref_unique',
        keys: { ref: 1 },
        unique: true,
        why: 'An external reference identifies one deal per tenant.',
      },
      {
        name: 'status_amount',
        keys: { status: 1, amount: -1 },
        why: 'Pipeline views list deals of a status by amount.',
      },
      {
        name: 'expires_ttl',
        keys: { expiresAt: 1 },
        ttlSeconds: CONTRACT_TTL_SECONDS,
        why: 'Scratch deals expire.',
      },
    ],
  });
}

const A = tenantId('tenant-a');
const B = tenantId('tenant-b');

function deal(id: string, overrides: Partial<ContractDoc> = {}): ContractDoc {
  return {
    id,
    name: `deal ${id}`,
    status: 'open',
    amount: 100,
    ref: `ref-${id}`,
    tags: [],
    ...overrides,
  };
}

function message(label: string): OutboxMessage {
  return {
    topic: 'crm.deal.v1',
    key: `k-${label}`,
    payload: new TextEncoder().encode(label),
    headers: { ce_type: label },
  };
}

function text(entry: OutboxEntry): string {
  return new TextDecoder().decode(entry.payload);
}

interface Delivery {
  readonly entry: OutboxEntry;
  readonly origin: OutboxOrigin;
}

function recordingRelay(
  source: OutboxSource,
  options: {
    batchSize?: number;
    publish?: (entry: OutboxEntry, origin: OutboxOrigin) => Promise<void>;
  } = {},
): { relay: OutboxRelay; deliveries: Delivery[]; errors: OutboxRelayErrorContext[] } {
  const deliveries: Delivery[] = [];
  const errors: OutboxRelayErrorContext[] = [];
  const relay = new OutboxRelay({
    sources: [source],
    batchSize: options.batchSize,
    intervalMs: 5,
    publish: async (entry, origin) => {
      await options.publish?.(entry, origin);
      deliveries.push({ entry, origin });
    },
    onError: (_error, context) => errors.push(context),
  });
  return { relay, deliveries, errors };
}

async function pendingEntries(store: OutboxSource): Promise<OutboxEntry[]> {
  return (await store.pendingOutbox({ limit: 1000 })).flatMap((p) => p.entries);
}

export function describeDocumentStoreContract(name: string, factory: DocumentStoreFactory): void {
  describe(`DocumentStore contract: ${name}`, () => {
    let counter = 0;
    let store: ContractStore;

    beforeEach(async () => {
      counter += 1;
      store = await factory(contractCollection(`contract_${counter}`));
    });

    describe('tenant isolation', () => {
      it('keeps equal ids of two tenants apart', async () => {
        await store.insert(A, deal('d1', { name: 'of A' }));
        await store.insert(B, deal('d1', { name: 'of B' }));
        expect((await store.get(A, 'd1'))?.name).toBe('of A');
        expect((await store.get(B, 'd1'))?.name).toBe('of B');
        await store.update(B, 'd1', { set: { name: 'B changed' } });
        expect((await store.get(A, 'd1'))?.name).toBe('of A');
      });

      it("never lets a tenant read, find, count, update or delete another tenant's document", async () => {
        await store.insert(A, deal('only-a'));
        expect(await store.get(B, 'only-a')).toBeNull();
        expect(await store.find(B, {})).toEqual([]);
        expect(await store.find(B, { id: 'only-a' })).toEqual([]);
        expect(await store.count(B)).toBe(0);
        await expect(store.update(B, 'only-a', { set: { name: 'hijack' } })).rejects.toBeInstanceOf(
          DocumentNotFoundError,
        );
        expect(await store.delete(B, 'only-a')).toBe(false);
        const upserted = await store.update(
          B,
          'only-a',
          { set: { name: 'B own' } },
          { upsert: true },
        );
        expect(upserted.version).toBe(1);
        const a = await store.get(A, 'only-a');
        expect(a).toEqual({ ...deal('only-a'), version: 1 });
        expect(await store.count(A)).toBe(1);
      });

      it('scopes unique indexes to the tenant', async () => {
        await store.insert(A, deal('x', { ref: 'shared-ref' }));
        await expect(store.insert(B, deal('y', { ref: 'shared-ref' }))).resolves.toMatchObject({
          version: 1,
        });
      });

      it('refuses an unvalidated tenant at run time as well', async () => {
        const forged = 'Not A Tenant' as TenantId;
        await expect(store.get(forged, 'x')).rejects.toBeInstanceOf(InvalidStorageRequestError);
        await expect(store.insert(forged, deal('x'))).rejects.toBeInstanceOf(
          InvalidStorageRequestError,
        );
      });
    });

    describe('insert and get', () => {
      it('inserts at version 1 and reads back the same values', async () => {
        const doc = deal('full', {
          amount: 1234.5,
          tags: ['a', 'b'],
          owner: null,
          closedAt: new Date('2024-05-06T07:08:09.123Z'),
          details: { source: 'web', score: 7 },
          blob: new Uint8Array([0, 1, 2, 255]),
        });
        const inserted = await store.insert(A, doc);
        expect(inserted).toEqual({ ...doc, version: 1 });
        const read = await store.get(A, 'full');
        expect(read).toEqual({ ...doc, version: 1 });
        expect(read!.closedAt).toBeInstanceOf(Date);
        expect(read!.blob).toBeInstanceOf(Uint8Array);
        expect(Object.keys(read!).filter((k) => k.startsWith('_'))).toEqual([]);
      });

      it('returns null for a missing id', async () => {
        expect(await store.get(A, 'nope')).toBeNull();
      });

      it('rejects a second insert of the same id with DuplicateKeyError and keeps the first', async () => {
        await store.insert(A, deal('dup', { name: 'first' }));
        await expect(
          store.insert(A, deal('dup', { name: 'second', ref: 'other' })),
        ).rejects.toBeInstanceOf(DuplicateKeyError);
        expect(await store.get(A, 'dup')).toMatchObject({ name: 'first', version: 1 });
      });

      it('hands out copies: mutating a result or the input does not change the store', async () => {
        const doc = deal('copy', { tags: ['x'] });
        const inserted = await store.insert(A, doc);
        doc.tags.push('mutated-input');
        inserted.tags.push('mutated-result');
        expect((await store.get(A, 'copy'))!.tags).toEqual(['x']);
      });

      it('refuses reserved field names, bad ids and unsupported values', async () => {
        const bad = [
          { ...deal('r1'), _tid: 'tenant-b' },
          { ...deal('r2'), version: 7 },
          { ...deal('r3'), $where: 'x' },
          { ...deal('r4'), details: { 'a.b': 1 } },
          { ...deal('r5'), fn: () => 1 },
          deal(''),
        ] as unknown as ContractDoc[];
        for (const doc of bad) {
          await expect(store.insert(A, doc)).rejects.toBeInstanceOf(InvalidStorageRequestError);
        }
        expect(await store.count(A)).toBe(0);
      });
    });

    describe('insertMany', () => {
      async function bulkError(promise: Promise<unknown>): Promise<BulkInsertError> {
        const error = await promise.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(BulkInsertError);
        expect(error).toBeInstanceOf(DuplicateKeyError);
        return error as BulkInsertError;
      }

      it('inserts every document in order at version 1, exactly as insert would', async () => {
        const docs = [
          deal('b1', { tags: ['x'], closedAt: new Date('2024-05-06T07:08:09.123Z') }),
          deal('b2', { owner: null, details: { source: 'web' }, blob: new Uint8Array([1, 2]) }),
          deal('b3'),
        ];
        expect(await store.insertMany(A, docs)).toEqual({ insertedCount: 3 });
        for (const doc of docs) expect(await store.get(A, doc.id)).toEqual({ ...doc, version: 1 });
        expect(ids(await store.find(A, {}))).toEqual(['b1', 'b2', 'b3']);
        docs[0]!.tags.push('mutated-input');
        expect((await store.get(A, 'b1'))!.tags).toEqual(['x']);
        await expect(store.insert(A, deal('b2'))).rejects.toBeInstanceOf(DuplicateKeyError);
        expect(await store.update(A, 'b3', { inc: { amount: 1 } })).toMatchObject({ version: 2 });
      });

      it('keeps tenants apart: the same ids and unique keys in another tenant', async () => {
        await store.insertMany(A, [deal('t1', { ref: 'shared' }), deal('t2')]);
        expect(await store.insertMany(B, [deal('t1', { ref: 'shared', name: 'of B' })])).toEqual({
          insertedCount: 1,
        });
        expect(await store.count(A)).toBe(2);
        expect(await store.count(B)).toBe(1);
        expect((await store.get(A, 't1'))?.name).toBe('deal t1');
        expect((await store.get(B, 't1'))?.name).toBe('of B');
        expect(await store.get(B, 't2')).toBeNull();
      });

      it('stops at a duplicate id: the prefix is stored, the error counts it, the rest is absent', async () => {
        await store.insert(A, deal('m3', { name: 'original' }));
        const error = await bulkError(
          store.insertMany(A, [
            deal('m1'),
            deal('m2'),
            deal('m3', { name: 'again', ref: 'ref-other' }),
            deal('m4'),
            deal('m5'),
          ]),
        );
        expect(error).toMatchObject({
          collection: store.collection,
          index: 'primary',
          insertedCount: 2,
          failedAt: 2,
          documentId: 'm3',
        });
        expect(error.message).not.toContain('m3');
        expect(ids(await store.find(A, {}))).toEqual(['m1', 'm2', 'm3']);
        expect(await store.get(A, 'm3')).toMatchObject({ name: 'original', version: 1 });
        expect(await store.get(A, 'm1')).toMatchObject({ version: 1 });
      });

      it('stops at an id repeated within the batch', async () => {
        const error = await bulkError(
          store.insertMany(A, [deal('r1'), deal('r2'), deal('r1', { ref: 'ref-x' }), deal('r3')]),
        );
        expect(error).toMatchObject({ index: 'primary', insertedCount: 2, failedAt: 2 });
        expect(ids(await store.find(A, {}))).toEqual(['r1', 'r2']);
      });

      it('stops at a unique index violation, against stored documents or earlier ones in the batch', async () => {
        await store.insert(A, deal('u0', { ref: 'R-0' }));
        const first = await bulkError(
          store.insertMany(A, [deal('u1'), deal('u2', { ref: 'R-0' }), deal('u3')]),
        );
        expect(first).toMatchObject({ index: 'ref_unique', insertedCount: 1, documentId: 'u2' });
        expect(ids(await store.find(A, {}))).toEqual(['u0', 'u1']);
        const second = await bulkError(
          store.insertMany(A, [deal('v1', { ref: 'R-1' }), deal('v2', { ref: 'R-1' })]),
        );
        expect(second).toMatchObject({ index: 'ref_unique', insertedCount: 1 });
        expect(ids(await store.find(A, {}))).toEqual(['u0', 'u1', 'v1']);
      });

      it('stores exactly the prefix of a batch larger than a database round trip', async () => {
        // 250 documents, the collision at 120: some documents after it share its command
        // chunk, others come in later chunks, on every adapter.
        await store.insert(A, deal('big-120', { ref: 'stored' }));
        const docs = Array.from({ length: 250 }, (_, i) =>
          deal(`big-${String(i).padStart(3, '0')}`),
        );
        const error = await bulkError(store.insertMany(A, docs));
        expect(error).toMatchObject({ insertedCount: 120, index: 'primary' });
        expect(await store.count(A)).toBe(121);
        expect(await store.get(A, 'big-119')).toMatchObject({ version: 1 });
        expect(await store.get(A, 'big-121')).toBeNull();
        expect(await store.get(A, 'big-249')).toBeNull();
        expect(await store.insertMany(A, docs.slice(121))).toEqual({ insertedCount: 129 });
        expect(await store.count(A)).toBe(250);
      });

      it('commits each document’s outbox entries with it; the relay delivers those of inserted documents only', async () => {
        const docs = [deal('o1'), deal('o2'), deal('o3'), deal('o4')];
        await store.insert(A, deal('o3', { ref: 'ref-taken' }));
        const error = await bulkError(
          store.insertMany(A, docs, {
            outbox: [
              [message('o1-a'), message('o1-b')],
              undefined,
              [message('o3')],
              [message('o4')],
            ],
          }),
        );
        expect(error.insertedCount).toBe(2);
        expect(
          await store.insertMany(B, [deal('o1'), deal('o2')], { outbox: [[], [message('b-o2')]] }),
        ).toEqual({ insertedCount: 2 });
        const { relay, deliveries } = recordingRelay(store);
        await relay.pollOnce();
        expect(
          deliveries
            .map((d) => `${d.origin.tenantId}/${d.origin.documentId}:${text(d.entry)}`)
            .sort(),
        ).toEqual(['tenant-a/o1:o1-a', 'tenant-a/o1:o1-b', 'tenant-b/o2:b-o2']);
        expect(await pendingEntries(store)).toEqual([]);
        expect(await store.get(A, 'o1')).toMatchObject({ version: 1 });
      });

      it('takes over a deleted document’s undelivered entries, as insert does', async () => {
        await store.insert(A, deal('tomb'), { outbox: [message('first-life')] });
        await store.delete(A, 'tomb');
        expect(
          await store.insertMany(A, [deal('before'), deal('tomb'), deal('after')], {
            outbox: [undefined, [message('second-life')]],
          }),
        ).toEqual({ insertedCount: 3 });
        expect(await store.get(A, 'tomb')).toMatchObject({ version: 1 });
        expect((await pendingEntries(store)).map(text)).toEqual(['first-life', 'second-life']);
      });

      it('does nothing for an empty batch', async () => {
        expect(await store.insertMany(A, [])).toEqual({ insertedCount: 0 });
        expect(await store.insertMany(A, [], { outbox: [] })).toEqual({ insertedCount: 0 });
        expect(await store.count(A)).toBe(0);
      });

      it('refuses a too-large batch, an invalid document or outbox anywhere, and writes nothing', async () => {
        const tooMany = Array.from({ length: MAX_INSERT_MANY + 1 }, (_, i) => deal(`x${i}`));
        await expect(store.insertMany(A, tooMany)).rejects.toBeInstanceOf(
          InvalidStorageRequestError,
        );
        const bad: [unknown[], unknown][] = [
          [[deal('i1'), deal('i2'), { ...deal('i3'), _tid: 'tenant-b' }], undefined],
          [[deal('i1'), { ...deal('i2'), version: 3 }], undefined],
          [[deal('i1'), deal('')], undefined],
          [
            [deal('i1'), deal('i2')],
            { outbox: [undefined, [{ topic: '', key: 'k', payload: new Uint8Array() }]] },
          ],
          [[deal('i1')], { outbox: [[message('a')], [message('b')]] }],
        ];
        for (const [docs, options] of bad) {
          const error = await store
            .insertMany(A, docs as ContractDoc[], options as never)
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidStorageRequestError);
        }
        const forged = 'Not A Tenant' as TenantId;
        await expect(store.insertMany(forged, [deal('i1')])).rejects.toBeInstanceOf(
          InvalidStorageRequestError,
        );
        expect(await store.count(A)).toBe(0);
        expect(await pendingEntries(store)).toEqual([]);
      });
    });

    describe('update', () => {
      it('applies set, unset, inc, push and pull in one write and bumps the version', async () => {
        await store.insert(A, deal('u', { tags: ['a', 'b', 'a', 'c'], owner: 'ann', amount: 10 }));
        const updated = await store.update(A, 'u', {
          set: { status: 'won', details: { source: 'call' } },
          unset: ['owner'],
          inc: { amount: 5 },
          push: { tags: ['d', 'e'] },
        });
        expect(updated).toEqual({
          ...deal('u', {
            status: 'won',
            amount: 15,
            tags: ['a', 'b', 'a', 'c', 'd', 'e'],
            details: { source: 'call' },
          }),
          version: 2,
        });
        const pulled = await store.update(A, 'u', { pull: { tags: ['a', 'e', 'zzz'] } });
        expect(pulled.tags).toEqual(['b', 'c', 'd']);
        expect(pulled.version).toBe(3);
        expect(await store.get(A, 'u')).toEqual(pulled);
      });

      it('stores null and empty arrays written by set and by an upserting update', async () => {
        await store.insert(A, deal('n', { owner: 'ann', tags: ['a'] }));
        expect(await store.update(A, 'n', { set: { owner: null, tags: [] } })).toMatchObject({
          owner: null,
          tags: [],
        });
        expect(await store.get(A, 'n')).toMatchObject({ owner: null, tags: [] });
        const created = await store.update(
          A,
          'n2',
          { setOnInsert: { owner: null, tags: [] }, set: { name: 'n2' } },
          { upsert: true },
        );
        expect(created).toEqual({ id: 'n2', owner: null, tags: [], name: 'n2', version: 1 });
        expect(await store.get(A, 'n2')).toEqual(created);
      });

      it('creates missing fields with inc and push', async () => {
        await store.insert(A, deal('m'));
        await store.update(A, 'm', { unset: ['owner'] });
        const updated = await store.update(
          A,
          'm',
          { inc: { amount: 1 }, push: { tags: ['t'] } },
          { expectVersion: 2 },
        );
        expect(updated).toMatchObject({ amount: 101, tags: ['t'], version: 3 });
        const raw = { ...deal('m2') } as Partial<ContractDoc>;
        delete raw.tags;
        await store.insert(A, raw as ContractDoc);
        expect(await store.update(A, 'm2', { push: { tags: ['first'] } })).toMatchObject({
          tags: ['first'],
        });
      });

      it('throws DocumentNotFoundError for a missing document, with or without expectVersion', async () => {
        await expect(store.update(A, 'ghost', { set: { name: 'x' } })).rejects.toBeInstanceOf(
          DocumentNotFoundError,
        );
        await expect(
          store.update(A, 'ghost', { set: { name: 'x' } }, { expectVersion: 1 }),
        ).rejects.toBeInstanceOf(DocumentNotFoundError);
        expect(await store.get(A, 'ghost')).toBeNull();
      });

      it('lets exactly one of two concurrent updates with the same expectVersion win', async () => {
        await store.insert(A, deal('race'));
        const results = await Promise.allSettled([
          store.update(A, 'race', { set: { name: 'left' } }, { expectVersion: 1 }),
          store.update(A, 'race', { set: { name: 'right' } }, { expectVersion: 1 }),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]!.reason).toBeInstanceOf(ConcurrencyError);
        const final = await store.get(A, 'race');
        expect(final!.version).toBe(2);
        expect(final!.name).toBe((won[0] as PromiseFulfilledResult<{ name: string }>).value.name);
      });

      it('rejects a stale expectVersion with ConcurrencyError and changes nothing', async () => {
        await store.insert(A, deal('stale'));
        await store.update(A, 'stale', { set: { name: 'v2' } }, { expectVersion: 1 });
        const error = await store
          .update(A, 'stale', { set: { name: 'v3?' } }, { expectVersion: 1 })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
        expect(await store.get(A, 'stale')).toMatchObject({ name: 'v2', version: 2 });
      });

      it('applies concurrent increments atomically without losing any', async () => {
        await store.insert(A, deal('counter', { amount: 0 }));
        await Promise.all(
          Array.from({ length: 20 }, () => store.update(A, 'counter', { inc: { amount: 1 } })),
        );
        expect(await store.get(A, 'counter')).toMatchObject({ amount: 20, version: 21 });
      });

      it('upserts: creates from setOnInsert and the operators, later leaves setOnInsert fields alone', async () => {
        const created = await store.update(
          A,
          'up',
          {
            setOnInsert: { name: 'initial', status: 'open', ref: 'ref-up', tags: [] },
            inc: { amount: 3 },
          },
          { upsert: true },
        );
        expect(created).toEqual({
          id: 'up',
          name: 'initial',
          status: 'open',
          ref: 'ref-up',
          tags: [],
          amount: 3,
          version: 1,
        });
        const again = await store.update(
          A,
          'up',
          { setOnInsert: { name: 'ignored' }, inc: { amount: 3 } },
          { upsert: true },
        );
        expect(again).toMatchObject({ name: 'initial', amount: 6, version: 2 });
      });

      it('refuses a field under two operators, unknown operators and upsert with expectVersion', async () => {
        await store.insert(A, deal('bad'));
        const cases: [unknown, unknown][] = [
          [{ set: { amount: 1 }, inc: { amount: 1 } }, undefined],
          [{ set: { name: 'x' }, setOnInsert: { name: 'y' } }, undefined],
          [{ $set: { name: 'x' } }, undefined],
          [{ set: { _tid: 'tenant-b' } }, undefined],
          [{ set: { version: 9 } }, undefined],
          [{ inc: { amount: 'one' } }, undefined],
          [{ set: { name: 'x' } }, { upsert: true, expectVersion: 1 }],
        ];
        for (const [spec, options] of cases) {
          await expect(
            store.update(A, 'bad', spec as never, options as never),
          ).rejects.toBeInstanceOf(InvalidStorageRequestError);
        }
        expect(await store.get(A, 'bad')).toEqual({ ...deal('bad'), version: 1 });
      });
    });

    describe('upsert', () => {
      it('creates at version 1, then replaces the whole document', async () => {
        const created = await store.upsert(A, deal('rep', { owner: 'ann', tags: ['t'] }));
        expect(created.version).toBe(1);
        const replaced = await store.upsert(A, deal('rep', { name: 'renamed' }));
        expect(replaced).toEqual({ ...deal('rep', { name: 'renamed' }), version: 2 });
        expect(await store.get(A, 'rep')).toEqual(replaced);
      });

      it('honours expectVersion, including for a document that does not exist', async () => {
        await expect(store.upsert(A, deal('ev'), { expectVersion: 1 })).rejects.toBeInstanceOf(
          ConcurrencyError,
        );
        await store.upsert(A, deal('ev'));
        await expect(
          store.upsert(A, deal('ev', { name: 'x' }), { expectVersion: 2 }),
        ).rejects.toBeInstanceOf(ConcurrencyError);
        await expect(
          store.upsert(A, deal('ev', { name: 'y' }), { expectVersion: 1 }),
        ).resolves.toMatchObject({
          name: 'y',
          version: 2,
        });
      });
    });

    describe('find and count', () => {
      beforeEach(async () => {
        const docs = [
          deal('d1', {
            status: 'open',
            amount: 50,
            owner: 'ann',
            closedAt: new Date('2024-01-01T00:00:00Z'),
          }),
          deal('d2', {
            status: 'won',
            amount: 500,
            owner: 'bob',
            closedAt: new Date('2024-02-01T00:00:00Z'),
          }),
          deal('d3', { status: 'won', amount: 150, owner: null }),
          deal('d4', { status: 'lost', amount: 150 }),
          deal('d5', { status: 'open', amount: 5000, owner: 'ann', name: 'Zeta' }),
          deal('d6', { status: 'open', amount: 150, name: 'alpha' }),
        ];
        for (const doc of docs) await store.insert(A, doc);
        await store.insert(B, deal('d1', { status: 'won', amount: 999 }));
      });

      it('filters by equality, $in, ranges and $exists', async () => {
        expect(ids(await store.find(A, { status: 'won' }))).toEqual(['d2', 'd3']);
        expect(ids(await store.find(A, { status: { $in: ['won', 'lost'] } }))).toEqual([
          'd2',
          'd3',
          'd4',
        ]);
        expect(ids(await store.find(A, { amount: { $gte: 150, $lt: 5000 } }))).toEqual([
          'd2',
          'd3',
          'd4',
          'd6',
        ]);
        expect(ids(await store.find(A, { amount: { $gt: 150 }, status: 'open' }))).toEqual(['d5']);
        expect(ids(await store.find(A, { amount: { $lte: 50 } }))).toEqual(['d1']);
        expect(ids(await store.find(A, { owner: { $exists: true } }))).toEqual([
          'd1',
          'd2',
          'd3',
          'd5',
        ]);
        expect(ids(await store.find(A, { owner: { $exists: false } }))).toEqual(['d4', 'd6']);
        expect(ids(await store.find(A, { owner: 'ann', status: { $eq: 'open' } }))).toEqual([
          'd1',
          'd5',
        ]);
        expect(ids(await store.find(A, { version: 1, id: { $in: ['d1', 'd6', 'zz'] } }))).toEqual([
          'd1',
          'd6',
        ]);
      });

      it('matches null against null and missing fields, as MongoDB does', async () => {
        expect(ids(await store.find(A, { owner: null }))).toEqual(['d3', 'd4', 'd6']);
        expect(ids(await store.find(A, { owner: { $in: [null, 'bob'] } }))).toEqual([
          'd2',
          'd3',
          'd4',
          'd6',
        ]);
      });

      it('compares dates by time and strings by code point (upper case before lower case)', async () => {
        expect(
          ids(await store.find(A, { closedAt: { $gte: new Date('2024-01-15T00:00:00Z') } })),
        ).toEqual(['d2']);
        expect(
          ids(await store.find(A, { closedAt: { $lt: new Date('2030-01-01T00:00:00Z') } })),
        ).toEqual(['d1', 'd2']);
        expect(ids(await store.find(A, { name: { $lt: 'a' } }))).toEqual(['d5']);
        expect(ids(await store.find(A, { name: { $gte: 'a' } }))).toEqual([
          'd1',
          'd2',
          'd3',
          'd4',
          'd6',
        ]);
      });

      it('sorts by several keys in order and breaks ties by id', async () => {
        expect(ids(await store.find(A, {}, { sort: { amount: -1 } }))).toEqual([
          'd5',
          'd2',
          'd3',
          'd4',
          'd6',
          'd1',
        ]);
        expect(ids(await store.find(A, {}, { sort: { status: 1, amount: 1 } }))).toEqual([
          'd4',
          'd1',
          'd6',
          'd5',
          'd3',
          'd2',
        ]);
        expect(ids(await store.find(A, {}, { sort: { amount: 1, id: -1 } }))).toEqual([
          'd1',
          'd6',
          'd4',
          'd3',
          'd2',
          'd5',
        ]);
        // Missing and null sort first ascending.
        expect(ids(await store.find(A, {}, { sort: { owner: 1 } }))).toEqual([
          'd3',
          'd4',
          'd6',
          'd1',
          'd5',
          'd2',
        ]);
        expect(ids(await store.find(A, {}, { sort: { closedAt: -1 }, limit: 2 }))).toEqual([
          'd2',
          'd1',
        ]);
      });

      it('applies the limit (default 100) and counts with the same filters', async () => {
        expect(
          ids(await store.find(A, { status: 'open' }, { limit: 2, sort: { amount: -1 } })),
        ).toEqual(['d5', 'd6']);
        expect(await store.count(A)).toBe(6);
        expect(await store.count(A, { status: 'open' })).toBe(3);
        expect(await store.count(A, { amount: { $gt: 100 }, owner: { $exists: false } })).toBe(2);
        expect(await store.count(B)).toBe(1);
      });

      it('refuses unbounded or unsafe queries', async () => {
        const bad: [unknown, unknown][] = [
          [{}, { limit: 0 }],
          [{}, { limit: 10_001 }],
          [{ $where: 'true' }, undefined],
          [{ name: { $regex: '.*' } }, undefined],
          [{ _tid: 'tenant-b' }, undefined],
          [{ 'details.source': 'web' }, undefined],
          [{ tags: ['a'] }, undefined],
          [{ name: { $gt: null } }, undefined],
          [{}, { sort: { amount: 2 } }],
        ];
        for (const [filter, options] of bad) {
          await expect(store.find(A, filter as never, options as never)).rejects.toBeInstanceOf(
            InvalidStorageRequestError,
          );
        }
      });
    });

    describe('delete', () => {
      it('deletes, reports false the second time, and the id can be inserted again at version 1', async () => {
        await store.insert(A, deal('del'));
        await store.update(A, 'del', { inc: { amount: 1 } });
        expect(await store.delete(A, 'del')).toBe(true);
        expect(await store.get(A, 'del')).toBeNull();
        expect(await store.count(A)).toBe(0);
        expect(await store.delete(A, 'del')).toBe(false);
        await expect(store.update(A, 'del', { inc: { amount: 1 } })).rejects.toBeInstanceOf(
          DocumentNotFoundError,
        );
        expect(await store.insert(A, deal('del', { name: 'reborn' }))).toMatchObject({
          name: 'reborn',
          version: 1,
        });
      });

      it('honours expectVersion', async () => {
        await store.insert(A, deal('dv'));
        await expect(store.delete(A, 'dv', { expectVersion: 2 })).rejects.toBeInstanceOf(
          ConcurrencyError,
        );
        expect(await store.get(A, 'dv')).not.toBeNull();
        expect(await store.delete(A, 'dv', { expectVersion: 1 })).toBe(true);
      });
    });

    describe('unique indexes', () => {
      it('enforces declared unique indexes on insert, update and upsert', async () => {
        await store.insert(A, deal('u1', { ref: 'R-1' }));
        await store.insert(A, deal('u2', { ref: 'R-2' }));
        await expect(store.insert(A, deal('u3', { ref: 'R-1' }))).rejects.toBeInstanceOf(
          DuplicateKeyError,
        );
        await expect(store.update(A, 'u2', { set: { ref: 'R-1' } })).rejects.toBeInstanceOf(
          DuplicateKeyError,
        );
        await expect(store.upsert(A, deal('u2', { ref: 'R-1' }))).rejects.toBeInstanceOf(
          DuplicateKeyError,
        );
        await expect(store.upsert(A, deal('u4', { ref: 'R-1' }))).rejects.toBeInstanceOf(
          DuplicateKeyError,
        );
        await expect(
          store.update(A, 'u5', { setOnInsert: { ref: 'R-1' } }, { upsert: true }),
        ).rejects.toBeInstanceOf(DuplicateKeyError);
        expect(await store.get(A, 'u2')).toMatchObject({ ref: 'R-2', version: 1 });
        expect(await store.count(A)).toBe(2);
        // Freed keys can be reused.
        await store.update(A, 'u1', { set: { ref: 'R-9' } });
        await expect(store.update(A, 'u2', { set: { ref: 'R-1' } })).resolves.toMatchObject({
          version: 2,
        });
      });
    });

    describe('outbox', () => {
      it('commits entries with the update; the relay publishes each once and clears them', async () => {
        await store.insert(A, deal('ob'));
        await store.update(A, 'ob', {
          set: { status: 'won' },
          outbox: [message('won'), message('notify')],
        });
        const pending = await store.pendingOutbox({ limit: 10 });
        expect(pending).toHaveLength(1);
        expect(pending[0]).toMatchObject({
          collection: store.collection,
          tenantId: A,
          documentId: 'ob',
        });
        expect(pending[0]!.entries.map(text)).toEqual(['won', 'notify']);
        const [first] = pending[0]!.entries;
        expect(first).toMatchObject({
          topic: 'crm.deal.v1',
          key: 'k-won',
          headers: { ce_type: 'won' },
        });
        expect(first!.payload).toBeInstanceOf(Uint8Array);
        expect(first!.createdAt).toBeInstanceOf(Date);
        expect(typeof first!.id).toBe('string');

        const { relay, deliveries, errors } = recordingRelay(store);
        expect(await relay.pollOnce()).toEqual({
          documents: 1,
          published: 2,
          cleared: 2,
          failures: 0,
        });
        expect(deliveries.map((d) => text(d.entry))).toEqual(['won', 'notify']);
        expect(deliveries[0]!.origin).toEqual({
          collection: store.collection,
          tenantId: A,
          documentId: 'ob',
        });
        expect(await relay.pollOnce()).toEqual({
          documents: 0,
          published: 0,
          cleared: 0,
          failures: 0,
        });
        expect(deliveries).toHaveLength(2);
        expect(errors).toEqual([]);
        expect(await pendingEntries(store)).toEqual([]);
        // The relay's write is invisible to callers: same version, same fields.
        expect(await store.get(A, 'ob')).toMatchObject({ status: 'won', version: 2 });
      });

      it('takes entries from insert, upsert and delete; a deleted document still delivers them', async () => {
        await store.insert(A, deal('o1'), { outbox: [message('created')] });
        await store.upsert(A, deal('o1', { name: 'renamed' }), { outbox: [message('replaced')] });
        expect(await store.delete(A, 'o1', { outbox: [message('deleted')] })).toBe(true);
        expect(await store.get(A, 'o1')).toBeNull();
        expect(await store.count(A)).toBe(0);
        expect(await store.find(A, {})).toEqual([]);

        const { relay, deliveries } = recordingRelay(store);
        await relay.pollOnce();
        expect(deliveries.map((d) => text(d.entry))).toEqual(['created', 'replaced', 'deleted']);
        expect(await pendingEntries(store)).toEqual([]);
        expect(await store.insert(A, deal('o1'))).toMatchObject({ version: 1 });
      });

      it('keeps a deleted document’s undelivered entries across a re-insert of the same id', async () => {
        await store.insert(A, deal('o2'), { outbox: [message('first-life')] });
        await store.delete(A, 'o2');
        await store.insert(A, deal('o2'), { outbox: [message('second-life')] });
        expect((await pendingEntries(store)).map(text)).toEqual(['first-life', 'second-life']);
      });

      it('republishes after a crash between publish and clear, and never loses an entry', async () => {
        await store.insert(A, deal('crash'), { outbox: [message('e1'), message('e2')] });
        const crashing: OutboxSource = {
          collection: store.collection,
          pendingOutbox: (query) => store.pendingOutbox(query),
          clearOutbox: async () => {
            throw new Error('simulated crash before clear');
          },
        };
        const first = recordingRelay(crashing);
        expect(await first.relay.pollOnce()).toMatchObject({
          published: 2,
          cleared: 0,
          failures: 1,
        });
        expect(first.errors).toEqual([
          expect.objectContaining({ phase: 'clear', documentId: 'crash' }),
        ]);
        expect((await pendingEntries(store)).map(text)).toEqual(['e1', 'e2']);

        const second = recordingRelay(store);
        expect(await second.relay.pollOnce()).toMatchObject({
          published: 2,
          cleared: 2,
          failures: 0,
        });
        expect(second.deliveries.map((d) => d.entry.id)).toEqual(
          first.deliveries.map((d) => d.entry.id),
        );
        expect(await pendingEntries(store)).toEqual([]);
      });

      it('leaves a failed entry and those after it pending, in order, for the next poll', async () => {
        await store.insert(A, deal('flaky'), {
          outbox: [message('f1'), message('f2'), message('f3')],
        });
        let failNext = true;
        const flaky = recordingRelay(store, {
          publish: async (entry) => {
            if (text(entry) === 'f2' && failNext) {
              failNext = false;
              throw new Error('broker unavailable');
            }
          },
        });
        expect(await flaky.relay.pollOnce()).toMatchObject({
          published: 1,
          cleared: 1,
          failures: 1,
        });
        expect((await pendingEntries(store)).map(text)).toEqual(['f2', 'f3']);
        await flaky.relay.pollOnce();
        expect(flaky.deliveries.map((d) => text(d.entry))).toEqual(['f1', 'f2', 'f3']);
        expect(await pendingEntries(store)).toEqual([]);
      });

      it('keeps entries appended while the relay was publishing', async () => {
        await store.insert(A, deal('busy'), { outbox: [message('before')] });
        let appended = false;
        const { relay, deliveries } = recordingRelay(store, {
          publish: async () => {
            if (!appended) {
              appended = true;
              await store.update(A, 'busy', { inc: { amount: 1 }, outbox: [message('during')] });
            }
          },
        });
        await relay.pollOnce();
        expect((await pendingEntries(store)).map(text)).toEqual(['during']);
        await relay.pollOnce();
        expect(deliveries.map((d) => text(d.entry))).toEqual(['before', 'during']);
        expect(await store.get(A, 'busy')).toMatchObject({ amount: 101, version: 2 });
      });

      it('removes only the given entry ids', async () => {
        await store.insert(A, deal('sel'), {
          outbox: [message('s1'), message('s2'), message('s3')],
        });
        const [item] = await store.pendingOutbox({ limit: 10 });
        const [, second] = item!.entries;
        expect(await store.clearOutbox(A, 'sel', [second!.id, 'unknown-id'])).toBe(1);
        expect((await pendingEntries(store)).map(text)).toEqual(['s1', 's3']);
        expect(await store.clearOutbox(B, 'sel', [item!.entries[0]!.id])).toBe(0);
      });

      it('pages through more pending documents than one batch, across tenants', async () => {
        for (let i = 0; i < 5; i++)
          await store.insert(i % 2 ? A : B, deal(`p${i}`), { outbox: [message(`m${i}`)] });
        const { relay, deliveries } = recordingRelay(store, { batchSize: 2 });
        for (let i = 0; i < 4; i++) await relay.pollOnce();
        expect(deliveries.map((d) => text(d.entry)).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
        expect(deliveries.find((d) => text(d.entry) === 'm1')!.origin.tenantId).toBe(A);
        expect(deliveries.find((d) => text(d.entry) === 'm0')!.origin.tenantId).toBe(B);
        expect(await pendingEntries(store)).toEqual([]);
      });

      it('delivers in the background once started and stops cleanly', async () => {
        const { relay, deliveries } = recordingRelay(store);
        relay.start();
        expect(relay.running).toBe(true);
        await store.insert(A, deal('bg'), { outbox: [message('background')] });
        const deadline = Date.now() + 10_000;
        while (deliveries.length === 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10));
        await relay.stop();
        expect(relay.running).toBe(false);
        expect(deliveries.map((d) => text(d.entry))).toEqual(['background']);
        expect(await pendingEntries(store)).toEqual([]);
      });

      it('refuses malformed outbox messages without writing anything', async () => {
        await store.insert(A, deal('mal'));
        const bad = [
          { topic: '', key: 'k', payload: new Uint8Array() },
          { topic: 't', key: 'k', payload: 'text' },
        ];
        for (const entry of bad) {
          await expect(
            store.update(A, 'mal', { set: { name: 'x' }, outbox: [entry as never] }),
          ).rejects.toBeInstanceOf(InvalidStorageRequestError);
        }
        expect(await store.get(A, 'mal')).toMatchObject({ name: 'deal mal', version: 1 });
        expect(await pendingEntries(store)).toEqual([]);
      });
    });

    describe('expiry', () => {
      it('sweeps expired documents but keeps those whose outbox is not yet delivered', async () => {
        const now = new Date('2025-01-01T12:00:00Z');
        const old = new Date(now.getTime() - (CONTRACT_TTL_SECONDS + 1) * 1000);
        const fresh = new Date(now.getTime() - (CONTRACT_TTL_SECONDS - 10) * 1000);
        await store.insert(A, deal('old', { expiresAt: old }));
        await store.insert(B, deal('old-b', { expiresAt: old }));
        await store.insert(A, deal('fresh', { expiresAt: fresh }));
        await store.insert(A, deal('forever'));
        await store.insert(A, deal('owing', { expiresAt: old }), { outbox: [message('owed')] });
        expect(await store.sweepExpired(now)).toBe(2);
        expect(ids(await store.find(A, {}))).toEqual(['forever', 'fresh', 'owing']);
        expect(await store.get(B, 'old-b')).toBeNull();
        await recordingRelay(store).relay.pollOnce();
        expect(await store.sweepExpired(now)).toBe(1);
        expect(ids(await store.find(A, {}))).toEqual(['forever', 'fresh']);
      });
    });
  });
}

function ids(docs: readonly { id: string }[]): string[] {
  return docs.map((d) => d.id);
}
