/**
 * The ledger export format (`mandate-ledger-export/v1`) and its streaming verifier, for auditors
 * who hold nothing but an export file and a trusted verifier key. JSON Lines, one object a line:
 *
 *   {"type":"header","format":"mandate-ledger-export/v1","origin":"…","tenantId":"…",
 *    "verifierKeys":["<name>+<hash>+<key>",…],"exportedAt":"<ISO time>"}           first line
 *   {"type":"entry","index":N,"record":"<base64 protobuf AuditRecord>","leafHash":"<base64>"}
 *   {"type":"checkpoint","note":"<C2SP signed checkpoint note>"}
 *
 * Entries come in index order from 0 with no gaps. Checkpoints are interleaved: a checkpoint for
 * size s comes right after entry s-1 (a size-0 checkpoint right after the header), so their sizes
 * never decrease; the last line is a checkpoint covering every entry. That lets the verifier
 * check each checkpoint against the root of the entries read so far in O(log n) memory.
 *
 * The leaf hash covers the record's protobuf bytes exactly as stored (RFC 9162 leaf hash of the
 * base64-decoded `record`), so the verifier never needs to decode a record.
 */
import { decodeBase64Strict } from '../checkpoint/base64';
import { signCheckpoint, verifyCheckpoint } from '../checkpoint/checkpoint';
import { parseVerifierKey, type NoteSigner, type NoteVerifierKey } from '../checkpoint/note';
import { CompactRange } from '../merkle/compact';
import { leafHash } from '../merkle/hash';

export const EXPORT_FORMAT = 'mandate-ledger-export/v1';

export interface ExportHeader {
  type: 'header';
  format: typeof EXPORT_FORMAT;
  /** The log's checkpoint origin. */
  origin: string;
  tenantId: string;
  /** Verifier keys the log signs with (an auditor should pass their own trusted keys instead). */
  verifierKeys: string[];
  exportedAt: string;
}

export interface ExportEntry {
  type: 'entry';
  index: number;
  /** Base64 of the protobuf AuditRecord bytes (the leaf data). */
  record: string;
  /** Base64 RFC 9162 leaf hash of the record bytes. */
  leafHash: string;
}

export interface ExportCheckpoint {
  type: 'checkpoint';
  /** A signed C2SP tlog-checkpoint note. */
  note: string;
}

export type ExportLine = ExportHeader | ExportEntry | ExportCheckpoint;

export interface VerifiedCheckpoint {
  size: number;
  /** Base64 root hash. */
  rootHash: string;
  /** "name+keyhash" of each trusted key that signed it. */
  signers: string[];
}

export type ExportVerdict =
  | {
      ok: true;
      origin: string;
      tenantId: string;
      size: number;
      rootHash: string;
      checkpoints: VerifiedCheckpoint[];
    }
  | {
      ok: false;
      /** The first log index whose entry is missing, altered, duplicated or out of order. */
      firstBadIndex?: number;
      /** 1-based line number of the offending line. */
      line?: number;
      reason: string;
    };

/** One export line, JSON with a trailing "\n". */
export function writeExportLine(line: ExportLine): string {
  return `${JSON.stringify(line)}\n`;
}

export function exportHeaderLine(h: Omit<ExportHeader, 'type' | 'format'>): string {
  return writeExportLine({
    type: 'header',
    format: EXPORT_FORMAT,
    origin: h.origin,
    tenantId: h.tenantId,
    verifierKeys: [...h.verifierKeys],
    exportedAt: h.exportedAt,
  });
}

/** An entry line for the record bytes as stored; the leaf hash is computed here. */
export function exportEntryLine(index: number, record: Uint8Array): string {
  return writeExportLine({
    type: 'entry',
    index,
    record: Buffer.from(record).toString('base64'),
    leafHash: leafHash(record).toString('base64'),
  });
}

export function exportCheckpointLine(note: string): string {
  return writeExportLine({ type: 'checkpoint', note });
}

/**
 * A complete export of `records` with freshly signed checkpoints after every `checkpointEvery`
 * entries and at the end (tests, demos, tooling; the service exports its stored checkpoints).
 */
export async function* generateExport(opts: {
  origin: string;
  tenantId: string;
  signers: readonly NoteSigner[];
  records: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  checkpointEvery?: number;
  exportedAt?: string;
  verifierKeys?: string[];
}): AsyncGenerator<string> {
  yield exportHeaderLine({
    origin: opts.origin,
    tenantId: opts.tenantId,
    verifierKeys: opts.verifierKeys ?? opts.signers.map((s) => s.verifierKey),
    exportedAt: opts.exportedAt ?? new Date().toISOString(),
  });
  const range = new CompactRange();
  const checkpoint = () =>
    exportCheckpointLine(
      signCheckpoint(
        { origin: opts.origin, size: range.size, rootHash: range.root() },
        opts.signers,
      ),
    );
  let lastCheckpoint = -1;
  for await (const record of opts.records) {
    const hash = leafHash(record);
    const line = writeExportLine({
      type: 'entry',
      index: range.size,
      record: Buffer.from(record).toString('base64'),
      leafHash: hash.toString('base64'),
    });
    range.append(hash);
    yield line;
    if (opts.checkpointEvery && range.size % opts.checkpointEvery === 0) {
      lastCheckpoint = range.size;
      yield checkpoint();
    }
  }
  if (lastCheckpoint !== range.size) yield checkpoint();
}

/**
 * Verifies an export while streaming it (memory O(log n) plus one entry per checkpoint): the
 * header, every entry's leaf hash against its record bytes, contiguous indices from 0, every
 * checkpoint's signature (by `opts.verifierKeys`, or else the header's keys) and origin, and
 * every checkpoint's root against the root recomputed from the entries at its size.
 */
export async function verifyExport(
  lines: AsyncIterable<string> | Iterable<string>,
  opts: { verifierKeys?: readonly string[] } = {},
): Promise<ExportVerdict> {
  let header: ExportHeader | undefined;
  let keys: NoteVerifierKey[] = [];
  const range = new CompactRange();
  const checkpoints: VerifiedCheckpoint[] = [];
  let lineNo = 0;
  const fail = (reason: string, firstBadIndex?: number): ExportVerdict => ({
    ok: false,
    ...(firstBadIndex !== undefined ? { firstBadIndex } : {}),
    line: lineNo,
    reason: `line ${lineNo}: ${reason}`,
  });

  for await (const raw of lines) {
    lineNo++;
    const text = raw.replace(/\r?\n$/, '');
    if (text.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      return fail('not a JSON object', header ? range.size : undefined);
    }
    const type = isObject(obj) ? obj['type'] : undefined;

    if (!header) {
      if (type !== 'header' || !isObject(obj)) return fail('the first line must be the header');
      const h = obj as Partial<ExportHeader>;
      if (h.format !== EXPORT_FORMAT) {
        return fail(`unsupported export format ${JSON.stringify(h.format)}`);
      }
      if (typeof h.origin !== 'string' || h.origin === '' || typeof h.tenantId !== 'string') {
        return fail('the header needs an origin and a tenantId');
      }
      if (!Array.isArray(h.verifierKeys) || !h.verifierKeys.every((k) => typeof k === 'string')) {
        return fail('the header needs a verifierKeys array');
      }
      header = h as ExportHeader;
      try {
        keys = (opts.verifierKeys ?? header.verifierKeys).map(parseVerifierKey);
      } catch (err) {
        return fail(err instanceof Error ? err.message : String(err));
      }
      if (keys.length === 0) return fail('no verifier keys to check checkpoints with');
      continue;
    }

    if (type === 'entry') {
      const e = obj as Partial<ExportEntry>;
      const expected = range.size;
      if (typeof e.index !== 'number' || !Number.isSafeInteger(e.index) || e.index < 0) {
        return fail(`entry without a valid index where entry ${expected} was expected`, expected);
      }
      if (e.index !== expected) {
        return e.index < expected
          ? fail(
              `entry ${e.index} is duplicated or out of order (entry ${expected} was expected)`,
              expected,
            )
          : fail(`entry ${expected} is missing or out of order (found entry ${e.index})`, expected);
      }
      const record = typeof e.record === 'string' ? decodeBase64Strict(e.record) : undefined;
      if (!record) return fail(`entry ${expected}: record is not canonical base64`, expected);
      const stated = typeof e.leafHash === 'string' ? decodeBase64Strict(e.leafHash) : undefined;
      if (!stated || stated.length !== 32) {
        return fail(`entry ${expected}: leafHash is not a base64 SHA-256 hash`, expected);
      }
      const computed = leafHash(record);
      if (!computed.equals(stated)) {
        return fail(`entry ${expected}: leaf hash does not match the record bytes`, expected);
      }
      range.append(computed);
      continue;
    }

    if (type === 'checkpoint') {
      const note = isObject(obj) ? obj['note'] : undefined;
      if (typeof note !== 'string') return fail('checkpoint line without a note');
      const verdict = verifyCheckpoint(note, keys, { origin: header.origin });
      if (!verdict.ok) return fail(`checkpoint: ${verdict.reason}`);
      const { size, rootHash } = verdict.checkpoint;
      if (size > range.size) {
        return fail(
          `checkpoint for size ${size} but only ${range.size} entries precede it: ` +
            `entries ${range.size}..${size - 1} are missing (truncated export)`,
          range.size,
        );
      }
      if (size < range.size) {
        return fail(
          `checkpoint for size ${size} comes after entry ${range.size - 1}: each checkpoint must ` +
            `directly follow the entry that completes its size`,
        );
      }
      const root = range.root();
      if (!root.equals(rootHash)) {
        const since = checkpoints.length ? checkpoints[checkpoints.length - 1].size : 0;
        return fail(
          `checkpoint for size ${size} has root ${rootHash.toString('base64')} but the entries ` +
            `give ${root.toString('base64')}: the log forked, or entries ${since}..${size - 1} ` +
            `were altered`,
        );
      }
      checkpoints.push({
        size,
        rootHash: rootHash.toString('base64'),
        signers: verdict.signers.map((s) => `${s.name}+${s.keyHash}`),
      });
      continue;
    }

    return fail(`unknown line type ${JSON.stringify(type)}`);
  }

  if (!header) return fail('empty export: no header');
  const last = checkpoints[checkpoints.length - 1];
  if (!last) return fail('the export has no checkpoint', range.size > 0 ? 0 : undefined);
  if (last.size < range.size) {
    return fail(
      `entries ${last.size}..${range.size - 1} are not covered by a signed checkpoint`,
      last.size,
    );
  }
  return {
    ok: true,
    origin: header.origin,
    tenantId: header.tenantId,
    size: range.size,
    rootHash: range.root().toString('base64'),
    checkpoints,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
