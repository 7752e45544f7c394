import {
  BulkInsertError,
  ConcurrencyError,
  DocumentNotFoundError,
  DuplicateKeyError,
  InvalidStorageRequestError,
  StorageError,
  StorageFields,
  applyUpdate,
  assertDocumentId,
  createOutboxEntries,
  isTenantId,
  newEtag,
  normalizeDocument,
  normalizeFilter,
  normalizeFindOptions,
  normalizeUpdate,
  physicalIndexes,
  prepareInsertMany,
  storageKey,
  validateIndexSpecs,
} from '@mandate/storage';
import type {
  CollectionDefinition,
  DeleteOptions,
  DocumentStore,
  ExpirySweeper,
  Filter,
  FindOptions,
  IndexSpec,
  InsertManyOptions,
  InsertManyResult,
  NormalizedFilter,
  NormalizedUpdate,
  OutboxEntry,
  OutboxSource,
  PendingOutbox,
  PendingOutboxQuery,
  PhysicalIndex,
  ReplaceOptions,
  TenantId,
  UpdateOptions,
  UpdateSpec,
  Versioned,
  WriteOptions,
} from '@mandate/storage';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import type {
  Collection,
  Document,
  Filter as MongoFilter,
  MongoError,
  UpdateFilter,
} from 'mongodb';
import { fromBson } from './bson-values';
import type { KeyedMutex } from './keyed-mutex';
import {
  indexNameFromError,
  isDuplicateKeyCode,
  isDuplicateKeyError,
  mapDriverError,
} from './mongo-errors';
import type { MongoConnection } from './mongo-connection';

/** The stored form (see `StorageFields` in @mandate/storage for the layout and why). */
interface RawDocument extends Document {
  _id: string;
  _tid: string;
  id: string;
  version: number;
  _etag: string;
  _outbox?: Document[];
  _pending?: boolean;
  _deleted?: true;
}

type Replacement = Omit<RawDocument, '_id'>;

const INTERNAL_FIELDS = new Set<string>([
  StorageFields.key,
  StorageFields.tenant,
  StorageFields.outbox,
  StorageFields.pending,
  StorageFields.etag,
  StorageFields.deleted,
]);

export interface MongoDocumentStoreOptions {
  readonly clock?: () => Date;
  /** Attempts of a compare-and-set loop before giving up with `ConcurrencyError` (default 10). */
  readonly maxAttempts?: number;
  /**
   * Documents per `insert` command of `insertMany`. Default: the whole batch on MongoDB (one
   * round trip; the driver splits only at the server's own limits), and 100 on FerretDB, whose
   * ordered insert keeps going for one more internal batch of 100 after a duplicate (see
   * README). Set it to FerretDB's `--test-batch-size` if that was changed.
   */
  readonly insertManyChunkSize?: number;
}

/** FerretDB 1.24's default internal insert batch (`--test-batch-size`). */
const FERRETDB_INSERT_BATCH = 100;

/**
 * `DocumentStore` on MongoDB (and FerretDB 1.24). Every change is one single-document write:
 * `findOneAndUpdate` with operators for `update`, and a compare-and-set on `_etag` where a
 * write must read first (replace, tombstone revival, outbox clearing). No transactions, no
 * change streams, no `arrayFilters`, no `$pull` conditions, no native TTL: FerretDB 1.24 has
 * none of them.
 */
export class MongoDocumentStore<T extends { id: string }>
  implements DocumentStore<T>, OutboxSource, ExpirySweeper
{
  readonly collection: string;
  private readonly coll: Collection<RawDocument>;
  private readonly indexes: PhysicalIndex[];
  private readonly clock: () => Date;
  private readonly maxAttempts: number;
  private readonly locks: KeyedMutex;
  private insertChunk: Promise<number> | undefined;

  constructor(
    private readonly connection: MongoConnection,
    private readonly definition: CollectionDefinition<T>,
    options: MongoDocumentStoreOptions = {},
  ) {
    validateIndexSpecs(definition.name, definition.indexes);
    this.collection = definition.name;
    this.coll = connection.collection<RawDocument>(definition.name);
    this.indexes = physicalIndexes(definition.indexes);
    this.clock = options.clock ?? (() => new Date());
    this.maxAttempts = options.maxAttempts ?? 10;
    this.locks = connection.documentLocks;
    const chunk = options.insertManyChunkSize;
    if (chunk !== undefined) {
      if (!Number.isInteger(chunk) || chunk < 1)
        throw new RangeError('insertManyChunkSize must be a positive integer');
      this.insertChunk = Promise.resolve(chunk);
    }
  }

  /**
   * Creates the base indexes (tenant scan, outbox relay) and the declared ones, tenant-prefixed.
   * Idempotent; an existing index with the same name but another definition is an error, never
   * silently dropped. Returns the index names in creation order.
   */
  async ensureIndexes(specs: readonly IndexSpec<T>[] = this.definition.indexes): Promise<string[]> {
    validateIndexSpecs(this.collection, specs);
    const names: string[] = [];
    for (const index of physicalIndexes(specs)) {
      try {
        // TTL is enforced by sweepExpired(), so a TTL spec becomes a plain index on its field.
        await this.coll.createIndex(
          { ...index.keys },
          { name: index.name, ...(index.unique ? { unique: true } : {}) },
        );
      } catch (error) {
        if (error instanceof MongoServerError && (error.code === 85 || error.code === 86)) {
          throw new StorageError(
            `index ${this.collection}.${index.name} exists with a different definition; migrate it explicitly (drop or rename)`,
          );
        }
        throw mapDriverError(error, this.collection);
      }
      names.push(index.name);
    }
    return names;
  }

  async get(tenant: TenantId, id: string): Promise<Versioned<T> | null> {
    assertTenant(tenant);
    return this.guard(async () => {
      // By `_id` alone, then the tenant and tombstone checks here: FerretDB serves an `_id`-only
      // lookup from its primary key, while any further condition makes it scan the collection.
      const raw = await this.coll.findOne(
        { _id: storageKey(tenant, id) },
        { projection: { [StorageFields.outbox]: 0 } },
      );
      return raw && raw._tid === tenant && raw._deleted !== true ? this.view(raw) : null;
    });
  }

  async find(
    tenant: TenantId,
    filter: Filter<T>,
    options?: FindOptions<T>,
  ): Promise<Versioned<T>[]> {
    assertTenant(tenant);
    const conditions = normalizeFilter(filter);
    const { limit, sort } = normalizeFindOptions(options);
    return this.guard(async () => {
      const docs = await this.coll
        .find(toMongoFilter(tenant, conditions), { projection: { [StorageFields.outbox]: 0 } })
        .sort(Object.fromEntries(sort))
        .limit(limit)
        .toArray();
      return docs.map((raw) => this.view(raw));
    });
  }

  async count(tenant: TenantId, filter?: Filter<T>): Promise<number> {
    assertTenant(tenant);
    const conditions = normalizeFilter(filter);
    return this.guard(() => this.coll.countDocuments(toMongoFilter(tenant, conditions)));
  }

  async insert(tenant: TenantId, doc: T, options?: WriteOptions): Promise<Versioned<T>> {
    assertTenant(tenant);
    const fields = normalizeDocument(doc);
    const entries = createOutboxEntries(options?.outbox, this.clock());
    const id = fields[StorageFields.id] as string;
    const key = storageKey(tenant, id);
    return this.write(key, async () =>
      this.view(await this.insertLocked(key, tenant, fields, entries)),
    );
  }

  /**
   * Ordered `insertMany` commands (one for the whole batch on MongoDB), holding every
   * document's lock. A duplicate stops the command at document `i`; that one then goes through
   * `insert`'s own path (which revives a tombstone, or names the index it collides on), and the
   * rest follows in a new command, or the call ends with `BulkInsertError`.
   */
  async insertMany(
    tenant: TenantId,
    docs: readonly T[],
    options?: InsertManyOptions,
  ): Promise<InsertManyResult> {
    assertTenant(tenant);
    const batch = prepareInsertMany(docs, options, this.clock());
    if (batch.length === 0) return { insertedCount: 0 };
    const items = batch.map((item) => ({ ...item, key: storageKey(tenant, item.id) }));
    return this.guard(async () => {
      const chunk = await this.insertChunkSize();
      return this.locks.runAll(
        items.map(({ key }) => this.lockKey(key)),
        async () => {
          let next = 0;
          while (next < items.length) {
            const end = Math.min(next + chunk, items.length);
            const raws = items
              .slice(next, end)
              .map(({ key, fields, entries }) => rawDocument(key, tenant, fields, 1, entries));
            try {
              await this.coll.insertMany(raws, { ordered: true });
              next = end;
              continue;
            } catch (error) {
              const stoppedAt = next + orderedDuplicateAt(error, raws.length);
              const failed = items[stoppedAt];
              if (!failed) throw error; // orderedDuplicateAt checked the range
              try {
                await this.insertLocked(failed.key, tenant, failed.fields, failed.entries);
              } catch (cause) {
                if (!(cause instanceof DuplicateKeyError)) throw cause;
                throw new BulkInsertError(this.collection, cause.index, stoppedAt, failed.id, {
                  cause,
                });
              }
              next = stoppedAt + 1;
            }
          }
          return { insertedCount: items.length };
        },
      );
    });
  }

  async upsert(tenant: TenantId, doc: T, options?: ReplaceOptions): Promise<Versioned<T>> {
    assertTenant(tenant);
    const fields = normalizeDocument(doc);
    const entries = createOutboxEntries(options?.outbox, this.clock());
    const id = fields[StorageFields.id] as string;
    const key = storageKey(tenant, id);
    const expected = options?.expectVersion;
    return this.write(key, async () => {
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        const existing = await this.coll.findOne({ _id: key });
        const live = existing && !existing._deleted ? existing : null;
        if (expected !== undefined && live?.version !== expected) {
          throw new ConcurrencyError(this.collection, id, expected, live?.version);
        }
        if (!existing) {
          const raw = rawDocument(key, tenant, fields, 1, entries);
          try {
            await this.coll.insertOne(raw);
            return this.view(raw);
          } catch (error) {
            if (!isDuplicateKeyError(error)) throw error;
            // Someone created it meanwhile: go round and replace it instead.
            if (await this.coll.findOne({ _id: key }, { projection: { _id: 1 } })) continue;
            throw await this.duplicateKey(error, raw);
          }
        }
        const next = rawDocument(
          key,
          tenant,
          fields,
          live ? live.version + 1 : 1,
          entries,
          existing._outbox,
        );
        const replaced = await this.replaceIfUnchanged(existing, next);
        if (replaced) return this.view(replaced);
      }
      throw new ConcurrencyError(this.collection, id, expected, undefined);
    });
  }

  async update(
    tenant: TenantId,
    id: string,
    spec: UpdateSpec<T>,
    options?: UpdateOptions,
  ): Promise<Versioned<T>> {
    assertTenant(tenant);
    assertDocumentId(id);
    const update = normalizeUpdate(spec);
    const upsert = options?.upsert === true;
    const expected = options?.expectVersion;
    if (upsert && expected !== undefined)
      throw new InvalidStorageRequestError('expectVersion cannot be combined with upsert');
    const entries = createOutboxEntries(spec.outbox, this.clock());
    const key = storageKey(tenant, id);
    const filter: MongoFilter<RawDocument> = {
      ...liveFilter(tenant, id),
      ...(expected !== undefined ? { version: expected } : {}),
    };
    return this.write(key, async () => {
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        let after: RawDocument | null;
        try {
          after = await this.coll.findOneAndUpdate(filter, updateOperators(update, entries), {
            returnDocument: 'after',
          });
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          // What the document would have become, to find the index it collides on.
          const current = await this.coll.findOne({ _id: key });
          const base = current ? (this.view(current) as Record<string, unknown>) : { id };
          throw await this.duplicateKey(
            error,
            rawDocument(key, tenant, applyUpdate(base, update, !current), 1, entries),
          );
        }
        if (after) return this.view(after);
        const existing = await this.coll.findOne({ _id: key });
        if (existing && !existing._deleted) {
          if (expected !== undefined)
            throw new ConcurrencyError(this.collection, id, expected, existing.version);
          continue; // created between the two reads: it matches now
        }
        if (!upsert) throw new DocumentNotFoundError(this.collection, id);
        // Created by insert rather than an upserting findOneAndUpdate: FerretDB 1.24 drops
        // `[]` and `null` values of $setOnInsert, and the fields are computed by the same
        // applyUpdate() the in-memory store uses. A tombstone's outbox is taken over.
        const created = rawDocument(
          key,
          tenant,
          applyUpdate({ id }, update, true),
          1,
          entries,
          existing?._outbox,
        );
        if (existing) {
          const revived = await this.replaceIfUnchanged(existing, created);
          if (revived) return this.view(revived);
          continue;
        }
        try {
          await this.coll.insertOne(created);
          return this.view(created);
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          if (await this.coll.findOne({ _id: key }, { projection: { _id: 1 } })) continue;
          throw await this.duplicateKey(error, created);
        }
      }
      throw new ConcurrencyError(this.collection, id, expected, undefined);
    });
  }

  async delete(tenant: TenantId, id: string, options?: DeleteOptions): Promise<boolean> {
    assertTenant(tenant);
    assertDocumentId(id);
    const entries = createOutboxEntries(options?.outbox, this.clock());
    const key = storageKey(tenant, id);
    const expected = options?.expectVersion;
    const filter: MongoFilter<RawDocument> = {
      ...liveFilter(tenant, id),
      ...(expected !== undefined ? { version: expected } : {}),
    };
    return this.write(key, async () => {
      if (entries.length === 0) {
        // Common case: nothing left to deliver, so the document can simply go.
        const gone = await this.coll.deleteOne({ ...filter, _pending: { $ne: true } });
        if (gone.deletedCount === 1) return true;
      }
      // Undelivered entries: keep an invisible tombstone until the relay has published them.
      const tombstone = await this.coll.findOneAndUpdate(
        filter,
        {
          $set: {
            _deleted: true,
            _etag: newEtag(),
            ...(entries.length > 0 ? { _pending: true } : {}),
          },
          $inc: { version: 1 },
          ...(entries.length > 0 ? { $push: { _outbox: { $each: entries } } } : {}),
        } as UpdateFilter<RawDocument>,
        { returnDocument: 'after' },
      );
      if (!tombstone) {
        if (expected === undefined) return false;
        const existing = await this.coll.findOne(
          { _id: key },
          { projection: { version: 1, _deleted: 1 } },
        );
        if (existing && !existing._deleted)
          throw new ConcurrencyError(this.collection, id, expected, existing.version);
        return false;
      }
      // The relay may have drained the outbox between the two writes.
      if (!tombstone._pending) await this.coll.deleteOne({ _id: key, _etag: tombstone._etag });
      return true;
    });
  }

  async pendingOutbox(query: PendingOutboxQuery): Promise<PendingOutbox[]> {
    return this.guard(async () => {
      const docs = await this.coll
        .find(
          { _pending: true, ...(query.after !== undefined ? { _id: { $gt: query.after } } : {}) },
          { projection: { _id: 1, _tid: 1, id: 1, _outbox: 1 } },
        )
        .sort({ _id: 1 })
        .limit(query.limit)
        .toArray();
      return docs.map((raw) => ({
        collection: this.collection,
        tenantId: raw._tid as TenantId,
        documentId: raw.id,
        cursor: raw._id,
        entries: (raw._outbox ?? []).map((entry) => fromBson(entry) as OutboxEntry),
      }));
    });
  }

  async clearOutbox(
    tenant: TenantId,
    documentId: string,
    entryIds: readonly string[],
  ): Promise<number> {
    assertTenant(tenant);
    const key = storageKey(tenant, documentId);
    const ids = new Set(entryIds);
    return this.write(key, async () => {
      // Compare-and-set on _etag rather than `$pull: {_outbox: {id: {$in: ids}}}`: FerretDB 1.24
      // silently ignores operators inside a $pull condition.
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        const raw = await this.coll.findOne(
          { _id: key, _tid: tenant },
          { projection: { _outbox: 1, _etag: 1, _deleted: 1 } },
        );
        if (!raw) return 0;
        const outbox = raw._outbox ?? [];
        const remaining = outbox.filter((entry) => !ids.has(entry['id'] as string));
        const removed = outbox.length - remaining.length;
        if (removed === 0) return 0;
        if (raw._deleted && remaining.length === 0) {
          const gone = await this.coll.deleteOne({ _id: key, _etag: raw._etag });
          if (gone.deletedCount === 1) return removed;
          continue;
        }
        const done = await this.coll.updateOne(
          { _id: key, _etag: raw._etag },
          { $set: { _outbox: remaining, _pending: remaining.length > 0, _etag: newEtag() } },
        );
        if (done.matchedCount === 1) return removed;
      }
      throw new ConcurrencyError(this.collection, documentId, undefined, undefined);
    });
  }

  async sweepExpired(now: Date = this.clock()): Promise<number> {
    return this.guard(async () => {
      let removed = 0;
      for (const index of this.indexes) {
        if (!index.ttl) continue;
        const cutoff = new Date(now.getTime() - index.ttl.seconds * 1000);
        removed += await this.deleteEach({
          [index.ttl.field]: { $lt: cutoff },
          _pending: { $ne: true },
        });
      }
      // Tombstones whose outbox is already delivered are left only by an interrupted delete().
      await this.deleteEach({ _deleted: true, _pending: { $ne: true } });
      return removed;
    });
  }

  /**
   * Deletes matching documents one by one, each under its lock and only if unchanged since it
   * was read, rather than `deleteMany`: on FerretDB a bulk delete could remove a document that
   * a concurrent write had just given undelivered outbox entries.
   */
  private async deleteEach(filter: MongoFilter<RawDocument>): Promise<number> {
    let removed = 0;
    const batch = 500;
    let after: string | undefined;
    for (;;) {
      const page = await this.coll
        .find(
          { ...filter, ...(after !== undefined ? { _id: { $gt: after } } : {}) },
          { projection: { _id: 1, _etag: 1 } },
        )
        .sort({ _id: 1 })
        .limit(batch)
        .toArray();
      for (const doc of page) {
        const gone = await this.locks.run(`${this.collection}\0${doc._id}`, () =>
          this.coll.deleteOne({ ...filter, _id: doc._id, _etag: doc._etag }),
        );
        removed += gone.deletedCount;
      }
      const last = page.at(-1);
      if (page.length < batch || !last) return removed;
      after = last._id;
    }
  }

  private view(raw: Document): Versioned<T> {
    const out: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(raw)) {
      if (!INTERNAL_FIELDS.has(field)) out[field] = fromBson(value);
    }
    return out as Versioned<T>;
  }

  /** `insert` under the document's lock: a new document, or a tombstone revived with its outbox. */
  private async insertLocked(
    key: string,
    tenant: TenantId,
    fields: Record<string, unknown>,
    entries: readonly OutboxEntry[],
  ): Promise<RawDocument> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const raw = rawDocument(key, tenant, fields, 1, entries);
      try {
        await this.coll.insertOne(raw);
        return raw;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        const existing = await this.coll.findOne({ _id: key });
        if (!existing) throw await this.duplicateKey(error, raw);
        if (!existing._deleted) throw new DuplicateKeyError(this.collection, 'primary');
        // A tombstone still owes its outbox: the new incarnation takes it over.
        const revived = await this.replaceIfUnchanged(
          existing,
          rawDocument(key, tenant, fields, 1, entries, existing._outbox),
        );
        if (revived) return revived;
      }
    }
    throw new ConcurrencyError(
      this.collection,
      fields[StorageFields.id] as string,
      undefined,
      undefined,
    );
  }

  /** Documents per insert command: configured, else by server (FerretDB needs small ones). */
  private insertChunkSize(): Promise<number> {
    this.insertChunk ??= this.connection.serverInfo().then(
      (info) => (info.product === 'ferretdb' ? FERRETDB_INSERT_BATCH : Number.MAX_SAFE_INTEGER),
      (error: unknown) => {
        this.insertChunk = undefined; // ask again next time
        throw error;
      },
    );
    return this.insertChunk;
  }

  /** Replaces `existing` with `next` unless something wrote to it since it was read. */
  private async replaceIfUnchanged(
    existing: RawDocument,
    next: RawDocument,
  ): Promise<RawDocument | null> {
    const { _id: key, ...replacement } = next;
    try {
      const result = await this.coll.replaceOne(
        { _id: key, _etag: existing._etag },
        replacement as Replacement,
      );
      return result.matchedCount === 1 ? next : null;
    } catch (error) {
      if (isDuplicateKeyError(error)) throw await this.duplicateKey(error, next);
      throw error;
    }
  }

  /** Which unique index a duplicate hit: from the error where it says, else by looking. */
  private async duplicateKey(
    error: MongoError,
    candidate: RawDocument,
  ): Promise<DuplicateKeyError> {
    const unique = this.indexes.filter((index) => index.unique);
    let name = indexNameFromError(
      error,
      unique.map((index) => index.name),
    );
    if (name === undefined) {
      for (const index of unique) {
        const probe: Document = { _id: { $ne: candidate._id } };
        for (const path of Object.keys(index.keys))
          probe[path] = valueAtPath(candidate, path) ?? null;
        if (await this.coll.findOne(probe, { projection: { _id: 1 } })) {
          name = index.name;
          break;
        }
      }
    }
    return new DuplicateKeyError(this.collection, name ?? 'unknown');
  }

  /** A write to one document: queued behind other writes to it in this process, errors mapped. */
  private write<R>(key: string, work: () => Promise<R>): Promise<R> {
    return this.guard(() => this.locks.run(this.lockKey(key), work));
  }

  private lockKey(key: string): string {
    return `${this.collection}\0${key}`;
  }

  private async guard<R>(work: () => Promise<R>): Promise<R> {
    try {
      return await work();
    } catch (error) {
      throw mapDriverError(error, this.collection);
    }
  }
}

function assertTenant(tenant: TenantId): void {
  // The type already requires a TenantId; this catches callers that cast around it.
  if (!isTenantId(tenant)) throw new InvalidStorageRequestError('a valid tenant id is required');
}

function liveFilter(tenant: TenantId, id: string): MongoFilter<RawDocument> {
  return { _id: storageKey(tenant, id), _tid: tenant, _deleted: { $ne: true } };
}

function toMongoFilter(tenant: TenantId, filter: NormalizedFilter): MongoFilter<RawDocument> {
  const out: Document = { _tid: tenant, _deleted: { $ne: true } };
  for (const { field, conditions } of filter) {
    const operators: Document = {};
    for (const condition of conditions) operators[condition.op] = condition.value;
    out[field] = operators;
  }
  return out as MongoFilter<RawDocument>;
}

function rawDocument(
  key: string,
  tenant: TenantId,
  fields: Readonly<Record<string, unknown>>,
  version: number,
  entries: readonly OutboxEntry[],
  inheritedOutbox: readonly Document[] = [],
): RawDocument {
  const outbox = [...inheritedOutbox, ...entries];
  return {
    _id: key,
    _tid: tenant,
    ...fields,
    id: fields[StorageFields.id] as string,
    version,
    _etag: newEtag(),
    _outbox: outbox as Document[],
    _pending: outbox.length > 0,
  };
}

/** The one atomic update of an existing document: caller operators plus version, etag and outbox. */
function updateOperators(
  update: NormalizedUpdate,
  entries: readonly OutboxEntry[],
): UpdateFilter<RawDocument> {
  const hasEntries = entries.length > 0;
  const push: Document = {};
  for (const [field, elements] of Object.entries(update.push)) push[field] = { $each: elements };
  if (hasEntries) push[StorageFields.outbox] = { $each: entries };
  const ops: Document = {
    $set: { ...update.set, _etag: newEtag(), ...(hasEntries ? { _pending: true } : {}) },
    $inc: { ...update.inc, version: 1 },
  };
  if (update.unset.length > 0)
    ops['$unset'] = Object.fromEntries(update.unset.map((field) => [field, '']));
  if (Object.keys(push).length > 0) ops['$push'] = push;
  if (Object.keys(update.pull).length > 0) ops['$pullAll'] = { ...update.pull };
  return ops as UpdateFilter<RawDocument>;
}

/**
 * Where an ordered insert of `count` documents stopped on a duplicate key, relative to the
 * command; rethrows anything else. Refuses to guess when the server went on past the failing
 * document (FerretDB does, across its internal batches): then the stored set is no prefix.
 */
function orderedDuplicateAt(error: unknown, count: number): number {
  if (!(error instanceof MongoBulkWriteError)) throw error;
  const writeErrors = error.writeErrors;
  const first = Array.isArray(writeErrors) ? writeErrors[0] : writeErrors;
  if (!first || !isDuplicateKeyCode(first.code, first.errmsg)) throw error;
  const at = first.index;
  if (!Number.isInteger(at) || at < 0 || at >= count || error.insertedCount !== at) {
    throw new StorageError(
      `ordered insert not honoured by the server (stopped at ${at}, inserted ${error.insertedCount}); re-read the batch's ids to see what was stored`,
      { cause: error },
    );
  }
  return at;
}

function valueAtPath(doc: Document, path: string): unknown {
  let current: unknown = doc;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Document)[segment];
  }
  return current;
}
