import { InvalidStorageRequestError } from './storage.errors';
import { StorageFields } from './storage-layout';

type StringKeys<T> = Extract<keyof T, string>;

/** A top-level field of the document, or a dotted path into it. */
export type IndexField<T> = StringKeys<T> | `${StringKeys<T>}.${string}`;

/**
 * One index a repository needs. The store always prefixes the tenant (`_tid`), so `unique`
 * means unique per tenant and every index serves tenant-scoped queries. `why` is mandatory:
 * an index nobody can explain is an index nobody dares drop.
 */
export interface IndexSpec<T = Record<string, unknown>> {
  /** Stable name, `[a-z][a-z0-9_]*`; changing the definition under the same name is refused. */
  readonly name: string;
  /** Fields in order, with direction (insertion order of the object is the index order). */
  readonly keys: { readonly [K in IndexField<T>]?: 1 | -1 };
  readonly unique?: boolean;
  /**
   * Documents expire this many seconds after the Date in the single key field. Enforced by the
   * store's `sweepExpired()` rather than a native TTL index (FerretDB 1.x has none, and a
   * native TTL monitor would also delete documents whose outbox is not yet delivered).
   */
  readonly ttlSeconds?: number;
  readonly why: string;
}

/** A collection and the indexes its repository declares; shared by every adapter. */
export interface CollectionDefinition<T extends { id: string }> {
  readonly name: string;
  readonly indexes: readonly IndexSpec<T>[];
}

/** What an adapter actually builds. */
export interface PhysicalIndex {
  readonly name: string;
  readonly keys: Readonly<Record<string, 1 | -1>>;
  readonly unique: boolean;
  readonly ttl?: { readonly field: string; readonly seconds: number };
  readonly why: string;
}

const NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
const MIN_WHY_LENGTH = 10;

/** Built on every collection regardless of what the repository declares. */
export const BASE_INDEXES: readonly PhysicalIndex[] = [
  {
    name: 'tenant_id',
    keys: { [StorageFields.tenant]: 1, [StorageFields.id]: 1 },
    unique: false,
    why: 'Every find/count is scoped to one tenant and sorted by id last; this serves scans without a better index.',
  },
  {
    name: 'outbox_pending',
    keys: { [StorageFields.pending]: 1, [StorageFields.key]: 1 },
    unique: false,
    why: 'The outbox relay pages through documents with undelivered entries in _id order.',
  },
];

function assertFieldPath(path: string, where: string): void {
  const segments = path.split('.');
  if (segments.some((s) => s.length === 0 || s.startsWith('$')) || path.startsWith('_')) {
    throw new InvalidStorageRequestError(`${where}: "${path}" is not an indexable caller field`);
  }
}

export function validateIndexSpecs<T>(collection: string, specs: readonly IndexSpec<T>[]): void {
  const names = new Set<string>(BASE_INDEXES.map((i) => i.name));
  for (const spec of specs) {
    const where = `${collection}.${spec.name}`;
    if (!NAME_PATTERN.test(spec.name))
      throw new InvalidStorageRequestError(`${where}: index name must match ${NAME_PATTERN}`);
    if (names.has(spec.name))
      throw new InvalidStorageRequestError(`${where}: index name is used twice or reserved`);
    names.add(spec.name);
    if (typeof spec.why !== 'string' || spec.why.trim().length < MIN_WHY_LENGTH) {
      throw new InvalidStorageRequestError(
        `${where}: "why" must explain the index (at least ${MIN_WHY_LENGTH} chars)`,
      );
    }
    const fields = Object.entries((spec.keys ?? {}) as Record<string, unknown>);
    if (fields.length === 0)
      throw new InvalidStorageRequestError(`${where}: at least one key field is required`);
    for (const [field, direction] of fields) {
      assertFieldPath(field, where);
      if (direction !== 1 && direction !== -1)
        throw new InvalidStorageRequestError(`${where}: direction of ${field} must be 1 or -1`);
    }
    if (spec.ttlSeconds !== undefined) {
      if (!Number.isInteger(spec.ttlSeconds) || spec.ttlSeconds <= 0) {
        throw new InvalidStorageRequestError(`${where}: ttlSeconds must be a positive integer`);
      }
      if (fields.length !== 1 || spec.unique) {
        throw new InvalidStorageRequestError(
          `${where}: a TTL index has exactly one (Date) field and is not unique`,
        );
      }
    }
  }
}

/** Declares a collection; validates names and index specs once, at module load. */
export function defineCollection<T extends { id: string }>(
  definition: CollectionDefinition<T>,
): CollectionDefinition<T> {
  if (!NAME_PATTERN.test(definition.name)) {
    throw new InvalidStorageRequestError(`collection name must match ${NAME_PATTERN}`);
  }
  validateIndexSpecs(definition.name, definition.indexes);
  return definition;
}

/**
 * The indexes to build: the base ones, then each declared index with the tenant prefixed.
 * A TTL index is swept across tenants by date, so its field leads and no tenant is prefixed.
 */
export function physicalIndexes<T>(specs: readonly IndexSpec<T>[]): PhysicalIndex[] {
  const declared = specs.map((spec): PhysicalIndex => {
    const keys = Object.fromEntries(
      Object.entries(spec.keys as Record<string, unknown>).filter(([, d]) => d !== undefined),
    ) as Record<string, 1 | -1>;
    if (spec.ttlSeconds !== undefined) {
      const [field = ''] = Object.keys(keys);
      return {
        name: spec.name,
        keys,
        unique: false,
        ttl: { field, seconds: spec.ttlSeconds },
        why: spec.why,
      };
    }
    return {
      name: spec.name,
      keys: { [StorageFields.tenant]: 1, ...keys },
      unique: spec.unique === true,
      why: spec.why,
    };
  });
  return [...BASE_INDEXES, ...declared];
}
