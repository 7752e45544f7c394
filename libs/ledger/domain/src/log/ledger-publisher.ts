import { AuditEntry } from '@mandate/contracts';
import { defineCollection, type DocumentStore, type TenantId } from '@mandate/storage';
import { toEntry, type LedgerReader } from './ledger-reader';
import type { CheckpointDoc, LeafDoc } from './ledger-writer';

/** The writer's in-memory copy of what it just appended (saves reading it back). */
export interface RecentLeaves {
  recentLeaves(tenant: TenantId, from: number, to: number): LeafDoc[] | undefined;
  release(tenant: TenantId, index: number): void;
}

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
    private readonly memory?: RecentLeaves,
  ) {}

  /** Publishes entries up to `checkpoint.size`; returns how many were published. */
  async publishUpTo(tenant: TenantId, checkpoint: CheckpointDoc): Promise<number> {
    const cursor = await this.cursors.get(tenant, 'cursor');
    let from = cursor?.publishedUpTo ?? 0;
    const cp = this.reader.toCheckpoint(tenant, checkpoint);
    let published = 0;
    while (from < checkpoint.size) {
      const to = Math.min(from + this.pageSize, checkpoint.size);
      const inMemory = this.memory?.recentLeaves(tenant, from, to);
      const page = inMemory
        ? inMemory.map(toEntry)
        : await this.reader.entries(tenant, from, to - from);
      if (!page.length) throw new Error(`ledger ${tenant}: no entries at ${from} to publish`);
      await this.publish(
        tenant,
        page.map((e) => ({ ...e, checkpoint: cp })),
      );
      from += page.length;
      published += page.length;
      await this.cursors.upsert(tenant, { id: 'cursor', publishedUpTo: from });
      this.memory?.release(tenant, from);
    }
    return published;
  }
}
