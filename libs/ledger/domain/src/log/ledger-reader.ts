import { AuditEntry, AuditRecord, Checkpoint, ProvenEntry } from '@mandate/contracts';
import type { DocumentStore, Filter, TenantId } from '@mandate/storage';
import { consistencyProof, inclusionProof, rootAt, type SubtreeHashes } from '../merkle';
import type { CheckpointDoc, LeafDoc } from './ledger-writer';
import { TileReader, type TileDoc } from './tiles';

/** Page size of the gRPC API (message size). */
export const MAX_PAGE = 1000;
/** Page size for in-process readers (exports, the publisher): fewer, larger reads. */
export const MAX_BULK_PAGE = 10_000;

/** A causal chain: entries in log order, each with its proof against one checkpoint. */
export interface ProvenChain {
  entries: ProvenEntry[];
  checkpoint: Checkpoint | undefined;
}

/**
 * The read side of the ledger: entries, checkpoints, causal chains and RFC 9162 proofs computed
 * from the hash tiles (O(log n) tile reads; full tiles are cached). Proofs are always against a
 * signed checkpoint, so a client verifies them with the log's public key alone.
 */
export class LedgerReader {
  private readonly tiles: TileReader;

  constructor(
    private readonly leaves: DocumentStore<LeafDoc>,
    tiles: DocumentStore<TileDoc>,
    private readonly checkpoints: DocumentStore<CheckpointDoc>,
    private readonly origin: (tenant: TenantId) => string,
  ) {
    this.tiles = new TileReader(tiles);
  }

  /** Leaves [from, from + limit) in order (fewer at the end of the log; limit ≤ 10 000). */
  async entries(tenant: TenantId, from: number, limit = MAX_PAGE): Promise<AuditEntry[]> {
    const page = await this.leaves.find(
      tenant,
      { index: { $gte: from } },
      { sort: { index: 1 }, limit: Math.min(Math.max(limit, 1), MAX_BULK_PAGE) },
    );
    const out: AuditEntry[] = [];
    for (const leaf of page) {
      if (leaf.index !== from + out.length) break; // never return past a gap
      out.push(toEntry(leaf));
    }
    return out;
  }

  /** The latest checkpoint, or undefined for an empty (or not yet checkpointed) log. */
  async latestCheckpoint(tenant: TenantId): Promise<CheckpointDoc | undefined> {
    const [doc] = await this.checkpoints.find(tenant, {}, { sort: { size: -1 }, limit: 1 });
    return doc ?? undefined;
  }

  /** Checkpoints with size ≥ fromSize, ascending. */
  async listCheckpoints(tenant: TenantId, fromSize: number, limit = MAX_PAGE) {
    const docs = await this.checkpoints.find(
      tenant,
      { size: { $gte: fromSize } },
      { sort: { size: 1 }, limit: Math.min(Math.max(limit, 1), MAX_PAGE) },
    );
    return docs.map((d) => this.toCheckpoint(tenant, d));
  }

  async checkpointOfSize(tenant: TenantId, size: number): Promise<CheckpointDoc | undefined> {
    const [doc] = await this.checkpoints.find(tenant, { size }, { limit: 1 });
    return doc ?? undefined;
  }

  toCheckpoint(tenant: TenantId, d: CheckpointDoc): Checkpoint {
    return Checkpoint.fromPartial({
      origin: this.origin(tenant),
      treeSize: String(d.size),
      rootHash: Buffer.from(d.rootHash, 'base64'),
      signedNote: d.note,
    });
  }

  async leafByRecordId(tenant: TenantId, recordId: string): Promise<LeafDoc | undefined> {
    const [leaf] = await this.leaves.find(tenant, { recordId }, { limit: 1 });
    return leaf ?? undefined;
  }

  /** One record with its inclusion proof against the latest checkpoint covering it. */
  async provenEntry(
    tenant: TenantId,
    recordId: string,
  ): Promise<{ entry: ProvenEntry; checkpoint: Checkpoint } | undefined> {
    const leaf = await this.leafByRecordId(tenant, recordId);
    const cp = await this.latestCheckpoint(tenant);
    if (!leaf || !cp || leaf.index >= cp.size) return undefined;
    return {
      entry: await this.prove(tenant, leaf, cp.size),
      checkpoint: this.toCheckpoint(tenant, cp),
    };
  }

  /** Every entry of one correlation id, or about one CRM record, proven against one checkpoint. */
  async causalChain(
    tenant: TenantId,
    key: { correlationId: string } | { subjectKey: string },
  ): Promise<ProvenChain> {
    const cp = await this.latestCheckpoint(tenant);
    if (!cp) return { entries: [], checkpoint: undefined };
    const filter: Filter<LeafDoc> =
      'correlationId' in key
        ? { correlationId: key.correlationId, index: { $lt: cp.size } }
        : { subjectKey: key.subjectKey, index: { $lt: cp.size } };
    const leaves = await this.leaves.find(tenant, filter, { sort: { index: 1 }, limit: MAX_PAGE });
    const entries: ProvenEntry[] = [];
    for (const leaf of leaves) entries.push(await this.prove(tenant, leaf, cp.size));
    return { entries, checkpoint: this.toCheckpoint(tenant, cp) };
  }

  /** Entries of one correlation id in log order, without proofs (checkpointed or not). */
  async byCorrelation(tenant: TenantId, correlationId: string): Promise<AuditEntry[]> {
    const leaves = await this.leaves.find(
      tenant,
      { correlationId },
      { sort: { index: 1 }, limit: MAX_PAGE },
    );
    return leaves.map(toEntry);
  }

  /** Proof for leaf `index` in the tree of `size` leaves (a checkpointed size). */
  async inclusionProof(tenant: TenantId, index: number, size: number): Promise<Buffer[]> {
    return inclusionProof(index, size, this.hashes(tenant, size));
  }

  /** Proof that the tree of `size1` is a prefix of that of `size2` (checkpointed sizes). */
  async consistencyProof(tenant: TenantId, size1: number, size2: number): Promise<Buffer[]> {
    return consistencyProof(size1, size2, this.hashes(tenant, size2));
  }

  /** Size and root of the log as stored now (from the tiles; not necessarily checkpointed). */
  async head(tenant: TenantId): Promise<{ size: number; root: Buffer }> {
    const [last] = await this.leaves.find(tenant, {}, { sort: { index: -1 }, limit: 1 });
    const size = last ? last.index + 1 : 0;
    return { size, root: await rootAt(size, this.hashes(tenant, size)) };
  }

  /** A leaf's hash, from the tiles of the tree of `size` leaves. */
  leafHashAt(tenant: TenantId, index: number, size: number): Promise<Buffer> {
    return this.tiles.subtree(tenant, 0, index, size);
  }

  /**
   * Perfect subtree hashes of the tree of `size` leaves. Those of a smaller tree are the same
   * (a complete subtree never changes), read from the tiles as they were at `size`.
   */
  private hashes(tenant: TenantId, size: number): SubtreeHashes {
    return { hash: (level, index) => this.tiles.subtree(tenant, level, index, size) };
  }

  private async prove(tenant: TenantId, leaf: LeafDoc, size: number): Promise<ProvenEntry> {
    return ProvenEntry.fromPartial({
      entry: toEntry(leaf),
      auditPath: await this.inclusionProof(tenant, leaf.index, size),
    });
  }
}

export function toEntry(leaf: LeafDoc): AuditEntry {
  const bytes = Buffer.from(leaf.record, 'base64');
  return AuditEntry.fromPartial({
    record: AuditRecord.decode(bytes),
    leafData: bytes,
    leafIndex: String(leaf.index),
    leafHash: Buffer.from(leaf.leafHash, 'base64'),
    appendedAt: leaf.appendedAt.toISOString(),
  });
}
