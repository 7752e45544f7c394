/**
 * MongoDB's comparison rules for the values the in-memory store must order and match the
 * same way a database does: BSON type order (null/missing < numbers < strings < objects <
 * arrays < binary < booleans < dates) and byte-wise (code point) string order.
 */
function typeRank(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === 'number') return 2;
  if (typeof value === 'string') return 3;
  if (value instanceof Date) return 9;
  if (typeof value === 'boolean') return 8;
  if (value instanceof Uint8Array) return 6;
  if (Array.isArray(value)) return 5;
  return 4;
}

/** UTF-8 byte order equals code point order (not UTF-16 unit order, which JS `<` uses). */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(i) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Total order used for sorting. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1:
      return 0;
    case 2:
      return (a as number) === (b as number) ? 0 : (a as number) < (b as number) ? -1 : 1;
    case 3:
      return compareStrings(a as string, b as string);
    case 8:
      return a === b ? 0 : a ? 1 : -1;
    case 9:
      return Math.sign((a as Date).getTime() - (b as Date).getTime());
    default:
      return compareStrings(canonicalKey(a), canonicalKey(b));
  }
}

/** Range operators only compare values of the same type class, as MongoDB's query bracketing does. */
export function comparableTypes(a: unknown, b: unknown): boolean {
  return typeRank(a) === typeRank(b);
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  if (typeRank(a) !== typeRank(b)) return false;
  return canonicalKey(a) === canonicalKey(b);
}

/** A string that is equal for equal values; used for equality and unique-index keys. */
export function canonicalKey(value: unknown): string {
  if (value === null || value === undefined) return 'z:';
  if (typeof value === 'number') return `n:${Object.is(value, -0) ? 0 : value}`;
  if (typeof value === 'string') return `s:${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return `b:${value}`;
  if (value instanceof Date) return `d:${value.getTime()}`;
  if (value instanceof Uint8Array)
    return `x:${Array.from(value, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
  if (Array.isArray(value)) return `a:[${value.map(canonicalKey).join(',')}]`;
  // Field order matters for document equality in MongoDB, so it is kept.
  return `o:{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${JSON.stringify(k)}:${canonicalKey(v)}`)
    .join(',')}}`;
}
