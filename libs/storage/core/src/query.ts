import { DEFAULT_FIND_LIMIT, MAX_FIND_LIMIT } from './document-store.port';
import type { ScalarValue, SortDirection } from './document-store.port';
import { isPlainObject, isScalarValue } from './document-values';
import { InvalidStorageRequestError } from './storage.errors';
import { isCallerFieldName } from './storage-layout';
import { comparableTypes, compareValues, valuesEqual } from './value-order';

export type ComparisonOperator = '$eq' | '$in' | '$lt' | '$lte' | '$gt' | '$gte' | '$exists';

export type Condition =
  | { readonly op: '$eq'; readonly value: ScalarValue | null }
  | { readonly op: '$in'; readonly value: readonly (ScalarValue | null)[] }
  | { readonly op: '$lt' | '$lte' | '$gt' | '$gte'; readonly value: ScalarValue }
  | { readonly op: '$exists'; readonly value: boolean };

export interface FieldConditions {
  readonly field: string;
  readonly conditions: readonly Condition[];
}

/** A filter after validation: what adapters translate or evaluate. */
export type NormalizedFilter = readonly FieldConditions[];

export interface NormalizedFindOptions {
  readonly limit: number;
  readonly sort: readonly (readonly [string, SortDirection])[];
}

const MAX_IN_VALUES = 1000;

function assertQueryField(field: string): void {
  // `id` and `version` are readable; the store's own `_` fields and operators are not.
  if (!isCallerFieldName(field)) {
    throw new InvalidStorageRequestError(`cannot query field "${field}"`);
  }
}

function scalarOrNull(value: unknown, where: string): ScalarValue | null {
  if (value === null || isScalarValue(value)) return value;
  throw new InvalidStorageRequestError(`${where} must be a string, number, boolean, Date or null`);
}

/**
 * Validates a filter at run time too: callers outside TypeScript (or with casts) must not be
 * able to smuggle in `$where`, `$regex`, nested operators or the store's own fields.
 */
export function normalizeFilter(filter: unknown): NormalizedFilter {
  if (filter === undefined) return [];
  if (!isPlainObject(filter)) throw new InvalidStorageRequestError('filter must be a plain object');
  const out: FieldConditions[] = [];
  for (const [field, raw] of Object.entries(filter)) {
    if (raw === undefined) continue;
    assertQueryField(field);
    if (!isPlainObject(raw)) {
      out.push({ field, conditions: [{ op: '$eq', value: scalarOrNull(raw, `filter.${field}`) }] });
      continue;
    }
    const conditions: Condition[] = [];
    for (const [op, value] of Object.entries(raw)) {
      if (value === undefined) continue;
      const where = `filter.${field}.${op}`;
      switch (op) {
        case '$eq':
          conditions.push({ op, value: scalarOrNull(value, where) });
          break;
        case '$in':
          if (!Array.isArray(value) || value.length > MAX_IN_VALUES) {
            throw new InvalidStorageRequestError(
              `${where} must be an array of at most ${MAX_IN_VALUES} values`,
            );
          }
          conditions.push({ op, value: value.map((v, i) => scalarOrNull(v, `${where}[${i}]`)) });
          break;
        case '$lt':
        case '$lte':
        case '$gt':
        case '$gte':
          if (!isScalarValue(value))
            throw new InvalidStorageRequestError(
              `${where} must be a string, number, boolean or Date`,
            );
          conditions.push({ op, value });
          break;
        case '$exists':
          if (typeof value !== 'boolean')
            throw new InvalidStorageRequestError(`${where} must be a boolean`);
          conditions.push({ op, value });
          break;
        default:
          throw new InvalidStorageRequestError(`unsupported filter operator on "${field}"`);
      }
    }
    if (conditions.length === 0)
      throw new InvalidStorageRequestError(`filter.${field} has no condition`);
    out.push({ field, conditions });
  }
  return out;
}

export function normalizeFindOptions(
  options: { readonly limit?: number; readonly sort?: object } | undefined,
): NormalizedFindOptions {
  const limit = options?.limit ?? DEFAULT_FIND_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FIND_LIMIT) {
    throw new InvalidStorageRequestError(`limit must be an integer in 1..${MAX_FIND_LIMIT}`);
  }
  const sort: [string, SortDirection][] = [];
  if (options?.sort !== undefined) {
    if (!isPlainObject(options.sort))
      throw new InvalidStorageRequestError('sort must be a plain object');
    for (const [field, direction] of Object.entries(options.sort)) {
      if (direction === undefined) continue;
      assertQueryField(field);
      if (direction !== 1 && direction !== -1)
        throw new InvalidStorageRequestError(`sort.${field} must be 1 or -1`);
      if (field !== 'id') sort.push([field, direction]);
    }
    const idDirection = (options.sort as Record<string, unknown>)['id'];
    // `id` is also the tie-breaker; an explicit `id` key sorts ties in the asked direction.
    if (idDirection === 1 || idDirection === -1) sort.push(['id', idDirection]);
  }
  if (!sort.some(([field]) => field === 'id')) sort.push(['id', 1]);
  return { limit, sort };
}

// ---- evaluation (in-memory adapter) ----

function conditionHolds(present: boolean, actual: unknown, condition: Condition): boolean {
  switch (condition.op) {
    case '$exists':
      return present === condition.value;
    case '$eq':
      return condition.value === null
        ? actual === null || !present
        : present && valuesEqual(actual, condition.value);
    case '$in':
      return condition.value.some((v) =>
        v === null ? actual === null || !present : present && valuesEqual(actual, v),
      );
    default: {
      if (!present || !comparableTypes(actual, condition.value)) return false;
      const c = compareValues(actual, condition.value);
      switch (condition.op) {
        case '$lt':
          return c < 0;
        case '$lte':
          return c <= 0;
        case '$gt':
          return c > 0;
        case '$gte':
          return c >= 0;
      }
    }
  }
}

export function matchesFilter(
  doc: Readonly<Record<string, unknown>>,
  filter: NormalizedFilter,
): boolean {
  return filter.every(({ field, conditions }) => {
    const present = Object.prototype.hasOwnProperty.call(doc, field) && doc[field] !== undefined;
    const actual = present ? doc[field] : undefined;
    return conditions.every((condition) => conditionHolds(present, actual, condition));
  });
}

export function compareBySort(
  sort: NormalizedFindOptions['sort'],
): (a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>) => number {
  return (a, b) => {
    for (const [field, direction] of sort) {
      const c = compareValues(a[field], b[field]);
      if (c !== 0) return c * direction;
    }
    return 0;
  };
}
