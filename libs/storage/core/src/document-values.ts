import { InvalidStorageRequestError } from './storage.errors';
import { isCallerFieldName, MAX_DOCUMENT_ID_LENGTH } from './storage-layout';
import type { ScalarValue } from './document-store.port';

/**
 * Values a document may hold: what both the in-memory store and BSON represent identically.
 * `undefined` is dropped from objects and becomes `null` in arrays (the MongoDB driver's
 * behaviour), so both adapters read back the same thing.
 */
export function normalizeValue(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new InvalidStorageRequestError(`${path} is an invalid Date`);
    return new Date(value.getTime());
  }
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value))
    return value.map((item, i) =>
      item === undefined ? null : normalizeValue(item, `${path}[${i}]`),
    );
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      if (key.length === 0 || key.startsWith('$') || key.includes('.') || key.includes('\0')) {
        throw new InvalidStorageRequestError(
          `${path} has a field name that is empty, starts with "$" or contains "."`,
        );
      }
      out[key] = normalizeValue(item, `${path}.${key}`);
    }
    return out;
  }
  throw new InvalidStorageRequestError(
    `${path} has an unsupported value type (${describeType(value)})`,
  );
}

/** Validates a caller document and returns a normalized deep copy (with `id`, without `version`). */
export function normalizeDocument(doc: unknown): Record<string, unknown> {
  if (!isPlainObject(doc)) throw new InvalidStorageRequestError('document must be a plain object');
  const id = (doc as { id?: unknown }).id;
  assertDocumentId(id);
  const out: Record<string, unknown> = { id };
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'id' || value === undefined) continue;
    assertCallerField(key);
    out[key] = normalizeValue(value, key);
  }
  return out;
}

export function assertDocumentId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_DOCUMENT_ID_LENGTH) {
    throw new InvalidStorageRequestError(
      `document id must be a non-empty string of at most ${MAX_DOCUMENT_ID_LENGTH} chars`,
    );
  }
}

/** A writable top-level field: not reserved, not `id`, not the managed `version`. */
export function assertCallerField(name: string): void {
  if (!isCallerFieldName(name) || name === 'id' || name === 'version') {
    throw new InvalidStorageRequestError(`field "${name}" is reserved or not a plain field name`);
  }
}

export function isScalarValue(value: unknown): value is ScalarValue {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && !Number.isNaN(value)) ||
    (value instanceof Date && !Number.isNaN(value.getTime()))
  );
}

/** Deep copy of a normalized value (reads must never hand out the store's own objects). */
export function copyValue<V>(value: V): V {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime()) as V;
  if (value instanceof Uint8Array) return new Uint8Array(value) as V;
  if (Array.isArray(value)) return value.map((item) => copyValue(item)) as V;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = copyValue(item);
  return out as V;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describeType(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}
