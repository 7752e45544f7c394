import type { RecordReader } from '@mandate/policy-domain';
import { ConnectorRecordsClient } from '@mandate/platform';

export interface ConnectorRecordReaderOptions {
  /** host:port of the crm-connectors gRPC server. */
  address: string;
  /** Per-call deadline; a slow CRM read must not hold a decision for long (it then denies). */
  deadlineMs?: number;
}

/**
 * Reads a record's current fields from the CRM through `ConnectorService.GetRecord` — the facts
 * policy decides on. Any failure (unreachable, deadline, error status) throws, and `readFacts`
 * turns that into FACTS_UNAVAILABLE: the decision is DENY, never a guess.
 */
export class ConnectorRecordReader implements RecordReader {
  private readonly client: ConnectorRecordsClient;

  constructor(o: ConnectorRecordReaderOptions) {
    this.client = new ConnectorRecordsClient({ address: o.address, deadlineMs: o.deadlineMs });
  }

  /**
   * Every field the connector declares for the object: the facts Cedar can see are filtered by
   * the bundle's schema when the entity is built.
   */
  read(
    tenantId: string,
    objectType: string,
    recordId: string,
  ): Promise<Record<string, unknown> | undefined> {
    return this.client.getRecord(tenantId, objectType, recordId);
  }

  close(): void {
    this.client.close();
  }
}
