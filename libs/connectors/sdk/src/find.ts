import type { FindOrder, FindQuery, FindRequest } from './adapter';
import { objectSpec, type ConnectorCapabilities } from './capabilities';
import { ConnectorError } from './errors';

/** Bounds of a find, the same for every connector (and in the gRPC contract). */
export const FIND_LIMITS = {
  /** Most `equals` conditions. */
  maxConditions: 4,
  /** Records returned when the caller does not say. */
  defaultLimit: 50,
  /** Most records one find returns. */
  maxLimit: 200,
} as const;

/** The request is malformed (undeclared object type or field, too many conditions, bad limit). */
export const INVALID_FIND_REQUEST = 'INVALID_FIND_REQUEST';
/** The adapter cannot evaluate an `equals` condition on this declared field. */
export const FIELD_NOT_FILTERABLE = 'FIELD_NOT_FILTERABLE';
/** The adapter cannot order by this declared field. */
export const FIELD_NOT_SORTABLE = 'FIELD_NOT_SORTABLE';
/** The adapter has no `find`. */
export const FIND_UNSUPPORTED = 'FIND_UNSUPPORTED';

const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set([
  INVALID_FIND_REQUEST,
  FIELD_NOT_FILTERABLE,
  FIELD_NOT_SORTABLE,
]);

/** True when the error says the find request itself is wrong (gRPC INVALID_ARGUMENT), not the CRM. */
export function isFindRequestError(err: unknown): err is ConnectorError {
  return err instanceof ConnectorError && REQUEST_ERROR_CODES.has(err.code);
}

/** Names in messages are capped: they come from callers. Values are never echoed (they may be personal data). */
const name = (s: string) => JSON.stringify(String(s).slice(0, 64));

/** Problems with a find, as sentences; empty when the connector can be asked it. */
export function findQueryProblems(c: ConnectorCapabilities, q: FindQuery): string[] {
  const spec = objectSpec(c, q.objectType);
  if (!spec) return [`${c.connector} declares no object type ${name(q.objectType)}`];
  const declared = new Set(spec.fields.map((f) => f.name));
  const problems: string[] = [];
  const undeclared = (what: string, fields: readonly string[]) => {
    const unknown = [...new Set(fields.filter((f) => !declared.has(f)))];
    if (unknown.length)
      problems.push(
        `${what}: ${q.objectType} has no field(s) ${unknown.slice(0, 5).map(name).join(', ')}`,
      );
  };
  const equals = q.equals ?? {};
  if (typeof equals !== 'object' || equals === null || Array.isArray(equals))
    problems.push('equals must be an object of field → value');
  else {
    const entries = Object.entries(equals);
    if (entries.length > FIND_LIMITS.maxConditions)
      problems.push(
        `equals has ${entries.length} conditions; at most ${FIND_LIMITS.maxConditions}`,
      );
    undeclared(
      'equals',
      entries.map(([k]) => k),
    );
    const notStrings = entries.filter(([, v]) => typeof v !== 'string').map(([k]) => k);
    if (notStrings.length)
      problems.push(
        `equals values must be strings (${notStrings.slice(0, 5).map(name).join(', ')})`,
      );
  }
  undeclared('fields', q.fields ?? []);
  if (q.orderBy !== undefined) {
    if (typeof q.orderBy?.field !== 'string' || !q.orderBy.field)
      problems.push('orderBy needs a field');
    else undeclared('orderBy', [q.orderBy.field]);
  }
  if (
    q.limit !== undefined &&
    !(Number.isInteger(q.limit) && q.limit >= 1 && q.limit <= FIND_LIMITS.maxLimit)
  )
    problems.push(`limit must be an integer within 1..${FIND_LIMITS.maxLimit}`);
  return problems;
}

/**
 * The request an adapter receives: checked against the capabilities (else a permanent
 * `INVALID_FIND_REQUEST` ConnectorError naming every problem), duplicates dropped, empty `fields`
 * replaced by every declared field, the default limit filled in.
 */
export function normalizeFindQuery(c: ConnectorCapabilities, q: FindQuery): FindRequest {
  const problems = findQueryProblems(c, q);
  if (problems.length)
    throw ConnectorError.permanent(INVALID_FIND_REQUEST, `invalid find: ${problems.join('; ')}`);
  const declared = (objectSpec(c, q.objectType)?.fields ?? []).map((f) => f.name);
  const fields = q.fields?.length ? [...new Set(q.fields)] : declared;
  return {
    tenantId: q.tenantId,
    objectType: q.objectType,
    equals: { ...(q.equals ?? {}) },
    fields,
    ...(q.orderBy
      ? { orderBy: { field: q.orderBy.field, descending: !!q.orderBy.descending } }
      : {}),
    limit: q.limit ?? FIND_LIMITS.defaultLimit,
  };
}

/** A value `find` can compare: a string, a finite number or a boolean. */
export function isFindScalar(value: unknown): value is string | number | boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** The reference semantics of one `equals` condition: a scalar whose `String()` is `expected`. */
export function findValueMatches(value: unknown, expected: string): boolean {
  return isFindScalar(value) && String(value) === expected;
}

/** True when every condition of `equals` holds for the record's fields. */
export function matchesFindConditions(
  fields: Readonly<Record<string, unknown>>,
  equals: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(equals).every(([k, v]) =>
    findValueMatches(Object.hasOwn(fields, k) ? fields[k] : undefined, v),
  );
}

const TYPE_RANK = { number: 0, string: 1, boolean: 2 } as const;

/**
 * The reference order of two field values, ascending: numbers numerically, strings by UTF-16
 * code units (no locale), false before true; values of different types by type (numbers,
 * strings, booleans); values `find` cannot compare (absent, null, objects) after all others.
 */
export function compareFindValues(a: unknown, b: unknown): number {
  const sa = isFindScalar(a);
  const sb = isFindScalar(b);
  if (!sa || !sb) return sa === sb ? 0 : sa ? -1 : 1;
  const ta = TYPE_RANK[typeof a as keyof typeof TYPE_RANK];
  const tb = TYPE_RANK[typeof b as keyof typeof TYPE_RANK];
  if (ta !== tb) return ta - tb;
  if (typeof a === 'number') return a - (b as number);
  if (typeof a === 'boolean') return Number(a) - Number(b);
  return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
}

/**
 * The reference order of records: by `order.field` (ascending or descending; records without a
 * value last either way), ties and no order by record id ascending.
 */
export function findOrderComparator<T>(
  order: FindOrder | undefined,
  fieldsOf: (item: T) => Readonly<Record<string, unknown>>,
  idOf: (item: T) => string,
): (a: T, b: T) => number {
  return (a, b) => {
    if (order) {
      const va = fieldsOf(a)[order.field];
      const vb = fieldsOf(b)[order.field];
      const ma = !isFindScalar(va);
      const mb = !isFindScalar(vb);
      if (ma !== mb) return ma ? 1 : -1;
      if (!ma) {
        const d = compareFindValues(va, vb);
        if (d !== 0) return order.descending ? -d : d;
      }
    }
    const ia = idOf(a);
    const ib = idOf(b);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  };
}
