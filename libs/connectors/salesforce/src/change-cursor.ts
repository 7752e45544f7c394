import { ConnectorError } from '@mandate/connector-sdk';
import { isSalesforceId } from './ids';
import { parseSfDateTime, soqlDateTime } from './sf-dates';

/**
 * Where the feed stands in one Salesforce object: the (SystemModstamp, Id) of the last change
 * handed out. The next query asks for rows strictly after it in (SystemModstamp, Id) order, so
 * records sharing a SystemModstamp are neither skipped nor repeated.
 */
export interface ObjectPosition {
  /** SystemModstamp exactly as Salesforce returned it. */
  readonly stamp: string;
  readonly id: string;
}

/** Positions per Salesforce object name. */
export type FeedPositions = Readonly<Record<string, ObjectPosition>>;

const OBJECT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The opaque cursor: base64url of `{"v":1,"p":{"Lead":["<stamp>","<id>"],...}}`. */
export function encodeCursor(positions: FeedPositions, order: readonly string[]): string {
  const p: Record<string, [string, string]> = {};
  // A stable key order: the same positions always give the same cursor.
  const names = [
    ...order,
    ...Object.keys(positions)
      .filter((n) => !order.includes(n))
      .sort(),
  ];
  for (const name of names) {
    const pos = positions[name];
    if (pos) p[name] = [pos.stamp, pos.id];
  }
  return Buffer.from(JSON.stringify({ v: 1, p }), 'utf8').toString('base64url');
}

function invalid(): ConnectorError {
  return ConnectorError.permanent(
    'INVALID_CURSOR',
    'the Salesforce change cursor is not one this adapter issued',
  );
}

/** The positions in a cursor (none for `undefined`: from the start). */
export function decodeCursor(cursor: string | undefined): FeedPositions {
  if (cursor === undefined || cursor === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const doc = parsed as { v?: unknown; p?: unknown };
  if (typeof doc !== 'object' || doc === null || doc.v !== 1) throw invalid();
  if (typeof doc.p !== 'object' || doc.p === null || Array.isArray(doc.p)) throw invalid();
  const out: Record<string, ObjectPosition> = {};
  for (const [name, pos] of Object.entries(doc.p as Record<string, unknown>)) {
    if (!OBJECT_NAME.test(name) || !Array.isArray(pos) || pos.length !== 2) throw invalid();
    const [stamp, id] = pos as unknown[];
    if (typeof stamp !== 'string' || parseSfDateTime(stamp) === undefined) throw invalid();
    if (typeof id !== 'string' || !isSalesforceId(id)) throw invalid();
    out[name] = { stamp, id };
  }
  return out;
}

/**
 * The SOQL that reads one object's changes after a position:
 * `SELECT Id, SystemModstamp, CreatedDate, <fields> FROM Obj WHERE SystemModstamp > t OR
 * (SystemModstamp = t AND Id > 'id') ORDER BY SystemModstamp ASC, Id ASC LIMIT n`.
 * Object and field names were validated as API names when the mapping was loaded.
 */
export function changeQuery(
  sobject: string,
  fields: readonly string[],
  after: ObjectPosition | undefined,
  limit: number,
): string {
  const select = [...new Set(['Id', 'SystemModstamp', 'CreatedDate', ...fields])].join(', ');
  let where = '';
  if (after) {
    const t = soqlDateTime(parseSfDateTime(after.stamp) as number);
    where = ` WHERE SystemModstamp > ${t} OR (SystemModstamp = ${t} AND Id > '${after.id}')`;
  }
  return `SELECT ${select} FROM ${sobject}${where} ORDER BY SystemModstamp ASC, Id ASC LIMIT ${limit}`;
}

/** One row of a change query, with its parsed SystemModstamp. */
export interface ChangeRow {
  readonly sobject: string;
  readonly stampMs: number;
  readonly record: Readonly<Record<string, unknown>>;
}

/**
 * Merges per-object lists (each already in (SystemModstamp, Id) order) by SystemModstamp, ties
 * broken by the objects' order, keeping each list's own order — so what is taken from each
 * object is always a prefix of its list, which is what makes per-object positions exact.
 */
export function mergeByStamp(lists: readonly (readonly ChangeRow[])[], limit: number): ChangeRow[] {
  const heads = lists.map(() => 0);
  const out: ChangeRow[] = [];
  while (out.length < limit) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const row = lists[i][heads[i]];
      if (row && (best < 0 || row.stampMs < lists[best][heads[best]].stampMs)) best = i;
    }
    if (best < 0) break;
    out.push(lists[best][heads[best]]);
    heads[best]++;
  }
  return out;
}
