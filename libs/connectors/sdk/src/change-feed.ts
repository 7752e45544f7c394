import { createHash } from 'node:crypto';
import { ChangeType, CrmChangeEvent } from '@mandate/contracts';
import type { ChangeKind, ChangeRecord } from './adapter';
import type { ManagedConnector } from './managed-connector';

const CHANGE_TYPES: Record<ChangeKind, ChangeType> = {
  created: ChangeType.CHANGE_TYPE_CREATED,
  updated: ChangeType.CHANGE_TYPE_UPDATED,
  deleted: ChangeType.CHANGE_TYPE_DELETED,
};

/**
 * A change as the CrmChangeEvent the rest of Mandate consumes. The event id is derived from the
 * tenant, connector and the change's source id, so reading the same change twice (a page re-read
 * after a crash, a webhook the CRM retried) yields the same event and is deduplicated downstream.
 */
export function toCrmChangeEvent(
  tenantId: string,
  connector: string,
  change: ChangeRecord,
  cursor = '',
): CrmChangeEvent {
  const eventId = createHash('sha256')
    .update(`${tenantId}\u0000${connector}\u0000${change.sourceId}`)
    .digest('hex')
    .slice(0, 32);
  return CrmChangeEvent.fromPartial({
    eventId,
    tenantId,
    correlationId: eventId,
    sourceSystem: connector,
    objectType: change.target.objectType,
    recordId: change.target.recordId,
    changeType: CHANGE_TYPES[change.change],
    changedFields: [...change.changedFields],
    snapshot: { ...change.snapshot },
    occurredAt: change.occurredAt.toISOString(),
    cursor,
  });
}

/** Where a tenant's change-feed position is kept between polls and across restarts. */
export interface CursorStore {
  load(tenantId: string, connector: string): Promise<string | undefined>;
  save(tenantId: string, connector: string, cursor: string): Promise<void>;
}

/** Receives the events of one page, in order; must be durable (e.g. an outbox write) before it returns. */
export type ChangeSink = (events: readonly CrmChangeEvent[]) => Promise<void>;

export interface PollResult {
  readonly events: number;
  readonly hasMore: boolean;
}

/**
 * Drives a polling change feed: read a page after the stored cursor, hand its events to the sink,
 * and only then store the new cursor. A crash between the two re-reads the page on restart; the
 * events' ids are stable, so downstream deduplication makes that harmless (at-least-once, in
 * order, nothing skipped).
 */
export class ChangeFeedPoller {
  constructor(
    private readonly connector: ManagedConnector,
    private readonly cursors: CursorStore,
    private readonly sink: ChangeSink,
    private readonly pageSize = 200,
  ) {}

  async pollOnce(): Promise<PollResult> {
    const tenant = this.connector.tenantId;
    const name = this.connector.connector;
    const cursor = await this.cursors.load(tenant, name);
    const page = await this.connector.pollChanges(cursor, this.pageSize);
    if (page.changes.length > 0)
      await this.sink(page.changes.map((c) => toCrmChangeEvent(tenant, name, c, page.nextCursor)));
    if (page.nextCursor !== cursor) await this.cursors.save(tenant, name, page.nextCursor);
    return { events: page.changes.length, hasMore: page.hasMore };
  }

  /** Polls until the feed has nothing more right now (bounded by `maxPages`). */
  async drain(maxPages = 50): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxPages; i++) {
      const r = await this.pollOnce();
      total += r.events;
      if (!r.hasMore) break;
    }
    return total;
  }
}
