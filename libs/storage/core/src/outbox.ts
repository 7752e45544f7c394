import { InvalidStorageRequestError } from './storage.errors';
import type { TenantId } from './tenant-id';

/** What a writer asks to publish. The store assigns `id` and `createdAt`. */
export interface OutboxMessage {
  readonly topic: string;
  /** Partition key (e.g. tenant + record id); ordering is kept per key only within one document. */
  readonly key: string;
  readonly payload: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * An event stored in the `_outbox` array of the document whose change it announces.
 * `id` is unique and stable across re-deliveries, so consumers can deduplicate on it.
 */
export interface OutboxEntry {
  readonly id: string;
  readonly topic: string;
  readonly key: string;
  readonly payload: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly createdAt: Date;
}

/** Where an entry came from; handed to `publish` next to the entry. */
export interface OutboxOrigin {
  readonly collection: string;
  readonly tenantId: TenantId;
  readonly documentId: string;
}

/** One document with undelivered entries, oldest entry first. */
export interface PendingOutbox extends OutboxOrigin {
  /** Opaque, ordered position of the document; pass back as `after` to page. */
  readonly cursor: string;
  readonly entries: readonly OutboxEntry[];
}

export interface PendingOutboxQuery {
  readonly limit: number;
  readonly after?: string;
}

/**
 * The relay's view of a store. This is deliberately cross-tenant (the relay is a system
 * process) and deliberately narrow: it can read pending entries and remove delivered ones,
 * nothing else.
 */
export interface OutboxSource {
  readonly collection: string;
  /** Documents with at least one pending entry, ordered by cursor, after `after`. */
  pendingOutbox(query: PendingOutboxQuery): Promise<PendingOutbox[]>;
  /**
   * Removes exactly the entries with these ids from the document, atomically with respect to
   * concurrent writers (entries appended meanwhile are kept). Returns how many were removed.
   */
  clearOutbox(tenant: TenantId, documentId: string, entryIds: readonly string[]): Promise<number>;
}

const MAX_TOPIC_LENGTH = 249;

/** Turns messages into entries; validates eagerly so a bad message fails the write, not the relay. */
export function createOutboxEntries(
  messages: readonly OutboxMessage[] | undefined,
  now: Date,
  newId: () => string = () => globalThis.crypto.randomUUID(),
): OutboxEntry[] {
  if (!messages || messages.length === 0) return [];
  return messages.map((message, index) => {
    if (
      typeof message.topic !== 'string' ||
      message.topic.length === 0 ||
      message.topic.length > MAX_TOPIC_LENGTH
    ) {
      throw new InvalidStorageRequestError(
        `outbox[${index}].topic must be a non-empty string of at most ${MAX_TOPIC_LENGTH} chars`,
      );
    }
    if (typeof message.key !== 'string') {
      throw new InvalidStorageRequestError(`outbox[${index}].key must be a string`);
    }
    if (!(message.payload instanceof Uint8Array)) {
      throw new InvalidStorageRequestError(`outbox[${index}].payload must be a Uint8Array`);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      // An absent optional header is simply not sent (as with undefined document fields).
      if (value === undefined) continue;
      if (typeof value !== 'string') {
        throw new InvalidStorageRequestError(`outbox[${index}].headers.${name} must be a string`);
      }
      if (name.startsWith('$') || name.includes('.')) {
        throw new InvalidStorageRequestError(
          `outbox[${index}] header names may not start with "$" or contain "."`,
        );
      }
      headers[name] = value;
    }
    return {
      id: newId(),
      topic: message.topic,
      key: message.key,
      // A private copy: the caller may reuse its buffer after the write returns.
      payload: new Uint8Array(message.payload),
      headers,
      createdAt: new Date(now.getTime()),
    };
  });
}
