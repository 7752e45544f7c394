import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ConnectorServiceClient, type GetRecordResponse } from '@mandate/contracts';
import type { RecordReader } from '@mandate/policy-domain';
import { traceContextClientInterceptor } from '@mandate/platform';

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
  private readonly client: ConnectorServiceClient;
  private readonly deadlineMs: number;

  constructor(o: ConnectorRecordReaderOptions) {
    this.client = new ConnectorServiceClient(o.address, credentials.createInsecure(), {
      interceptors: [traceContextClientInterceptor],
    });
    this.deadlineMs = o.deadlineMs ?? 2_000;
  }

  read(
    tenantId: string,
    objectType: string,
    recordId: string,
  ): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve, reject) => {
      this.client.getRecord(
        // Every field the connector declares for the object: the facts Cedar can see are filtered
        // by the bundle's schema when the entity is built.
        { tenantId, record: { objectType, recordId }, fields: [] },
        new Metadata(),
        { deadline: new Date(Date.now() + this.deadlineMs) },
        (err: ServiceError | null, res?: GetRecordResponse) => {
          if (err)
            return reject(
              new Error(`GetRecord failed: ${status[err.code] ?? err.code} ${err.details ?? ''}`),
            );
          resolve(res?.found ? (res.fields ?? {}) : undefined);
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
