import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ConnectorServiceClient, GetRecordResponse } from '@mandate/contracts';
import type { RecordReader } from '@mandate/policy-domain';
import { traceContextClientInterceptor } from '@mandate/platform';

/**
 * Reads records through crm-connectors' gRPC `GetRecord`. The deadline is short: a slow CRM must
 * not stall the decision flow; an unanswered read means no facts, which means DENY.
 */
export class ConnectorRecordReader implements RecordReader {
  private readonly client: ConnectorServiceClient;

  constructor(
    address: string,
    private readonly deadlineMs = 1500,
  ) {
    this.client = new ConnectorServiceClient(address, credentials.createInsecure(), {
      interceptors: [traceContextClientInterceptor],
    });
  }

  read(
    tenantId: string,
    objectType: string,
    recordId: string,
  ): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve, reject) => {
      this.client.getRecord(
        { tenantId, record: { objectType, recordId } },
        new Metadata(),
        { deadline: Date.now() + this.deadlineMs },
        (err: ServiceError | null, res?: GetRecordResponse) => {
          if (err) reject(err);
          else resolve(res?.found ? (res.fields ?? {}) : undefined);
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
