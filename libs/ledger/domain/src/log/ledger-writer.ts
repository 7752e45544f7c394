import { AuditRecord } from '@mandate/contracts';
import {
  defineCollection,
  DuplicateKeyError,
  type DocumentStore,
  type TenantId,
} from '@mandate/storage';
import { formatCheckpoint, type NoteSigner } from '../checkpoint';
import { leafHash } from '../merkle';
import type { PayloadCipher } from '../shredding';
import { BulkInsertError } from '@mandate/storage';
import { rootOfState, TileWriter, type TileDoc, type TileState } from './tiles';

/** One leaf of a tenant's log. `id` is the zero-padded leaf index, so ids sort in log order. */
export interface LeafDoc {
  id: string;
  index: number;
  recordId: string;
  correlationId: string;
  /** `objectType/recordId` of the CRM record the entry is about ('' when none). */
  subjectKey: string;
  /** Base64 SHA-256 leaf hash (RFC 9162) of `record`. */
  leafHash: string;
  /** Base64 protobuf AuditRecord exactly as hashed (payload encrypted per data subject). */
  record: string;
  appendedAt: Date;
}

/** A signed tree head. `id` is the zero-padded tree size. */
export interface CheckpointDoc {
  id: string;
  size: number;
  /** Base64 RFC 9162 root hash of the first `size` leaves. */
  rootHash: string;
  /** The C2SP tlog-checkpoint as an Ed25519 signed note. */
  note: string;
  createdAt: Date;
}

export const leafDocId = (index: number) => String(index).padStart(14, '0');
export const checkpointDocId = (size: number) => String(size).padStart(14, '0');

export const LEDGER_LEAVES = defineCollection<LeafDoc>({
  name: 'ledger_leaves',
  indexes: [
    {
      name: 'record_once',
      keys: { recordId: 1 },
      unique: true,
      why: 'Appends are idempotent by record id: a redelivered record never becomes a second leaf.',
    },
    {
      name: 'by_correlation',
      keys: { correlationId: 1, index: 1 },
      why: 'Explainability: the causal chain of one correlation id in log order.',
    },
    {
      name: 'by_subject',
      keys: { subjectKey: 1, index: 1 },
      why: 'Explainability: every entry about one CRM record in log order.',
    },
  ],
});

export const LEDGER_CHECKPOINTS = defineCollection<CheckpointDoc>({
  name: 'ledger_checkpoints',
  indexes: [],
});

export const subjectKeyOf = (r: AuditRecord) =>
  r.subject?.objectType && r.subject.recordId
    ? `${r.subject.objectType}/${r.subject.recordId}`
    : '';

export interface LedgerWriterDeps {
  leaves: DocumentStore<LeafDoc>;
  tiles: DocumentStore<TileDoc>;
  checkpoints: DocumentStore<CheckpointDoc>;
  signer: NoteSigner;
  /** Checkpoint origin of a tenant's log (first line of its checkpoints). */
  origin: (tenant: TenantId) => string;
  /** Encrypts payloads per data subject before they are hashed (crypto-shredding). */
  cipher?: PayloadCipher;
  clock?: () => Date;
  /** Test-only crash points (`ledger.after-leaves-insert`: leaves written, tiles not yet). */
  failpoints?: { hit(name: string): void };
}

interface TenantLog {
  size: number;
  tiles: TileState;
  lastCheckpoint: number;
  /** Leaves appended by this writer and not yet released (publication reads them from here). */
  recent: LeafDoc[];
}

/** Leaves kept in memory for publication before the oldest are dropped (then read back). */
const MAX_RECENT = 200_000;

export interface AppendResult {
  /** Leaves written by this call, in index order. */
  appended: LeafDoc[];
  /** Records that were already in the log (redeliveries): nothing was written for them. */
  existing: number;
}

/**
 * The single writer of a tenant's log (the tenant's audit-records partition is consumed by one
 * instance). A batch is one ordered bulk insert of leaves at consecutive indexes, then the tile
 * updates; a checkpoint signs the root of the current size. Every write is a single-document
 * atomic operation or an ordered bulk insert, so a crash anywhere leaves leaves [0, n) without a
 * gap, tiles that may lag (rebuilt on the next load) and checkpoints that are all valid.
 * Appends are idempotent by record id. Any surprise (another writer, a failed write) drops the
 * in-memory state; the next call reloads it from the store.
 */
export class LedgerWriter {
  private readonly logs = new Map<TenantId, TenantLog>();
  private readonly locks = new Map<TenantId, Promise<unknown>>();
  private readonly tileWriter: TileWriter;
  private readonly clock: () => Date;

  constructor(private readonly deps: LedgerWriterDeps) {
    this.tileWriter = new TileWriter(deps.tiles);
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Tenants this writer has appended to (the checkpointer signs their logs). */
  tenants(): TenantId[] {
    return [...this.logs.keys()];
  }

  appendBatch(tenant: TenantId, records: readonly AuditRecord[]): Promise<AppendResult> {
    return this.exclusive(tenant, () => this.appendUnlocked(tenant, records));
  }

  /** Signs a checkpoint of the current size if it grew since the last one. */
  checkpoint(tenant: TenantId): Promise<CheckpointDoc | undefined> {
    return this.exclusive(tenant, () => this.checkpointUnlocked(tenant));
  }

  /**
   * Leaves [from, to) appended by this writer and still in memory, or undefined when some of
   * them are not (another writer's, or dropped): the caller then reads them from the store.
   */
  recentLeaves(tenant: TenantId, from: number, to: number): LeafDoc[] | undefined {
    const recent = this.logs.get(tenant)?.recent;
    if (!recent?.length || from < recent[0].index || to > recent[0].index + recent.length)
      return undefined;
    return recent.slice(from - recent[0].index, to - recent[0].index);
  }

  /** Forgets in-memory leaves below `index` (published). */
  release(tenant: TenantId, index: number): void {
    const log = this.logs.get(tenant);
    if (!log?.recent.length) return;
    const drop = Math.max(0, Math.min(log.recent.length, index - log.recent[0].index));
    if (drop) log.recent.splice(0, drop);
  }

  /**
   * The steady state reads nothing: the batch is inserted optimistically at the next indexes
   * and the unique index on the record id catches a redelivery. Only then (a crash or a
   * rebalance) does the slow path re-read the store: which records are in, and where the log is.
   */
  private async appendUnlocked(
    tenant: TenantId,
    records: readonly AuditRecord[],
    attempt = 0,
  ): Promise<AppendResult> {
    const unique = new Map<string, AuditRecord>();
    for (const r of records) {
      if (!r.recordId) throw new Error('audit record has no record id');
      if (r.tenantId !== tenant) throw new Error(`audit record ${r.recordId} is not ${tenant}'s`);
      if (!unique.has(r.recordId)) unique.set(r.recordId, r);
    }
    if (!unique.size) return { appended: [], existing: 0 };
    let fresh = [...unique.values()];
    if (attempt > 0) {
      const known = new Set<string>();
      const ids = [...unique.keys()];
      for (let i = 0; i < ids.length; i += 500) {
        const found = await this.deps.leaves.find(
          tenant,
          { recordId: { $in: ids.slice(i, i + 500) } },
          { limit: 500 },
        );
        for (const leaf of found) known.add(leaf.recordId);
      }
      fresh = fresh.filter((r) => !known.has(r.recordId));
    }
    const existing = records.length - fresh.length;
    if (!fresh.length) return { appended: [], existing };

    const log = await this.log(tenant);
    const appendedAt = this.clock();
    const docs: LeafDoc[] = [];
    const hashes: Buffer[] = [];
    const sealed = this.deps.cipher ? await this.deps.cipher.sealAll(tenant, fresh) : fresh;
    for (const [i, r] of fresh.entries()) {
      const stored = sealed[i];
      const bytes = AuditRecord.encode(stored).finish();
      const hash = leafHash(bytes);
      hashes.push(hash);
      docs.push({
        id: leafDocId(log.size + i),
        index: log.size + i,
        recordId: r.recordId,
        correlationId: r.correlationId,
        subjectKey: subjectKeyOf(r),
        leafHash: hash.toString('base64'),
        record: Buffer.from(bytes).toString('base64'),
        appendedAt,
      });
    }
    try {
      await this.deps.leaves.insertMany(tenant, docs);
      this.deps.failpoints?.hit('ledger.after-leaves-insert');
      await this.tileWriter.append(tenant, log.tiles, hashes);
    } catch (err) {
      // A redelivery (record id taken), another writer (index taken) or a failed write: the
      // store is the truth. Reload it (repairing tiles) and append what is still missing.
      this.logs.delete(tenant);
      if (err instanceof BulkInsertError && attempt < 3)
        return this.appendUnlocked(tenant, records, attempt + 1);
      throw err;
    }
    log.size += docs.length;
    log.recent.push(...docs);
    if (log.recent.length > MAX_RECENT) log.recent.splice(0, log.recent.length - MAX_RECENT);
    return { appended: docs, existing };
  }

  private async checkpointUnlocked(tenant: TenantId): Promise<CheckpointDoc | undefined> {
    const log = await this.log(tenant);
    if (log.size === 0 || log.size <= log.lastCheckpoint) return undefined;
    const size = log.size;
    const root = rootOfState(log.tiles);
    const note = this.deps.signer.sign(
      formatCheckpoint({ origin: this.deps.origin(tenant), size, rootHash: root }),
    );
    const doc: CheckpointDoc = {
      id: checkpointDocId(size),
      size,
      rootHash: root.toString('base64'),
      note,
      createdAt: this.clock(),
    };
    try {
      await this.deps.checkpoints.insert(tenant, doc);
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
    }
    log.lastCheckpoint = size;
    return doc;
  }

  private async log(tenant: TenantId): Promise<TenantLog> {
    const cached = this.logs.get(tenant);
    if (cached) return cached;
    const last = await this.deps.leaves.find(tenant, {}, { sort: { index: -1 }, limit: 1 });
    const size = last[0] ? last[0].index + 1 : 0;
    const tiles = await this.tileWriter.load(tenant, size, (t, from, to) =>
      this.leafHashes(t, from, to),
    );
    const cp = await this.deps.checkpoints.find(tenant, {}, { sort: { size: -1 }, limit: 1 });
    const log: TenantLog = { size, tiles, lastCheckpoint: cp[0]?.size ?? 0, recent: [] };
    this.logs.set(tenant, log);
    return log;
  }

  private async leafHashes(tenant: TenantId, from: number, to: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    while (from + out.length < to) {
      const page = await this.deps.leaves.find(
        tenant,
        { index: { $gte: from + out.length, $lt: to } },
        { sort: { index: 1 }, limit: 1000 },
      );
      if (!page.length) break;
      for (const leaf of page) {
        if (leaf.index !== from + out.length)
          throw new Error(`ledger ${tenant} has a gap at leaf ${from + out.length}`);
        out.push(Buffer.from(leaf.leafHash, 'base64'));
      }
    }
    if (out.length !== to - from)
      throw new Error(`ledger ${tenant}: leaves [${from}, ${to}) are incomplete`);
    return out;
  }

  private exclusive<T>(tenant: TenantId, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(tenant) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(tenant, settled);
    void settled.then(() => {
      if (this.locks.get(tenant) === settled) this.locks.delete(tenant);
    });
    return next;
  }
}
