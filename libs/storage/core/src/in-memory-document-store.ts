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
import { assertDocumentId, copyValue, normalizeDocument } from './document-values';
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

  constructor(definition: CollectionDefinition<T>, options: InMemoryDocumentStoreOptions = {}) {
    validateIndexSpecs(definition.name, definition.indexes);
    this.collection = definition.name;
    const indexes = physicalIndexes(definition.indexes);
    this.uniqueIndexes = indexes.filter((i) => i.unique);
    this.ttlIndexes = indexes.filter((i) => i.ttl !== undefined);
    this.clock = options.clock ?? (() => new Date());
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
      this.slots.delete(live.key);
    } else {
      this.slots.set(live.key, { ...live, version: live.version + 1, outbox, deleted: true });
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
    if (slot.deleted && remaining.length === 0) this.slots.delete(slot.key);
    else slot.outbox = remaining;
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
    this.slots.set(slot.key, slot);
    return slot;
  }

  private commit(slot: Slot): Versioned<T> {
    this.assertUnique(slot);
    this.slots.set(slot.key, slot);
    return this.view(slot);
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
