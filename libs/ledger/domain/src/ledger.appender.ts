import { AuditEntry, AuditRecord } from '@mandate/contracts';
import { outboxMessage, Topics } from '@mandate/messaging';
import {
  DuplicateKeyError,
  type DocumentStore,
  type TenantId,
  type Versioned,
} from '@mandate/storage';
import { leafHash, rootFromLeafHashes } from './merkle';

const SOURCE = 'audit-ledger';

/** One leaf of a tenant's log. `id` is the zero-padded leaf index, so ids sort in log order. */
export interface LeafDoc {
  id: string;
  index: number;
  recordId: string;
  correlationId: string;
  /** Base64 SHA-256 leaf hash (RFC 9162) of `record`. */
  leafHash: string;
  /** Base64 protobuf encoding of the AuditRecord: the leaf data. */
  record: string;
  appendedAt: Date;
}

export const leafDocId = (index: number) => String(index).padStart(14, '0');

/**
 * Appends audit records to a tenant's log. Idempotent by record id (a redelivered record gets its
 * existing leaf) and gap-free: leaf n+1 is only ever inserted after leaf n, by the single writer
 * that owns the tenant's partition; a unique index on recordId backs the idempotency.
 * The published AuditEntry sits in the leaf document's outbox (same atomic write).
 */
export class LedgerAppender {
  constructor(
    private readonly leaves: DocumentStore<LeafDoc>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async append(
    tenant: TenantId,
    record: AuditRecord,
  ): Promise<{ leaf: Versioned<LeafDoc>; appended: boolean }> {
    if (!record.recordId) throw new Error('audit record has no record id');
    const bytes = AuditRecord.encode(record).finish();
    const hash = leafHash(bytes);
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.leaves.find(tenant, { recordId: record.recordId }, { limit: 1 });
      if (existing[0]) return { leaf: existing[0], appended: false };
      const last = await this.leaves.find(tenant, {}, { sort: { index: -1 }, limit: 1 });
      const index = last[0] ? last[0].index + 1 : 0;
      const appendedAt = this.now();
      const entry = AuditEntry.fromPartial({
        record,
        leafIndex: String(index),
        leafHash: hash,
        appendedAt: appendedAt.toISOString(),
      });
      try {
        const leaf = await this.leaves.insert(
          tenant,
          {
            id: leafDocId(index),
            index,
            recordId: record.recordId,
            correlationId: record.correlationId,
            leafHash: hash.toString('base64'),
            record: Buffer.from(bytes).toString('base64'),
            appendedAt,
          },
          {
            outbox: [
              outboxMessage(Topics.audit, entry, {
                tenantId: tenant,
                correlationId: record.correlationId,
                source: SOURCE,
                id: `${tenant}:${index}`,
              }),
            ],
          },
        );
        return { leaf, appended: true };
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err; // index or record id taken meanwhile: look again
      }
    }
    throw new Error(`could not append ${record.recordId}: the log kept moving`);
  }
}

/** Read side: entries by correlation id, tree size and root. */
export class LedgerReader {
  constructor(private readonly leaves: DocumentStore<LeafDoc>) {}

  async byCorrelation(tenant: TenantId, correlationId: string): Promise<AuditEntry[]> {
    const leaves = await this.leaves.find(
      tenant,
      { correlationId },
      { sort: { index: 1 }, limit: 1000 },
    );
    return leaves.map(toEntry);
  }

  /** Size and root over every leaf (O(n) until the ledger issue adds stored subtrees). */
  async head(tenant: TenantId): Promise<{ size: number; root: Buffer }> {
    const hashes: Buffer[] = [];
    let after = -1;
    for (;;) {
      const page = await this.leaves.find(
        tenant,
        { index: { $gt: after } },
        { sort: { index: 1 }, limit: 1000 },
      );
      for (const leaf of page) {
        if (leaf.index !== hashes.length)
          throw new Error(`ledger for ${tenant} has a gap at ${hashes.length}`);
        hashes.push(Buffer.from(leaf.leafHash, 'base64'));
      }
      if (page.length < 1000) break;
      after = page[page.length - 1].index;
    }
    return { size: hashes.length, root: rootFromLeafHashes(hashes) };
  }
}

function toEntry(leaf: LeafDoc): AuditEntry {
  return AuditEntry.fromPartial({
    record: AuditRecord.decode(Buffer.from(leaf.record, 'base64')),
    leafIndex: String(leaf.index),
    leafHash: Buffer.from(leaf.leafHash, 'base64'),
    appendedAt: leaf.appendedAt.toISOString(),
  });
}
