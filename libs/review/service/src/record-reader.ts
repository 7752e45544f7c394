import { DataClassification } from '@mandate/contracts';
import { ConnectorRecordsClient } from '@mandate/platform';

/** A CRM record as the review console shows it, with each field's data classification. */
export interface ReviewedRecord {
  readonly fields: Readonly<Record<string, unknown>>;
  /** Field → classification from the connector's capabilities; a field missing here is unclassified. */
  readonly classification: Readonly<Record<string, DataClassification>>;
}

/** Reads the task's target record through crm-connectors. */
export interface RecordReaderPort {
  read(tenant: string, objectType: string, recordId: string): Promise<ReviewedRecord | undefined>;
}

export const MASK = '•••';

/** Roles that may see personal and sensitive fields in the console. */
export const PERSONAL_DATA_ROLES: readonly string[] = ['supervisor', 'admin'];

const SHOWN = new Set<DataClassification>([
  DataClassification.DATA_CLASSIFICATION_PUBLIC,
  DataClassification.DATA_CLASSIFICATION_INTERNAL,
  DataClassification.DATA_CLASSIFICATION_CONFIDENTIAL,
]);

/**
 * The record's fields for a principal's roles: personal, sensitive and unclassified fields (fail
 * closed: a field the connector does not classify counts as sensitive) are replaced by "•••"
 * unless the principal is a supervisor or an admin.
 */
export function redactRecord(
  record: ReviewedRecord,
  roles: readonly string[],
): Record<string, unknown> {
  if (roles.some((r) => PERSONAL_DATA_ROLES.includes(r))) return { ...record.fields };
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record.fields)) {
    const c = record.classification[name];
    out[name] =
      c !== undefined && SHOWN.has(c) ? value : value === null || value === '' ? value : MASK;
  }
  return out;
}

export interface ConnectorRecordReaderOptions {
  /** host:port of crm-connectors' gRPC server (a promise when it is known only later). */
  readonly address: string | Promise<string>;
  /** Per-call deadline (default 2 s). */
  readonly deadlineMs?: number;
  /** How long a tenant's capabilities are cached (default 60 s). */
  readonly capabilitiesTtlMs?: number;
}

/**
 * `RecordReaderPort` over crm-connectors' gRPC `ConnectorService` (`GetCapabilities` for the
 * field classifications, `GetRecord` for the values): the same in the embedded process (its own
 * port) and in the distributed one (`CONNECTOR_GRPC_ADDRESS`).
 */
export class ConnectorRecordReader implements RecordReaderPort {
  private client?: Promise<ConnectorRecordsClient>;
  private readonly caps = new Map<
    string,
    { at: number; byObject: Map<string, Record<string, DataClassification>> }
  >();

  constructor(private readonly o: ConnectorRecordReaderOptions) {}

  async read(
    tenant: string,
    objectType: string,
    recordId: string,
  ): Promise<ReviewedRecord | undefined> {
    const client = await this.connect();
    const [classification, fields] = await Promise.all([
      this.classification(client, tenant, objectType),
      client.getRecord(tenant, objectType, recordId),
    ]);
    return fields ? { fields, classification } : undefined;
  }

  close(): void {
    void this.client?.then((c) => c.close());
  }

  private connect(): Promise<ConnectorRecordsClient> {
    this.client ??= Promise.resolve(this.o.address).then(
      (address) => new ConnectorRecordsClient({ address, deadlineMs: this.o.deadlineMs }),
    );
    return this.client;
  }

  private async classification(
    client: ConnectorRecordsClient,
    tenant: string,
    objectType: string,
  ): Promise<Record<string, DataClassification>> {
    const ttl = this.o.capabilitiesTtlMs ?? 60_000;
    let cached = this.caps.get(tenant);
    if (!cached || Date.now() - cached.at > ttl) {
      const caps = await client.getCapabilities(tenant);
      cached = {
        at: Date.now(),
        byObject: new Map(
          caps.objects.map((o) => [
            o.objectType,
            Object.fromEntries(o.fields.map((f) => [f.name, f.classification])),
          ]),
        ),
      };
      this.caps.set(tenant, cached);
    }
    return cached.byObject.get(objectType) ?? {};
  }
}
