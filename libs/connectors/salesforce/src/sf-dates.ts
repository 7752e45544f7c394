/**
 * Salesforce's datetime wire format is ISO 8601 with a `+0000` offset and milliseconds
 * (`2025-01-01T10:00:00.000+0000`); SOQL datetime literals are unquoted ISO 8601
 * (`2025-01-01T10:00:00Z`).
 */

/** Milliseconds since the epoch of a Salesforce datetime (either offset style); undefined if not one. */
export function parseSfDateTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(Z|[+-]\d{2}:?\d{2})$/.exec(value);
  if (!m) return undefined;
  const offset = m[2] === 'Z' ? 'Z' : `${m[2].slice(0, 3)}:${m[2].slice(-2)}`;
  const ms = Date.parse(`${m[1]}${offset}`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** `2025-01-01T10:00:00.000+0000`, as Salesforce returns datetimes. */
export function formatSfDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** A SOQL datetime literal; whole seconds are written without a fraction. */
export function soqlDateTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? iso.replace('.000Z', 'Z') : iso;
}
