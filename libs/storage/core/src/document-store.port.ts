import type { OutboxMessage } from './outbox';
import type { TenantId } from './tenant-id';

/** Values a filter may compare against. Arrays and sub-documents are left out on purpose. */
export type ScalarValue = string | number | boolean | Date;

/** A stored document as read back: the caller's fields plus the store-managed `version`. */
export type Versioned<T> = T & { readonly version: number };

/** Fields the caller writes: everything except the identity and the managed version. */
export type WritableFields<T> = Omit<T, 'id' | 'version'>;

type StringKeys<T> = Extract<keyof T, string>;

/** Top-level fields whose value is a scalar (optionally null): the only ones filters and sorts accept. */
export type ScalarKeys<T> = {
  [K in StringKeys<T>]-?: NonNullable<T[K]> extends ScalarValue ? K : never;
}[StringKeys<T>];

export type NumericKeys<T> = {
  [K in StringKeys<T>]-?: NonNullable<T[K]> extends number ? K : never;
}[StringKeys<T>];

export type ArrayKeys<T> = {
  [K in StringKeys<T>]-?: NonNullable<T[K]> extends readonly unknown[] ? K : never;
}[StringKeys<T>];

export type ElementOf<A> = A extends readonly (infer E)[] ? E : never;

/** Array fields whose elements are scalars: `pull` removes by value, which is only portable for scalars. */
export type ScalarArrayKeys<T> = {
  [K in StringKeys<T>]-?: NonNullable<T[K]> extends readonly ScalarValue[] ? K : never;
}[StringKeys<T>];

export type OptionalKeys<T> = {
  [K in StringKeys<T>]-?: undefined extends T[K] ? K : never;
}[StringKeys<T>];

/**
 * Condition on one scalar field. A bare value means equality (`null` also matches a missing field,
 * as in MongoDB). Operators combine with AND.
 */
export type FieldCondition<V> =
  | V
  | {
      readonly $eq?: V;
      readonly $in?: readonly V[];
      readonly $lt?: NonNullable<V>;
      readonly $lte?: NonNullable<V>;
      readonly $gt?: NonNullable<V>;
      readonly $gte?: NonNullable<V>;
      readonly $exists?: boolean;
    };

/** A small, safe filter: top-level scalar fields only, ANDed. No `$where`, no regex, no `$or`. */
export type Filter<T> = {
  readonly [K in ScalarKeys<Versioned<T>>]?: FieldCondition<Versioned<T>[K]>;
};

export type SortDirection = 1 | -1;

/** Sort keys in priority order (object insertion order). Ties are always broken by `id` ascending. */
export type Sort<T> = {
  readonly [K in ScalarKeys<Versioned<T>>]?: SortDirection;
};

export const DEFAULT_FIND_LIMIT = 100;
export const MAX_FIND_LIMIT = 10_000;

export interface FindOptions<T> {
  /** 1..MAX_FIND_LIMIT; defaults to DEFAULT_FIND_LIMIT. Reads are always bounded. */
  readonly limit?: number;
  readonly sort?: Sort<T>;
}

/**
 * One atomic change to one document. A field may appear in only one operator.
 * `outbox` entries are appended in the same write, so the state change and the events it
 * announces are committed together or not at all.
 */
export interface UpdateSpec<T> {
  readonly set?: Partial<WritableFields<T>>;
  readonly unset?: readonly OptionalKeys<WritableFields<T>>[];
  readonly inc?: { readonly [K in NumericKeys<WritableFields<T>>]?: number };
  /** Appends the listed elements, in order (MongoDB `$push` + `$each`). */
  readonly push?: {
    readonly [K in ArrayKeys<WritableFields<T>>]?: readonly ElementOf<
      NonNullable<WritableFields<T>[K]>
    >[];
  };
  /** Removes every occurrence of each listed value (MongoDB `$pullAll`); scalar arrays only. */
  readonly pull?: {
    readonly [K in ScalarArrayKeys<WritableFields<T>>]?: readonly ElementOf<
      NonNullable<WritableFields<T>[K]>
    >[];
  };
  /** Applied only when `upsert` creates the document. */
  readonly setOnInsert?: Partial<WritableFields<T>>;
  readonly outbox?: readonly OutboxMessage[];
}

export interface UpdateOptions {
  /** Fail with `ConcurrencyError` unless the stored version equals this. Not combinable with `upsert`. */
  readonly expectVersion?: number;
  /** Create the document (from `id`, `setOnInsert` and the other operators) when it does not exist. */
  readonly upsert?: boolean;
}

export interface WriteOptions {
  /** Events committed atomically with the write (see `OutboxRelay`). */
  readonly outbox?: readonly OutboxMessage[];
}

export interface ReplaceOptions extends WriteOptions {
  /** Fail with `ConcurrencyError` unless the document exists with exactly this version. */
  readonly expectVersion?: number;
}

export type DeleteOptions = ReplaceOptions;

/** Most documents one `insertMany` call accepts; larger batches are refused, never split silently. */
export const MAX_INSERT_MANY = 10_000;

export interface InsertManyOptions {
  /**
   * Events per document, by position: `outbox[i]` is committed in the same write as `docs[i]`
   * (exactly as `insert(tenant, docs[i], { outbox: outbox[i] })` would). `undefined`, an empty
   * list or a missing tail means no events for that document; a list longer than `docs` is
   * refused.
   */
  readonly outbox?: readonly (readonly OutboxMessage[] | undefined)[];
}

export interface InsertManyResult {
  /** Always `docs.length` on success; every document is at version 1 with exactly its given fields. */
  readonly insertedCount: number;
}

/**
 * Tenant-scoped repository over one collection. Every method takes the tenant as its first,
 * required, branded parameter: there is no way to express an unscoped query through this port.
 * Documents of different tenants never collide, even with equal ids.
 */
export interface DocumentStore<T extends { id: string }> {
  readonly collection: string;

  get(tenant: TenantId, id: string): Promise<Versioned<T> | null>;

  find(tenant: TenantId, filter: Filter<T>, options?: FindOptions<T>): Promise<Versioned<T>[]>;

  count(tenant: TenantId, filter?: Filter<T>): Promise<number>;

  /** Creates the document at version 1; `DuplicateKeyError` if the id (or a unique index key) exists. */
  insert(tenant: TenantId, doc: T, options?: WriteOptions): Promise<Versioned<T>>;

  /**
   * Creates many documents with one round trip where the database allows it, each exactly as
   * `insert` would (version 1, its own outbox entries, a tombstone's entries taken over).
   *
   * - Ordered: documents are written in array order. At the first duplicate (id, also a repeat
   *   within `docs`, or a unique index key) the call stops and throws `BulkInsertError` (a
   *   `DuplicateKeyError`): `docs[0..insertedCount)` are stored, `docs[insertedCount]` and
   *   everything after it are not.
   * - The whole batch is validated before anything is written: an invalid document or outbox
   *   message, more than `MAX_INSERT_MANY` documents, or an `outbox` longer than `docs` throw
   *   `InvalidStorageRequestError` and write nothing. An empty `docs` is a no-op.
   * - Not atomic: each document is its own write. If the call fails otherwise (e.g.
   *   `StorageUnavailableError`, process crash), any prefix of `docs` may be stored; recover by
   *   re-reading (`get`/`find` by id) and inserting the rest.
   */
  insertMany(
    tenant: TenantId,
    docs: readonly T[],
    options?: InsertManyOptions,
  ): Promise<InsertManyResult>;

  /** Creates or fully replaces the document (fields not in `doc` are removed); version 1 or +1. */
  upsert(tenant: TenantId, doc: T, options?: ReplaceOptions): Promise<Versioned<T>>;

  /**
   * Applies `spec` atomically to one document and increments its version. Throws
   * `DocumentNotFoundError` (no document, no upsert) or `ConcurrencyError` (version mismatch).
   */
  update(
    tenant: TenantId,
    id: string,
    spec: UpdateSpec<T>,
    options?: UpdateOptions,
  ): Promise<Versioned<T>>;

  /**
   * Removes the document; `false` if there was none. Pending outbox entries (and any given
   * here) are still delivered: the document stays as an invisible tombstone until the relay
   * has published them.
   */
  delete(tenant: TenantId, id: string, options?: DeleteOptions): Promise<boolean>;
}

/** Cross-tenant housekeeping for collections that declare `ttlSeconds` indexes. */
export interface ExpirySweeper {
  /**
   * Deletes documents whose TTL field is older than `now - ttlSeconds`, except those with
   * undelivered outbox entries. Returns how many were deleted.
   */
  sweepExpired(now?: Date): Promise<number>;
}
