import type {
  DeleteOptions,
  DocumentStore,
  ExpirySweeper,
  Filter,
  FindOptions,
  InsertManyOptions,
  InsertManyResult,
  ReplaceOptions,
  UpdateOptions,
  UpdateSpec,
  Versioned,
  WriteOptions,
} from './document-store.port';
import { CorruptJournalError } from './document-journal';
import type { DocumentJournal, JournalSlot } from './document-journal';
import { assertDocumentId, copyValue, isPlainObject, normalizeDocument } from './document-values';
import { physicalIndexes, validateIndexSpecs } from './index-spec';
import { prepareInsertMany } from './insert-many';
import type { CollectionDefinition, PhysicalIndex } from './index-spec';
import { createOutboxEntries } from './outbox';
import type { OutboxEntry, OutboxSource, PendingOutbox, PendingOutboxQuery } from './outbox';
import { compareBySort, matchesFilter, normalizeFilter, normalizeFindOptions } from './query';
import {
  BulkInsertError,
  ConcurrencyError,
  DocumentNotFoundError,
  DuplicateKeyError,
  InvalidStorageRequestError,
  StorageError,
} from './storage.errors';
import { StorageFields, storageKey } from './storage-layout';
import { isTenantId } from './tenant-id';
import type { TenantId } from './tenant-id';
import { applyUpdate, normalizeUpdate } from './update-spec';
import { canonicalKey, compareStrings } from './value-order';

interface Slot {
  readonly key: string;
  readonly tenant: TenantId;
  /** Caller fields including `id`; never handed out without a copy. */
  fields: Record<string, unknown>;
  version: number;
  outbox: OutboxEntry[];
  deleted: boolean;
}

export interface InMemoryDocumentStoreOptions {
  readonly clock?: () => Date;
  /**
   * Makes the store survive restarts: its state is restored from `journal.load()` when the
   * store is constructed, and every committed change to a document (writes, deletes and
   * tombstones, outbox deliveries, expiry) is handed to `journal.record` synchronously, before
   * it becomes visible. A write whose `record` throws fails and changes nothing.
   */
  readonly journal?: DocumentJournal;
}

/**
 * The embedded adapter: same layout and semantics as the MongoDB adapter (tenant-keyed ids,
 * versions, unique indexes, outbox, tombstones), held in a Map. Every operation runs its
 * read-check-write without awaiting in between, which is what makes it atomic in one process.
 * Values are deep-copied on the way in and out.
 */
export class InMemoryDocumentStore<T extends { id: string }>
  implements DocumentStore<T>, OutboxSource, ExpirySweeper
{
  readonly collection: string;
  private readonly slots = new Map<string, Slot>();
  private readonly uniqueIndexes: PhysicalIndex[];
  private readonly ttlIndexes: PhysicalIndex[];
  private readonly clock: () => Date;
  private readonly journal: DocumentJournal | undefined;

  constructor(definition: CollectionDefinition<T>, options: InMemoryDocumentStoreOptions = {}) {
    validateIndexSpecs(definition.name, definition.indexes);
    this.collection = definition.name;
    const indexes = physicalIndexes(definition.indexes);
    this.uniqueIndexes = indexes.filter((i) => i.unique);
    this.ttlIndexes = indexes.filter((i) => i.ttl !== undefined);
    this.clock = options.clock ?? (() => new Date());
    this.journal = options.journal;
    if (this.journal) this.restore(this.journal.load());
  }

  async get(tenant: TenantId, id: string): Promise<Versioned<T> | null> {
    assertTenant(tenant);
    const slot = this.live(tenant, id);
    return slot ? this.view(slot) : null;
  }

  async find(
    tenant: TenantId,
    filter: Filter<T>,
    options?: FindOptions<T>,
  ): Promise<Versioned<T>[]> {
    assertTenant(tenant);
    const conditions = normalizeFilter(filter);
    const { limit, sort } = normalizeFindOptions(options);
    const compare = compareBySort(sort);
    return this.liveOf(tenant)
      .map((slot) => ({ slot, doc: { ...slot.fields, version: slot.version } }))
      .filter(({ doc }) => matchesFilter(doc, conditions))
      .sort((a, b) => compare(a.doc, b.doc))
      .slice(0, limit)
      .map(({ slot }) => this.view(slot));
  }

  async count(tenant: TenantId, filter?: Filter<T>): Promise<number> {
    assertTenant(tenant);
    const conditions = normalizeFilter(filter);
    return this.liveOf(tenant).filter((slot) =>
      matchesFilter({ ...slot.fields, version: slot.version }, conditions),
    ).length;
  }

  async insert(tenant: TenantId, doc: T, options?: WriteOptions): Promise<Versioned<T>> {
    assertTenant(tenant);
    const fields = normalizeDocument(doc);
    const entries = createOutboxEntries(options?.outbox, this.clock());
    return this.view(this.create(tenant, fields, entries));
  }

  async insertMany(
    tenant: TenantId,
    docs: readonly T[],
    options?: InsertManyOptions,
  ): Promise<InsertManyResult> {
    assertTenant(tenant);
    const batch = prepareInsertMany(docs, options, this.clock());
    // No await inside the loop: the batch is one synchronous step, like every other write here.
    batch.forEach(({ id, fields, entries }, position) => {
      try {
        this.create(tenant, fields, entries);
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
        throw new BulkInsertError(this.collection, error.index, position, id, { cause: error });
      }
    });
    return { insertedCount: batch.length };
  }

  async upsert(tenant: TenantId, doc: T, options?: ReplaceOptions): Promise<Versioned<T>> {
    assertTenant(tenant);
    const fields = normalizeDocument(doc);
    const entries = createOutboxEntries(options?.outbox, this.clock());
    const key = storageKey(tenant, fields['id'] as string);
    const existing = this.slots.get(key);
    const live = existing && !existing.deleted ? existing : undefined;
    if (options?.expectVersion !== undefined && live?.version !== options.expectVersion) {
      throw new ConcurrencyError(
        this.collection,
        fields['id'] as string,
        options.expectVersion,
        live?.version,
      );
    }
    const slot: Slot = {
      key,
      tenant,
      fields,
      version: live ? live.version + 1 : 1,
      outbox: [...(existing?.outbox ?? []), ...entries],
      deleted: false,
    };
    return this.commit(slot);
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
    if (options?.upsert && options.expectVersion !== undefined) {
      throw new InvalidStorageRequestError('expectVersion cannot be combined with upsert');
    }
    const entries = createOutboxEntries(spec.outbox, this.clock());
    const key = storageKey(tenant, id);
    const existing = this.slots.get(key);
    const live = existing && !existing.deleted ? existing : undefined;
    if (!live) {
      if (!options?.upsert) throw new DocumentNotFoundError(this.collection, id);
      const fields = applyUpdate({ id }, update, true);
      return this.commit({
        key,
        tenant,
        fields,
        version: 1,
        outbox: [...(existing?.outbox ?? []), ...entries],
        deleted: false,
      });
    }
    if (options?.expectVersion !== undefined && live.version !== options.expectVersion) {
      throw new ConcurrencyError(this.collection, id, options.expectVersion, live.version);
    }
    const fields = applyUpdate(live.fields, update, false);
    return this.commit({
      key,
      tenant,
      fields,
      version: live.version + 1,
      outbox: [...live.outbox, ...entries],
      deleted: false,
    });
  }

  async delete(tenant: TenantId, id: string, options?: DeleteOptions): Promise<boolean> {
    assertTenant(tenant);
    assertDocumentId(id);
    const entries = createOutboxEntries(options?.outbox, this.clock());
    const live = this.live(tenant, id);
    if (!live) return false;
    if (options?.expectVersion !== undefined && live.version !== options.expectVersion) {
      throw new ConcurrencyError(this.collection, id, options.expectVersion, live.version);
    }
    const outbox = [...live.outbox, ...entries];
    if (outbox.length === 0) {
      this.journal?.record(live.key, null);
      this.slots.delete(live.key);
    } else {
      const tombstone: Slot = { ...live, version: live.version + 1, outbox, deleted: true };
      this.journal?.record(tombstone.key, tombstone);
      this.slots.set(live.key, tombstone);
    }
    return true;
  }

  async pendingOutbox(query: PendingOutboxQuery): Promise<PendingOutbox[]> {
    const after = query.after;
    return [...this.slots.values()]
      .filter(
        (slot) =>
          slot.outbox.length > 0 && (after === undefined || compareStrings(slot.key, after) > 0),
      )
      .sort((a, b) => compareStrings(a.key, b.key))
      .slice(0, query.limit)
      .map((slot) => ({
        collection: this.collection,
        tenantId: slot.tenant,
        documentId: slot.fields['id'] as string,
        cursor: slot.key,
        entries: slot.outbox.map((entry) => copyValue(entry)),
      }));
  }

  async clearOutbox(
    tenant: TenantId,
    documentId: string,
    entryIds: readonly string[],
  ): Promise<number> {
    assertTenant(tenant);
    const slot = this.slots.get(storageKey(tenant, documentId));
    if (!slot) return 0;
    const ids = new Set(entryIds);
    const remaining = slot.outbox.filter((entry) => !ids.has(entry.id));
    const removed = slot.outbox.length - remaining.length;
    if (slot.deleted && remaining.length === 0) {
      this.journal?.record(slot.key, null);
      this.slots.delete(slot.key);
    } else {
      if (removed > 0) this.journal?.record(slot.key, { ...slot, outbox: remaining });
      slot.outbox = remaining;
    }
    return removed;
  }

  async sweepExpired(now: Date = this.clock()): Promise<number> {
    let removed = 0;
    for (const { ttl } of this.ttlIndexes) {
      if (!ttl) continue;
      const { field, seconds } = ttl;
      const cutoff = now.getTime() - seconds * 1000;
      for (const slot of [...this.slots.values()]) {
        const value = valueAtPath(slot.fields, field);
        if (value instanceof Date && value.getTime() < cutoff && slot.outbox.length === 0) {
          this.journal?.record(slot.key, null);
          this.slots.delete(slot.key);
          removed++;
        }
      }
    }
    return removed;
  }

  private live(tenant: TenantId, id: string): Slot | undefined {
    const slot = this.slots.get(storageKey(tenant, id));
    return slot && !slot.deleted ? slot : undefined;
  }

  private liveOf(tenant: TenantId): Slot[] {
    return [...this.slots.values()].filter((slot) => slot.tenant === tenant && !slot.deleted);
  }

  /** The write of `insert`: version 1, refused if live, a tombstone's outbox taken over. */
  private create(tenant: TenantId, fields: Record<string, unknown>, entries: OutboxEntry[]): Slot {
    const key = storageKey(tenant, fields['id'] as string);
    const existing = this.slots.get(key);
    if (existing && !existing.deleted) throw new DuplicateKeyError(this.collection, 'primary');
    // A tombstone still owes its outbox; the new incarnation inherits it.
    const slot: Slot = {
      key,
      tenant,
      fields,
      version: 1,
      outbox: [...(existing?.outbox ?? []), ...entries],
      deleted: false,
    };
    this.assertUnique(slot);
    this.journal?.record(slot.key, slot);
    this.slots.set(slot.key, slot);
    return slot;
  }

  private commit(slot: Slot): Versioned<T> {
    this.assertUnique(slot);
    this.journal?.record(slot.key, slot);
    this.slots.set(slot.key, slot);
    return this.view(slot);
  }

  /**
   * Loads a journal's states into the empty store, checking each as strictly as a write would
   * (a state no write could have produced means the journal is not this collection's, or damaged).
   * Unique indexes are checked in one pass: one declared after the data was written is refused
   * with `DuplicateKeyError`, as MongoDB refuses to build it.
   */
  private restore(states: readonly JournalSlot[]): void {
    for (const state of states) {
      const slot = restoredSlot(this.collection, state);
      if (this.slots.has(slot.key)) {
        throw new CorruptJournalError(`cannot restore ${this.collection}: a key appears twice`);
      }
      this.slots.set(slot.key, slot);
    }
    for (const index of this.uniqueIndexes) {
      const owners = new Map<string, string>();
      for (const slot of this.slots.values()) {
        for (const key of new Set(indexKeys(slot, index))) {
          const owner = owners.get(key);
          if (owner !== undefined && owner !== slot.key) {
            throw new DuplicateKeyError(this.collection, index.name);
          }
          owners.set(key, slot.key);
        }
      }
    }
  }

  /** Mirrors MongoDB unique indexes: tombstones still hold their keys, missing fields index as null. */
  private assertUnique(candidate: Slot): void {
    for (const index of this.uniqueIndexes) {
      const keys = new Set(indexKeys(candidate, index));
      for (const other of this.slots.values()) {
        if (other.key === candidate.key) continue;
        if (indexKeys(other, index).some((k) => keys.has(k)))
          throw new DuplicateKeyError(this.collection, index.name);
      }
    }
  }

  private view(slot: Slot): Versioned<T> {
    return { ...copyValue(slot.fields), version: slot.version } as unknown as Versioned<T>;
  }
}

/** A journal state turned back into a slot: validated and deep-copied. */
function restoredSlot(collection: string, state: JournalSlot): Slot {
  const refuse = (why: string, cause?: unknown): never => {
    throw new CorruptJournalError(`cannot restore ${collection}: ${why}`, { cause });
  };
  if (!isTenantId(state.tenant)) refuse('a state has an invalid tenant id');
  let fields: Record<string, unknown> = {};
  try {
    fields = normalizeDocument(state.fields);
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    refuse('a state holds an invalid document', error);
  }
  if (state.key !== storageKey(state.tenant, fields['id'] as string)) {
    refuse('a state is filed under a key that does not match its tenant and id');
  }
  if (!Number.isSafeInteger(state.version) || state.version < 1) {
    refuse('a state has an invalid version');
  }
  if (!Array.isArray(state.outbox) || !state.outbox.every(isOutboxEntry)) {
    refuse('a state has an invalid outbox');
  }
  if (typeof state.deleted !== 'boolean') refuse('a state has an invalid deleted flag');
  if (state.deleted && state.outbox.length === 0) {
    refuse('a state is a tombstone with nothing left to publish');
  }
  return {
    key: state.key,
    tenant: state.tenant,
    fields,
    version: state.version,
    outbox: state.outbox.map((entry) => copyValue(entry)),
    deleted: state.deleted,
  };
}

function isOutboxEntry(entry: unknown): entry is OutboxEntry {
  if (!isPlainObject(entry)) return false;
  const { id, topic, key, payload, headers, createdAt } = entry;
  return (
    typeof id === 'string' &&
    typeof topic === 'string' &&
    typeof key === 'string' &&
    payload instanceof Uint8Array &&
    isPlainObject(headers) &&
    Object.values(headers).every((value) => typeof value === 'string') &&
    createdAt instanceof Date &&
    !Number.isNaN(createdAt.getTime())
  );
}

function assertTenant(tenant: TenantId): void {
  // The type already requires a TenantId; this catches callers that cast around it.
  if (!isTenantId(tenant)) throw new InvalidStorageRequestError('a valid tenant id is required');
}

function valueAtPath(fields: Record<string, unknown>, path: string): unknown {
  let current: unknown = fields;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Index keys of a document; an array value yields one key per element (multikey). */
function indexKeys(slot: Slot, index: PhysicalIndex): string[] {
  let keys = [''];
  for (const path of Object.keys(index.keys)) {
    const value = path === StorageFields.tenant ? slot.tenant : valueAtPath(slot.fields, path);
    const parts =
      Array.isArray(value) && value.length > 0 ? value.map(canonicalKey) : [canonicalKey(value)];
    keys = keys.flatMap((prefix) => parts.map((part) => `${prefix}|${part}`));
  }
  return keys;
}
