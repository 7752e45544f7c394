import { randomBytes } from 'node:crypto';
import {
  BulkInsertError,
  ConcurrencyError,
  DuplicateKeyError,
  StorageError,
  defineCollection,
  tenantId,
} from '@mandate/storage';
import { contractCollection, describeDocumentStoreContract } from '@mandate/storage/testing';
import type { ContractDoc } from '@mandate/storage/testing';
import { MongoConnection } from './mongo-connection';
import { MongoDocumentStore } from './mongo-document-store';

const MONGO_URL = process.env['MONGO_URL'] ?? 'mongodb://127.0.0.1:27017';
// One database per run, dropped afterwards, so parallel or aborted runs never collide.
const DATABASE = `mandate_storage_it_${Date.now()}_${randomBytes(3).toString('hex')}`;

let connection: MongoConnection;

beforeAll(async () => {
  connection = await new MongoConnection({
    url: MONGO_URL,
    database: DATABASE,
    appName: 'mandate-storage-it',
  }).connect();
});

afterAll(async () => {
  await connection.db().dropDatabase();
  await connection.close();
});

describeDocumentStoreContract('MongoDocumentStore', async (definition) => {
  const store = new MongoDocumentStore<ContractDoc>(connection, definition);
  await store.ensureIndexes();
  return store;
});

describe('MongoDocumentStore on a real server', () => {
  const A = tenantId('tenant-a');
  const deal = (id: string, ref = `ref-${id}`): ContractDoc => ({
    id,
    name: id,
    status: 'open',
    amount: 1,
    ref,
    tags: [],
  });

  it('creates tenant-prefixed indexes idempotently and refuses a changed definition', async () => {
    const definition = contractCollection('indexes_it');
    const store = new MongoDocumentStore<ContractDoc>(connection, definition);
    const first = await store.ensureIndexes();
    const second = await store.ensureIndexes();
    expect(second).toEqual(first);
    expect(first).toEqual([
      'tenant_id',
      'outbox_pending',
      'ref_unique',
      'status_amount',
      'expires_ttl',
    ]);

    const listed = await connection.collection('indexes_it').listIndexes().toArray();
    const byName = new Map(listed.map((index) => [index['name'] as string, index]));
    expect(byName.size).toBe(6); // plus _id_
    expect(byName.get('ref_unique')).toMatchObject({ key: { _tid: 1, ref: 1 }, unique: true });
    expect(byName.get('status_amount')).toMatchObject({ key: { _tid: 1, status: 1, amount: -1 } });
    expect(Object.keys(byName.get('status_amount')!['key'] as object)).toEqual([
      '_tid',
      'status',
      'amount',
    ]);
    expect(byName.get('tenant_id')).toMatchObject({ key: { _tid: 1, id: 1 } });
    expect(byName.get('outbox_pending')).toMatchObject({ key: { _pending: 1, _id: 1 } });
    // TTL is swept by the store, so no native expireAfterSeconds (FerretDB 1.24 refuses it).
    expect(byName.get('expires_ttl')).toMatchObject({ key: { expiresAt: 1 } });
    expect(byName.get('expires_ttl')!['expireAfterSeconds']).toBeUndefined();

    const changed = defineCollection<ContractDoc>({
      name: 'indexes_it',
      indexes: [
        {
          name: 'ref_unique',
          keys: { ref: -1 },
          unique: true,
          why: 'Same name, different keys: must be refused.',
        },
      ],
    });
    await expect(
      new MongoDocumentStore<ContractDoc>(connection, changed).ensureIndexes(),
    ).rejects.toBeInstanceOf(StorageError);
  });

  it('stores the documented layout: tenant-keyed _id, _tid, version, outbox bookkeeping', async () => {
    const store = new MongoDocumentStore<ContractDoc>(connection, contractCollection('layout_it'));
    await store.ensureIndexes();
    await store.insert(A, deal('x'), {
      outbox: [{ topic: 't', key: 'k', payload: new Uint8Array([7]) }],
    });
    const raw = await connection.collection('layout_it').findOne({ _id: 'tenant-a:x' as never });
    expect(raw).toMatchObject({
      _id: 'tenant-a:x',
      _tid: 'tenant-a',
      id: 'x',
      version: 1,
      _pending: true,
    });
    expect(raw!['_outbox']).toHaveLength(1);
    expect(typeof raw!['_etag']).toBe('string');
  });

  it('names the unique index a duplicate hit', async () => {
    const store = new MongoDocumentStore<ContractDoc>(
      connection,
      contractCollection('dupnames_it'),
    );
    await store.ensureIndexes();
    await store.insert(A, deal('a', 'R'));
    await store.insert(A, deal('b', 'S'));
    await expect(store.insert(A, deal('a', 'Z'))).rejects.toMatchObject({ index: 'primary' });
    await expect(store.insert(A, deal('c', 'R'))).rejects.toMatchObject({ index: 'ref_unique' });
    const error = await store.update(A, 'b', { set: { ref: 'R' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateKeyError);
    expect(error).toMatchObject({ index: 'ref_unique' });
    expect((error as Error).message).not.toContain('"R"');
  });

  it('serializes writes to one document across store instances sharing a connection', async () => {
    const definition = contractCollection('shared_it');
    const first = new MongoDocumentStore<ContractDoc>(connection, definition);
    const second = new MongoDocumentStore<ContractDoc>(connection, definition);
    await first.ensureIndexes();
    await first.insert(A, deal('hot'));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? first : second).update(A, 'hot', { inc: { amount: 1 } }, { expectVersion: 1 }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrencyError);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? first : second).update(A, 'hot', { inc: { amount: 1 } }),
      ),
    );
    expect(await first.get(A, 'hot')).toMatchObject({ amount: 32, version: 32 });
  });

  it('stores insertMany documents in the same layout as insert, outbox included', async () => {
    const store = new MongoDocumentStore<ContractDoc>(
      connection,
      contractCollection('bulk_layout_it'),
    );
    await store.ensureIndexes();
    await store.insertMany(A, [deal('x'), deal('y')], {
      outbox: [[{ topic: 't', key: 'k', payload: new Uint8Array([7]) }]],
    });
    const raw = await connection
      .collection('bulk_layout_it')
      .find({}, { sort: { _id: 1 } })
      .toArray();
    expect(raw).toEqual([
      expect.objectContaining({
        _id: 'tenant-a:x',
        _tid: 'tenant-a',
        id: 'x',
        version: 1,
        _pending: true,
      }),
      expect.objectContaining({
        _id: 'tenant-a:y',
        _tid: 'tenant-a',
        id: 'y',
        version: 1,
        _pending: false,
        _outbox: [],
      }),
    ]);
    expect(raw[0]!['_outbox']).toHaveLength(1);
    expect(raw[0]!['_etag']).not.toEqual(raw[1]!['_etag']);
  });

  it('never reports a wrong prefix: a chunk beyond FerretDB’s insert batch is detected', async () => {
    // FerretDB 1.24 goes on with its next internal batch of 100 after an ordered-insert
    // duplicate; the default chunk (100 on FerretDB) avoids it, a larger one must not lie.
    const definition = contractCollection('bulk_chunk_it');
    const store = new MongoDocumentStore<ContractDoc>(connection, definition, {
      insertManyChunkSize: 1000,
    });
    await store.ensureIndexes();
    await store.insert(A, deal('c-010'));
    const docs = Array.from({ length: 250 }, (_, i) => deal(`c-${String(i).padStart(3, '0')}`));
    const error = await store.insertMany(A, docs).catch((e: unknown) => e);
    if ((await connection.serverInfo()).product === 'ferretdb') {
      expect(error).toBeInstanceOf(StorageError);
      expect(error).not.toBeInstanceOf(DuplicateKeyError);
      expect((error as Error).message).toMatch(/not honoured/);
    } else {
      expect(error).toBeInstanceOf(BulkInsertError);
      expect(error).toMatchObject({ insertedCount: 10 });
      expect(await store.count(A)).toBe(11);
    }
    expect(
      () => new MongoDocumentStore(connection, definition, { insertManyChunkSize: 0 }),
    ).toThrow(RangeError);
  });
});
