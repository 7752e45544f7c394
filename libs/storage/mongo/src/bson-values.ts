import { Binary } from 'mongodb';

/**
 * Converts what the driver returns into the plain values the in-memory store returns:
 * `Binary` becomes a `Uint8Array` (a copy), everything else is walked as is. Numbers, strings,
 * booleans, dates and null already come back as JavaScript values (driver defaults).
 */
export function fromBson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (value instanceof Binary) return new Uint8Array(value.value());
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(fromBson);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = fromBson(item);
  return out;
}
