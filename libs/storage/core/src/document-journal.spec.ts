import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CorruptJournalError, FileDocumentJournal } from './document-journal';
import type { DocumentJournal, JournalSlot } from './document-journal';
import { InMemoryDocumentStore } from './in-memory-document-store';
import { defineCollection } from './index-spec';
import type { CollectionDefinition } from './index-spec';
import type { OutboxEntry, OutboxMessage } from './outbox';
import { DuplicateKeyError, StorageUnavailableError } from './storage.errors';
import { tenantId } from './tenant-id';
import { describeDocumentStoreContract } from './testing';
import type { ContractDoc } from './testing';

const A = tenantId('tenant-a');
const B = tenantId('tenant-b');

let root: string;
let dirCounter = 0;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mandate-journal-'));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function freshDir(): string {
  dirCounter += 1;
  return path.join(root, `d${dirCounter}`);
}

function entry(id: string, overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    id,
    topic: 'mandate.test',
    key: `key-${id}`,
    payload: new Uint8Array([0, 1, 2, 254, 255]),
    headers: { 'ce-type': 'test' },
    createdAt: new Date('2026-03-01T10:00:00.123Z'),
    ...overrides,
  };
}

function slot(id: string, overrides: Partial<JournalSlot> = {}): JournalSlot {
  return {
    key: `tenant-a:${id}`,
    tenant: A,
    fields: { id, name: `doc ${id}` },
    version: 1,
    outbox: [],
    deleted: false,
    ...overrides,
  };
}

function message(topic: string): OutboxMessage {
  return { topic, key: topic, payload: new TextEncoder().encode(topic) };
}

/** The store's slots, compared whole: fields, versions, outbox entries and tombstones. */
function slotsOf(store: InMemoryDocumentStore<{ id: string }>): Map<string, unknown> {
  return (store as unknown as { slots: Map<string, unknown> }).slots;
}

describe('FileDocumentJournal', () => {
  it('round-trips Dates, bytes, odd numbers, nested values, versions and outbox entries', () => {
    const dir = freshDir();
    const journal = new FileDocumentJournal({ dir, collection: 'deals' });
    const rich = slot('rich', {
      fields: {
        id: 'rich',
        closedAt: new Date('2024-05-06T07:08:09.123Z'),
        far: new Date(8.64e15),
        blob: new Uint8Array([0, 1, 2, 255]),
        empty: new Uint8Array([]),
        numbers: [1.5, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null],
        nested: { at: new Date(0), list: [{ deep: new Uint8Array([9]) }], flag: false },
        text: 'line one\nline two "quoted" \u2028 ünïcode',
      },
      version: 7,
      outbox: [entry('e1'), entry('e2', { headers: {} })],
    });
    journal.record(rich.key, rich);

    expect(fs.readFileSync(journal.file, 'utf8').split('\n')).toHaveLength(2);
    expect(fs.readFileSync(journal.file, 'utf8')).toContain('{"$date":"2024-05-06T07:08:09.123Z"}');
    const [loaded] = new FileDocumentJournal({ dir, collection: 'deals' }).load();
    expect(loaded).toEqual(rich);
    const fields = loaded!.fields as Record<string, unknown>;
    expect(fields['closedAt']).toBeInstanceOf(Date);
    expect(fields['blob']).toBeInstanceOf(Uint8Array);
    expect(Object.is((fields['numbers'] as number[])[1], -0)).toBe(true);
    expect(loaded!.outbox[0]!.payload).toEqual(new Uint8Array([0, 1, 2, 254, 255]));
    expect(loaded!.outbox[0]!.createdAt).toEqual(new Date('2026-03-01T10:00:00.123Z'));
  });

  it('keeps the latest line of each key and forgets removed keys', () => {
    const dir = freshDir();
    const journal = new FileDocumentJournal({ dir, collection: 'deals' });
    journal.record('tenant-a:x', slot('x'));
    journal.record('tenant-a:y', slot('y'));
    journal.record('tenant-a:x', slot('x', { version: 2, fields: { id: 'x', name: 'second' } }));
    journal.record('tenant-a:y', null);
    journal.record('tenant-a:z', slot('z', { version: 3, deleted: true, outbox: [entry('owed')] }));

    const loaded = new FileDocumentJournal({ dir, collection: 'deals' }).load();
    expect(loaded).toEqual([
      slot('x', { version: 2, fields: { id: 'x', name: 'second' } }),
      slot('z', { version: 3, deleted: true, outbox: [entry('owed')] }),
    ]);
  });

  it('compacts on load: one line per live key, atomically, and appends continue after it', () => {
    const dir = freshDir();
    const journal = new FileDocumentJournal({ dir, collection: 'deals' });
    for (let v = 1; v <= 20; v++) journal.record('tenant-a:x', slot('x', { version: v }));
    journal.record('tenant-a:gone', slot('gone'));
    journal.record('tenant-a:gone', null);
    expect(fs.readFileSync(journal.file, 'utf8').trimEnd().split('\n')).toHaveLength(22);

    const reopened = new FileDocumentJournal({ dir, collection: 'deals' });
    expect(reopened.load()).toEqual([slot('x', { version: 20 })]);
    const lines = fs.readFileSync(reopened.file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ key: 'tenant-a:x', version: 20 });
    expect(fs.readdirSync(dir)).toEqual(['deals.jsonl']);

    reopened.record('tenant-a:y', slot('y'));
    expect(new FileDocumentJournal({ dir, collection: 'deals' }).load()).toEqual([
      slot('x', { version: 20 }),
      slot('y'),
    ]);
  });

  it('drops a torn last line with a warning instead of failing, and compacts it away', () => {
    const dir = freshDir();
    const journal = new FileDocumentJournal({ dir, collection: 'deals' });
    journal.record('tenant-a:x', slot('x'));
    journal.record('tenant-a:x', slot('x', { version: 2 }));
    // A crash in the middle of the third append.
    const third = JSON.stringify({ key: 'tenant-a:x', tenant: 'tenant-a', version: 3 });
    fs.appendFileSync(journal.file, third.slice(0, 25));

    const warnings: string[] = [];
    const reopened = new FileDocumentJournal({
      dir,
      collection: 'deals',
      onWarning: (m) => warnings.push(m),
    });
    expect(reopened.load()).toEqual([slot('x', { version: 2 })]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/torn last line \(3,/);
    expect(fs.readFileSync(reopened.file, 'utf8').endsWith('\n')).toBe(true);

    const again: string[] = [];
    new FileDocumentJournal({ dir, collection: 'deals', onWarning: (m) => again.push(m) }).load();
    expect(again).toEqual([]);
  });

  it('accepts a complete last line that only lacks its newline', () => {
    const dir = freshDir();
    const journal = new FileDocumentJournal({ dir, collection: 'deals' });
    journal.record('tenant-a:x', slot('x'));
    fs.writeFileSync(journal.file, fs.readFileSync(journal.file, 'utf8').trimEnd());
    const warnings: string[] = [];
    const loaded = new FileDocumentJournal({
      dir,
      collection: 'deals',
      onWarning: (m) => warnings.push(m),
    }).load();
    expect(loaded).toEqual([slot('x')]);
    expect(warnings).toEqual([]);
  });

  it('refuses to load a damaged line that is not the last one', () => {
    const dir = freshDir();
    const journal = new FileDocumentJournal({ dir, collection: 'deals' });
    journal.record('tenant-a:x', slot('x'));
    fs.appendFileSync(journal.file, '{"key":"tenant-a:y","tenant":\n');
    journal.record('tenant-a:z', slot('z'));
    const reopened = new FileDocumentJournal({ dir, collection: 'deals' });
    expect(() => reopened.load()).toThrow(CorruptJournalError);
    expect(() => reopened.load()).toThrow(/deals\.jsonl:2: not valid JSON/);
    // Nothing was compacted over the evidence.
    expect(fs.readFileSync(journal.file, 'utf8').trimEnd().split('\n')).toHaveLength(3);
  });

  it('refuses unknown tags and records of the wrong shape', () => {
    const dir = freshDir();
    const file = path.join(dir, 'deals.jsonl');
    fs.mkdirSync(dir, { recursive: true });
    const line = (fields: unknown) =>
      `${JSON.stringify({ key: 'tenant-a:x', tenant: 'tenant-a', version: 1, deleted: false, fields, outbox: [] })}\n`;
    fs.writeFileSync(file, line({ id: 'x', when: { $when: 'now' } }));
    expect(() => new FileDocumentJournal({ dir, collection: 'deals' }).load()).toThrow(
      /invalid tagged value "\$when"/,
    );
    fs.writeFileSync(file, line({ id: 'x', when: { $date: 'not a date' } }));
    expect(() => new FileDocumentJournal({ dir, collection: 'deals' }).load()).toThrow(
      CorruptJournalError,
    );
    fs.writeFileSync(file, '{"key":"tenant-a:x","version":1}\n');
    expect(() => new FileDocumentJournal({ dir, collection: 'deals' }).load()).toThrow(
      /not a journal record/,
    );
  });

  it('returns nothing for a collection that was never written, and creates the directory', () => {
    const dir = path.join(freshDir(), 'nested', 'deeper');
    const journal = new FileDocumentJournal({ dir, collection: 'deals' });
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    expect(journal.load()).toEqual([]);
  });

  it('refuses collection names that are not plain names', () => {
    for (const collection of ['../escape', 'a/b', 'Deals', '', 'x.jsonl']) {
      expect(() => new FileDocumentJournal({ dir: freshDir(), collection })).toThrow(
        /collection name must match/,
      );
    }
  });

  it('refuses every write after a failed append (a torn line must stay the last one)', () => {
    const dir = freshDir();
    const journal = new FileDocumentJournal({ dir, collection: 'deals' });
    fs.mkdirSync(journal.file); // appending to a directory fails
    expect(() => journal.record('tenant-a:x', slot('x'))).toThrow(StorageUnavailableError);
    fs.rmdirSync(journal.file);
    expect(() => journal.record('tenant-a:x', slot('x'))).toThrow(/refuses writes/);
    expect(fs.existsSync(journal.file)).toBe(false);
  });
});

interface Deal {
  id: string;
  ref: string;
  name: string;
  amount: number;
  closedAt?: Date;
  expiresAt?: Date;
  blob?: Uint8Array;
}

const DEALS: CollectionDefinition<Deal> = defineCollection<Deal>({
  name: 'deals',
  indexes: [
    { name: 'ref_unique', keys: { ref: 1 }, unique: true, why: 'One deal per reference.' },
    { name: 'expires_ttl', keys: { expiresAt: 1 }, ttlSeconds: 60, why: 'Scratch deals expire.' },
  ],
});

function openStore(dir: string, definition: CollectionDefinition<Deal> = DEALS) {
  return new InMemoryDocumentStore<Deal>(definition, {
    journal: new FileDocumentJournal({ dir, collection: definition.name }),
  });
}

function deal(id: string, overrides: Partial<Deal> = {}): Deal {
  return { id, ref: `ref-${id}`, name: `deal ${id}`, amount: 100, ...overrides };
}

describe('InMemoryDocumentStore with a journal', () => {
  it('reopens with exactly the same documents, versions, outboxes and tombstones', async () => {
    const dir = freshDir();
    const store = openStore(dir);
    const now = new Date('2026-01-01T12:00:00Z');
    await store.insert(A, deal('a1', { closedAt: new Date('2026-02-03T04:05:06.789Z') }), {
      outbox: [message('created')],
    });
    await store.insert(B, deal('a1', { blob: new Uint8Array([1, 2, 3]) }));
    await store.insertMany(A, [deal('m1'), deal('m2'), deal('m3')], {
      outbox: [[message('m1')], [], [message('m3')]],
    });
    await store.update(A, 'a1', { set: { name: 'renamed' }, inc: { amount: 5 } });
    await store.update(A, 'a1', { set: { name: 'renamed twice' } });
    await store.upsert(A, deal('u1'));
    await store.upsert(A, deal('u1', { amount: 7 }), { expectVersion: 1 });
    await store.update(
      A,
      'up',
      { set: { name: 'made by update', ref: 'ref-up' } },
      { upsert: true },
    );
    await store.delete(A, 'm2'); // nothing owed: removed entirely
    await store.delete(A, 'm3', { outbox: [message('deleted')] }); // tombstone
    await store.insert(A, deal('old', { expiresAt: new Date(now.getTime() - 120_000) }));
    await store.insert(A, deal('fresh', { expiresAt: new Date(now.getTime() - 10_000) }));
    expect(await store.sweepExpired(now)).toBe(1);
    // The relay delivers a1's entry; m1's stays pending.
    const [pendingA1] = await store.pendingOutbox({ limit: 1 });
    expect(pendingA1?.documentId).toBe('a1');
    await store.clearOutbox(
      A,
      'a1',
      pendingA1!.entries.map((e) => e.id),
    );

    const reopened = openStore(dir);
    expect(slotsOf(reopened)).toEqual(slotsOf(store));
    expect(await reopened.find(A, {}, { sort: { id: 1 } })).toEqual(
      await store.find(A, {}, { sort: { id: 1 } }),
    );
    expect(await reopened.get(A, 'a1')).toMatchObject({ name: 'renamed twice', version: 3 });
    expect((await reopened.get(A, 'a1'))?.closedAt).toEqual(new Date('2026-02-03T04:05:06.789Z'));
    expect((await reopened.get(B, 'a1'))?.blob).toEqual(new Uint8Array([1, 2, 3]));
    expect(await reopened.get(A, 'm2')).toBeNull();
    expect(await reopened.get(A, 'm3')).toBeNull();
    expect(await reopened.get(A, 'old')).toBeNull();
    expect(await reopened.pendingOutbox({ limit: 10 })).toEqual(
      await store.pendingOutbox({ limit: 10 }),
    );
    expect((await reopened.pendingOutbox({ limit: 10 })).map((p) => p.documentId)).toEqual([
      'm1',
      'm3',
    ]);
  });

  it('still enforces unique indexes after a restore, tombstones included', async () => {
    const dir = freshDir();
    const store = openStore(dir);
    await store.insert(A, deal('x', { ref: 'taken' }));
    await store.insert(A, deal('t', { ref: 'tomb' }));
    await store.delete(A, 't', { outbox: [message('deleted')] });

    const reopened = openStore(dir);
    await expect(reopened.insert(A, deal('y', { ref: 'taken' }))).rejects.toBeInstanceOf(
      DuplicateKeyError,
    );
    await expect(reopened.insert(A, deal('x', { ref: 'other' }))).rejects.toBeInstanceOf(
      DuplicateKeyError,
    );
    await expect(reopened.insert(A, deal('z', { ref: 'tomb' }))).rejects.toBeInstanceOf(
      DuplicateKeyError,
    );
    await expect(reopened.insert(B, deal('y', { ref: 'taken' }))).resolves.toMatchObject({
      version: 1,
    });
  });

  it('continues versions after a restore, and a re-inserted tombstone inherits its outbox', async () => {
    const dir = freshDir();
    const store = openStore(dir);
    await store.insert(A, deal('x'));
    await store.update(A, 'x', { set: { amount: 2 } });
    await store.insert(A, deal('t'));
    await store.delete(A, 't', { outbox: [message('deleted')] });

    const reopened = openStore(dir);
    expect(await reopened.update(A, 'x', { set: { amount: 3 } }, { expectVersion: 2 })).toEqual(
      expect.objectContaining({ amount: 3, version: 3 }),
    );
    await reopened.insert(A, deal('t'), { outbox: [message('recreated')] });
    const pending = await reopened.pendingOutbox({ limit: 10 });
    expect(pending.flatMap((p) => p.entries.map((e) => e.topic))).toEqual(['deleted', 'recreated']);

    const third = openStore(dir);
    expect(await third.get(A, 'x')).toMatchObject({ amount: 3, version: 3 });
    expect(await third.get(A, 't')).toMatchObject({ version: 1 });
  });

  it('fails a write whose journal record fails, and leaves the store unchanged', async () => {
    let broken = false;
    const recorded: (JournalSlot | null)[] = [];
    const journal: DocumentJournal = {
      load: () => [],
      record: (_key, state) => {
        if (broken) throw new StorageUnavailableError('disk full');
        recorded.push(state);
      },
    };
    const store = new InMemoryDocumentStore<Deal>(DEALS, { journal });
    await store.insert(A, deal('x'), { outbox: [message('created')] });
    broken = true;
    await expect(store.update(A, 'x', { set: { amount: 9 } })).rejects.toThrow('disk full');
    await expect(store.insert(A, deal('y'))).rejects.toThrow('disk full');
    await expect(store.delete(A, 'x')).rejects.toThrow('disk full');
    const [pending] = await store.pendingOutbox({ limit: 1 });
    await expect(store.clearOutbox(A, 'x', [pending!.entries[0]!.id])).rejects.toThrow('disk full');
    expect(await store.get(A, 'x')).toMatchObject({ amount: 100, version: 1 });
    expect(await store.get(A, 'y')).toBeNull();
    expect(await store.pendingOutbox({ limit: 10 })).toHaveLength(1);
    expect(recorded).toHaveLength(1);
  });

  it('does not journal a relay call that removed nothing', async () => {
    const recorded: (JournalSlot | null)[] = [];
    const store = new InMemoryDocumentStore<Deal>(DEALS, {
      journal: { load: () => [], record: (_key, state) => void recorded.push(state) },
    });
    await store.insert(A, deal('x'), { outbox: [message('created')] });
    expect(await store.clearOutbox(A, 'x', ['unknown-entry'])).toBe(0);
    expect(recorded).toHaveLength(1);
  });

  it('refuses to restore data that breaks a unique index declared after it was written', async () => {
    const dir = freshDir();
    const loose = defineCollection<Deal>({ name: 'deals', indexes: [] });
    const store = openStore(dir, loose);
    await store.insert(A, deal('x', { ref: 'same' }));
    await store.insert(A, deal('y', { ref: 'same' }));
    expect(() => openStore(dir)).toThrow(DuplicateKeyError);
    expect(() => openStore(dir)).toThrow(/index ref_unique/);
  });

  it('refuses journal states that no write could have produced', () => {
    const journalOf = (states: JournalSlot[]): DocumentJournal => ({
      load: () => states,
      record: () => {
        throw new Error('nothing may be written while restoring');
      },
    });
    const cases: [JournalSlot, RegExp][] = [
      [slot('x', { key: 'tenant-b:x' }), /does not match its tenant and id/],
      [slot('x', { tenant: 'Bad Tenant' as never }), /invalid tenant id/],
      [slot('x', { version: 0 }), /invalid version/],
      [slot('x', { fields: { id: 'x', _hidden: 1 } }), /invalid document/],
      [slot('x', { deleted: true }), /tombstone with nothing left/],
      [slot('x', { outbox: [{ ...entry('e'), payload: 'text' as never }] }), /invalid outbox/],
    ];
    for (const [state, why] of cases) {
      expect(() => new InMemoryDocumentStore<Deal>(DEALS, { journal: journalOf([state]) })).toThrow(
        why,
      );
    }
    expect(
      () =>
        new InMemoryDocumentStore<Deal>(DEALS, {
          journal: journalOf([slot('x'), slot('x')]),
        }),
    ).toThrow(CorruptJournalError);
  });
});

/*
 * The whole storage contract against a journaled store; after every test, each store the test
 * used is reopened from its files and must hold exactly what the live store holds.
 */
const contractStores: {
  dir: string;
  definition: CollectionDefinition<ContractDoc>;
  store: InMemoryDocumentStore<ContractDoc>;
}[] = [];

afterEach(() => {
  for (const { dir, definition, store } of contractStores.splice(0)) {
    const reopened = new InMemoryDocumentStore<ContractDoc>(definition, {
      journal: new FileDocumentJournal({ dir, collection: definition.name }),
    });
    expect(slotsOf(reopened)).toEqual(slotsOf(store));
  }
});

describeDocumentStoreContract(
  'InMemoryDocumentStore with a FileDocumentJournal',
  async (definition) => {
    const dir = freshDir();
    const store = new InMemoryDocumentStore<ContractDoc>(definition, {
      journal: new FileDocumentJournal({ dir, collection: definition.name }),
    });
    contractStores.push({ dir, definition, store });
    return store;
  },
);
