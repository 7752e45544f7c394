/** Base class of every error the storage ports raise on purpose. */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidTenantIdError extends StorageError {
  constructor(value: unknown) {
    // The rejected value is not echoed: it came from outside and may be anything.
    super(
      `invalid tenant id (${typeof value === 'string' ? `${value.length} chars` : typeof value}); expected ${'/^[a-z0-9][a-z0-9_-]{0,62}$/'}`,
    );
  }
}

/** A document, filter, update or option the store refuses before touching the database. */
export class InvalidStorageRequestError extends StorageError {}

/**
 * A write would break a unique index: the primary key (same tenant + id) or a declared unique
 * index. Key values are deliberately not part of the message (they may be personal data).
 */
export class DuplicateKeyError extends StorageError {
  constructor(
    readonly collection: string,
    readonly index: string,
    options?: { cause?: unknown },
  ) {
    super(`duplicate key in ${collection} (index ${index})`, options);
  }
}

/**
 * `insertMany` stopped at a duplicate. Ordered semantics: the first `insertedCount` documents
 * were stored, `docs[failedAt]` (always `failedAt === insertedCount`) was refused on `index`,
 * and none after it was written. `documentId` is the refused document's id (not in the message).
 */
export class BulkInsertError extends DuplicateKeyError {
  /** Position in `docs` of the refused document (equal to `insertedCount`). */
  readonly failedAt: number;

  constructor(
    collection: string,
    index: string,
    readonly insertedCount: number,
    readonly documentId: string,
    options?: { cause?: unknown },
  ) {
    super(collection, index, options);
    this.failedAt = insertedCount;
    this.message = `duplicate key in ${collection} (index ${index}) at document ${insertedCount} of a batch insert; the ${insertedCount} before it were inserted, it and the rest were not`;
  }
}

/** The document changed since the caller read it (optimistic concurrency on `version`). */
export class ConcurrencyError extends StorageError {
  constructor(
    readonly collection: string,
    readonly id: string,
    readonly expectedVersion: number | undefined,
    readonly actualVersion: number | undefined,
  ) {
    super(
      `concurrent modification of ${collection}/${id}: expected version ${expectedVersion ?? '(any)'}, found ${actualVersion ?? '(none)'}`,
    );
  }
}

/** `update` (without `upsert`) on a document that does not exist for this tenant. */
export class DocumentNotFoundError extends StorageError {
  constructor(
    readonly collection: string,
    readonly id: string,
  ) {
    super(`document ${collection}/${id} not found`);
  }
}

/** The database could not be reached or did not answer; safe to retry later. */
export class StorageUnavailableError extends StorageError {}
