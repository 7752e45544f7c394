import { MAX_INSERT_MANY } from './document-store.port';
import type { InsertManyOptions } from './document-store.port';
import { normalizeDocument } from './document-values';
import { createOutboxEntries } from './outbox';
import type { OutboxEntry } from './outbox';
import { InvalidStorageRequestError } from './storage.errors';

/** One validated document of an `insertMany` batch, ready for an adapter to store. */
export interface PreparedInsert {
  readonly id: string;
  /** Normalized caller fields including `id` (see `normalizeDocument`). */
  readonly fields: Record<string, unknown>;
  readonly entries: OutboxEntry[];
}

/**
 * Validates a whole `insertMany` batch before anything is written, with the same rules as
 * `insert` (so a bad document at position 5 refuses the batch instead of leaving 5 stored).
 * Messages are prefixed with the document's position: `docs[5]: ...`.
 */
export function prepareInsertMany(
  docs: readonly unknown[],
  options: InsertManyOptions | undefined,
  now: Date,
): PreparedInsert[] {
  if (!Array.isArray(docs)) throw new InvalidStorageRequestError('docs must be an array');
  if (docs.length > MAX_INSERT_MANY) {
    throw new InvalidStorageRequestError(
      `insertMany accepts at most ${MAX_INSERT_MANY} documents per call (got ${docs.length}); split the batch`,
    );
  }
  const outbox = options?.outbox;
  if (outbox !== undefined) {
    if (!Array.isArray(outbox))
      throw new InvalidStorageRequestError('outbox must be an array (one entry per document)');
    if (outbox.length > docs.length) {
      throw new InvalidStorageRequestError(
        `outbox has ${outbox.length} entries for ${docs.length} documents`,
      );
    }
  }
  return docs.map((doc, i) => {
    try {
      const fields = normalizeDocument(doc);
      const messages = outbox?.[i];
      if (messages !== undefined && !Array.isArray(messages))
        throw new InvalidStorageRequestError('outbox must be an array of messages');
      return { id: fields['id'] as string, fields, entries: createOutboxEntries(messages, now) };
    } catch (error) {
      if (error instanceof InvalidStorageRequestError)
        throw new InvalidStorageRequestError(`docs[${i}]: ${error.message}`);
      throw error;
    }
  });
}
