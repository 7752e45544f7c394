import * as fs from 'node:fs';
import * as path from 'node:path';
import { isPlainObject } from './document-values';
import type { OutboxEntry } from './outbox';
import { StorageError, StorageUnavailableError } from './storage.errors';
import type { TenantId } from './tenant-id';

/**
 * The full state of one stored document (a store "slot"): what a journal records after every
 * committed change and hands back when a store is reopened.
 */
export interface JournalSlot {
  /** The storage key, `<tenant>:<id>` (see `storageKey`). */
  readonly key: string;
  readonly tenant: TenantId;
  /** Normalized caller fields, including `id`, excluding `version`. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly version: number;
  /** Undelivered outbox entries, oldest first. */
  readonly outbox: readonly OutboxEntry[];
  /** A tombstone: deleted, invisible, kept until its outbox is delivered. */
  readonly deleted: boolean;
}

/**
 * Persistence hook of `InMemoryDocumentStore`. The store calls `load` once, when it is
 * constructed, and `record` synchronously inside every committed write, before the change
 * becomes visible: if `record` throws, the write fails and the store is left unchanged.
 */
export interface DocumentJournal {
  /** The latest recorded state of every key that still exists (removed keys are left out). */
  load(): JournalSlot[];
  /**
   * Records the new state of `key`, or `null` when the slot was removed entirely (a delete with
   * nothing left to publish, a delivered tombstone, an expired document). `state` belongs to the
   * store: serialize or copy it, never keep or mutate it.
   */
  record(key: string, state: JournalSlot | null): void;
}

/** The journal file holds something a crash alone cannot explain (or a state no store could hold). */
export class CorruptJournalError extends StorageError {}

export interface FileDocumentJournalOptions {
  /** Directory of the journal files; created (recursively) if missing. */
  readonly dir: string;
  /** Collection name (`[a-z][a-z0-9_]{0,62}`); the file is `<dir>/<collection>.jsonl`. */
  readonly collection: string;
  /** Told about recoverable oddities, such as a torn last line dropped on load. */
  readonly onWarning?: (message: string) => void;
}

const COLLECTION_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * A `DocumentJournal` in an append-only JSON Lines file, `<dir>/<collection>.jsonl`: one line
 * per change (`{"key","tenant","version","deleted","fields","outbox"}`, or `{"key","removed":true}`),
 * the latest line of a key wins.
 *
 * Durability is dev-mode: lines are appended with `fs.appendFileSync` and never fsynced, so an
 * OS crash or power loss can lose the last writes (a process crash cannot: the data is in the
 * page cache). A crash in the middle of an append leaves a torn last line; `load` drops it with a
 * warning. `load` also compacts: it rewrites the file with only the latest states, atomically
 * (temp file, fsync, rename). One process per directory: nothing locks the files.
 *
 * Values JSON cannot carry are tagged: `{"$date": ISO}`, `{"$bytes": base64}` and
 * `{"$num": "NaN" | "Infinity" | "-Infinity" | "-0"}`. Stored documents can never hold a
 * field name starting with `$`, so the tags are unambiguous.
 *
 * After a failed append the journal refuses every further write (the file may now end in a
 * partial line that a later line would turn into corruption); restarting the process recovers.
 */
export class FileDocumentJournal implements DocumentJournal {
  readonly file: string;
  private readonly tempFile: string;
  private readonly warn: (message: string) => void;
  private failure: unknown;
  private failed = false;

  constructor(options: FileDocumentJournalOptions) {
    if (!COLLECTION_PATTERN.test(options.collection)) {
      throw new StorageError(`journal collection name must match ${COLLECTION_PATTERN}`);
    }
    fs.mkdirSync(options.dir, { recursive: true });
    this.file = path.join(options.dir, `${options.collection}.jsonl`);
    this.tempFile = `${this.file}.compact.tmp`;
    this.warn = options.onWarning ?? (() => undefined);
  }

  load(): JournalSlot[] {
    const latest = this.replay();
    const slots = [...latest.values()].filter((s): s is JournalSlot => s !== null);
    this.compact(slots);
    return slots;
  }

  record(key: string, state: JournalSlot | null): void {
    if (this.failed) {
      throw new StorageUnavailableError(
        `journal ${this.file} refuses writes after an earlier append failed; restart to recover`,
        { cause: this.failure },
      );
    }
    const line = `${JSON.stringify(state ? encodeSlot(state) : { key, removed: true })}\n`;
    try {
      fs.appendFileSync(this.file, line);
    } catch (error) {
      this.failed = true;
      this.failure = error;
      throw new StorageUnavailableError(`could not append to journal ${this.file}`, {
        cause: error,
      });
    }
  }

  /** Latest state per key (`null`: removed), in order of first appearance. */
  private replay(): Map<string, JournalSlot | null> {
    const latest = new Map<string, JournalSlot | null>();
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return latest;
      throw error;
    }
    const lines = text.split('\n');
    // Everything after the last newline is an unterminated line: a write cut short by a crash.
    const unterminated = lines.pop() ?? '';
    lines.forEach((line, index) => {
      if (line.trim().length === 0) return;
      const entry = this.parse(line, index + 1);
      latest.set(entry.key, entry.state);
    });
    if (unterminated.trim().length > 0) {
      const lineNumber = lines.length + 1;
      let entry: ParsedLine | undefined;
      try {
        entry = this.parse(unterminated, lineNumber);
      } catch (error) {
        if (!(error instanceof CorruptJournalError)) throw error;
        this.warn(
          `${this.file}: dropped a torn last line (${lineNumber}, ${unterminated.length} chars), probably a crash during a write: ${error.message}`,
        );
      }
      if (entry) latest.set(entry.key, entry.state);
    }
    return latest;
  }

  private parse(line: string, lineNumber: number): ParsedLine {
    const where = `${this.file}:${lineNumber}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw new CorruptJournalError(`${where}: not valid JSON`, { cause: error });
    }
    return decodeLine(raw, where);
  }

  private compact(slots: readonly JournalSlot[]): void {
    const text = slots.map((slot) => `${JSON.stringify(encodeSlot(slot))}\n`).join('');
    try {
      const fd = fs.openSync(this.tempFile, 'w');
      try {
        fs.writeFileSync(fd, text);
        // Without this, a crash right after the rename could leave an empty file behind it.
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(this.tempFile, this.file);
    } catch (error) {
      fs.rmSync(this.tempFile, { force: true });
      throw error;
    }
  }
}

interface ParsedLine {
  readonly key: string;
  readonly state: JournalSlot | null;
}

function encodeSlot(slot: JournalSlot): Record<string, unknown> {
  return {
    key: slot.key,
    tenant: slot.tenant,
    version: slot.version,
    deleted: slot.deleted,
    fields: encodeValue(slot.fields),
    outbox: slot.outbox.map((entry) => encodeValue(entry)),
  };
}

function decodeLine(raw: unknown, where: string): ParsedLine {
  if (!isPlainObject(raw) || typeof raw['key'] !== 'string') {
    throw new CorruptJournalError(`${where}: not a journal record`);
  }
  const key = raw['key'];
  if (raw['removed'] === true) return { key, state: null };
  const { tenant, version, deleted, fields, outbox } = raw;
  if (
    typeof tenant !== 'string' ||
    typeof version !== 'number' ||
    typeof deleted !== 'boolean' ||
    !isPlainObject(fields) ||
    !Array.isArray(outbox)
  ) {
    throw new CorruptJournalError(`${where}: not a journal record`);
  }
  return {
    key,
    state: {
      key,
      // Checked by the store when it restores (with everything else a slot must satisfy).
      tenant: tenant as TenantId,
      version,
      deleted,
      fields: decodeValue(fields, where) as Record<string, unknown>,
      outbox: outbox.map((entry) => decodeValue(entry, where) as OutboxEntry),
    },
  };
}

/** A JSON-safe copy of a normalized value, with Dates, bytes and odd numbers tagged. */
function encodeValue(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value) && !Object.is(value, -0)) return value;
    return { $num: Object.is(value, -0) ? '-0' : String(value) };
  }
  if (value instanceof Date) return { $date: value.toISOString() };
  if (value instanceof Uint8Array) {
    return {
      $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    };
  }
  if (Array.isArray(value)) return value.map(encodeValue);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // Stored values never have such names; one would make the tags ambiguous.
      if (key.startsWith('$')) throw new StorageError(`cannot journal a field named "${key}"`);
      if (item !== undefined) out[key] = encodeValue(item);
    }
    return out;
  }
  throw new StorageError(`cannot journal a value of type ${typeof value}`);
}

const NUMBER_TAGS: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
};

function decodeValue(value: unknown, where: string): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, where));
  if (!isPlainObject(value)) throw new CorruptJournalError(`${where}: unexpected value`);
  const keys = Object.keys(value);
  const [tag] = keys;
  if (keys.length === 1 && tag !== undefined && tag.startsWith('$')) {
    return decodeTagged(tag, value[tag], where);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (key.startsWith('$')) throw new CorruptJournalError(`${where}: misplaced tag "${key}"`);
    out[key] = decodeValue(value[key], where);
  }
  return out;
}

function decodeTagged(tag: string, payload: unknown, where: string): unknown {
  if (tag === '$date' && typeof payload === 'string') {
    const date = new Date(payload);
    if (!Number.isNaN(date.getTime())) return date;
  }
  if (tag === '$bytes' && typeof payload === 'string') {
    return new Uint8Array(Buffer.from(payload, 'base64'));
  }
  if (tag === '$num' && typeof payload === 'string' && Object.hasOwn(NUMBER_TAGS, payload)) {
    return NUMBER_TAGS[payload];
  }
  throw new CorruptJournalError(`${where}: invalid tagged value "${tag}"`);
}
