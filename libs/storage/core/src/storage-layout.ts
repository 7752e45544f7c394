import type { TenantId } from './tenant-id';

/**
 * How documents are laid out in a collection, shared by every adapter so they stay
 * interchangeable:
 *
 *   { _id: "<tenant>:<id>", _tid: "<tenant>", id, ...fields, version,
 *     _outbox: OutboxEntry[], _pending: boolean, _etag: string, _deleted?: true }
 *
 * - `_id` embeds the tenant, so equal ids of two tenants can never collide, and a lookup by
 *   `_id` alone can never reach another tenant's document. Tenant ids cannot contain ":".
 * - `_outbox`/`_pending` hold undelivered events; `_pending` mirrors "`_outbox.0` exists" as
 *   a plain indexable field, maintained in the same write as `_outbox`.
 * - `_etag` changes on every write (including the relay's); it is the compare-and-set token
 *   for read-modify-write paths. `version` changes only on caller writes, so the relay never
 *   causes a caller's `ConcurrencyError`.
 * - `_deleted` marks a tombstone: deleted, invisible, but kept until its outbox is delivered.
 */
export const StorageFields = {
  key: '_id',
  tenant: '_tid',
  outbox: '_outbox',
  pending: '_pending',
  etag: '_etag',
  deleted: '_deleted',
  version: 'version',
  id: 'id',
} as const;

export const MAX_DOCUMENT_ID_LENGTH = 256;

export function storageKey(tenant: TenantId, id: string): string {
  return `${tenant}:${id}`;
}

/** The `_id` range of one tenant, for ordered scans: every key of the tenant starts with this. */
export function tenantKeyPrefix(tenant: TenantId): string {
  return `${tenant}:`;
}

/** Caller field names: not the store's own (leading `_`), not operators, no paths. */
export function isCallerFieldName(name: string): boolean {
  return (
    name.length > 0 &&
    !name.startsWith('_') &&
    !name.startsWith('$') &&
    !name.includes('.') &&
    !name.includes('\0')
  );
}

export function newEtag(): string {
  return globalThis.crypto.randomUUID();
}
