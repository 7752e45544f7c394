import { AuditEntry } from '@mandate/contracts';
import { defineCollection, type DocumentStore, type TenantId } from '@mandate/storage';
import type { LedgerReader } from './ledger-reader';
import type { CheckpointDoc } from './ledger-writer';

/** How far a tenant's entries have been published to the audit topic. */
export interface PublicationDoc {
  id: 'cursor';
  publishedUpTo: number;
}

export const LEDGER_PUBLICATION = defineCollection<PublicationDoc>({
  name: 'ledger_publication',
  indexes: [],
});

/** Publishes entries (each carrying the checkpoint that covers it) for downstream analytics. */
export type PublishEntries = (tenant: TenantId, entries: AuditEntry[]) => Promise<void>;

/**
 * Publishes every entry once a checkpoint covers it, with that checkpoint attached, in leaf
 * order. At-least-once: the cursor advances after a page is published, so a crash republishes
 * the page with the same event ids (`<tenant>:<leaf index>`) and consumers deduplicate.
 */
export class LedgerPublisher {
  constructor(
    private readonly reader: LedgerReader,
    private readonly cursors: DocumentStore<PublicationDoc>,
    private readonly publish: PublishEntries,
    private readonly pageSize = 1000,
  ) {}

  /** Publishes entries up to `checkpoint.size`; returns how many were published. */
  async publishUpTo(tenant: TenantId, checkpoint: CheckpointDoc): Promise<number> {
    const cursor = await this.cursors.get(tenant, 'cursor');
    let from = cursor?.publishedUpTo ?? 0;
    const cp = this.reader.toCheckpoint(tenant, checkpoint);
    let published = 0;
    while (from < checkpoint.size) {
      const page = await this.reader.entries(
        tenant,
        from,
        Math.min(this.pageSize, checkpoint.size - from),
      );
      if (!page.length) throw new Error(`ledger ${tenant}: no entries at ${from} to publish`);
      await this.publish(
        tenant,
        page.map((e) => ({ ...e, checkpoint: cp })),
      );
      from += page.length;
      published += page.length;
      await this.cursors.upsert(tenant, { id: 'cursor', publishedUpTo: from });
    }
    return published;
  }
}
