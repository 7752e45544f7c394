import { ConnectorError, INVALID_FIND_REQUEST } from '@mandate/connector-sdk';
import type { ValueKind } from './mapping';
import { parseSfDateTime, soqlDateTime } from './sf-dates';

/**
 * SOQL for `find`. Object and field names come from the validated field mapping (API names);
 * values only ever enter a query as literals built here.
 */

/** SOQL's quoted-string escape sequences (SOQL and SOSL Reference, "Quoted String Escape Sequences"). */
const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A quoted SOQL string literal. Control characters SOQL has no escape for are refused. */
export function soqlString(value: string): string {
  // eslint-disable-next-line no-control-regex -- these are exactly the characters refused
  if (/[\u0000-\u0007\u000b\u000e-\u001f\u007f]/.test(value))
    throw ConnectorError.permanent(
      INVALID_FIND_REQUEST,
      'a find value holds control characters that SOQL cannot express',
    );
  return `'${value.replace(/[\\'"\n\r\t\b\f]/g, (c) => ESCAPES[c] ?? c)}'`;
}

/** "1250000" minor units → "12500.00" major units, exactly (no floating point). */
function minorToMajorLiteral(minor: string, digits: number): string {
  const negative = minor.startsWith('-');
  const abs = (negative ? minor.slice(1) : minor).padStart(digits + 1, '0');
  const whole = abs.slice(0, abs.length - digits);
  const fraction = abs.slice(abs.length - digits);
  return `${negative ? '-' : ''}${whole}${digits > 0 ? `.${fraction}` : ''}`;
}

/**
 * The SOQL literal that selects the Salesforce values whose canonical form is `value` (the SDK's
 * `String()` of the canonical value); undefined when no value of this kind has that form (the
 * find then matches nothing, and no query is sent). Text compares case-insensitively in SOQL:
 * callers re-check what comes back.
 */
export function soqlLiteral(
  kind: ValueKind,
  value: string,
  minorUnitDigits: number,
): string | undefined {
  const canonicalNumber = /^-?\d+(\.\d+)?$/.test(value) && String(Number(value)) === value;
  switch (kind) {
    case 'string':
      return soqlString(value);
    case 'number':
      return canonicalNumber ? value : undefined;
    case 'minor-units':
      return canonicalNumber && /^-?\d+$/.test(value)
        ? minorToMajorLiteral(value, minorUnitDigits)
        : undefined;
    case 'boolean':
      return value === 'true' || value === 'false' ? value : undefined;
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(value) && Number.isFinite(Date.parse(value))
        ? value
        : undefined;
    case 'datetime': {
      const ms = parseSfDateTime(value);
      return ms === undefined ? undefined : soqlDateTime(ms);
    }
  }
}

export interface FindSoql {
  readonly sobject: string;
  /** Salesforce fields to select (Id is always selected). */
  readonly select: readonly string[];
  /** `Field = literal` conditions, ANDed. */
  readonly where: ReadonlyArray<readonly [field: string, literal: string]>;
  readonly orderBy?: { readonly field: string; readonly descending: boolean };
  readonly limit: number;
}

/**
 * `SELECT Id, <fields> FROM Obj [WHERE A = x AND B = y] ORDER BY [F ASC|DESC NULLS LAST,] Id ASC
 * LIMIT n`: records without a value last in both directions, ties (and no order) by Id.
 */
export function findSoql(q: FindSoql): string {
  const select = [...new Set(['Id', ...q.select])].join(', ');
  const where = q.where.length
    ? ` WHERE ${q.where.map(([f, l]) => `${f} = ${l}`).join(' AND ')}`
    : '';
  const order = q.orderBy
    ? `${q.orderBy.field} ${q.orderBy.descending ? 'DESC' : 'ASC'} NULLS LAST, Id ASC`
    : 'Id ASC';
  return `SELECT ${select} FROM ${q.sobject}${where} ORDER BY ${order} LIMIT ${q.limit}`;
}
