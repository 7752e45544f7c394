import { status } from '@grpc/grpc-js';
import { classifiedSchemaFromCapabilities, type ClassifiedSchema } from '@mandate/data-governance';
import type { ContextRecord, CrmContextSource, FindOptions } from '@mandate/orchestrator-agents';
import { ConnectorCallError, ConnectorRecordsClient } from '@mandate/platform';

export interface ConnectorContextSourceOptions {
  /** host:port of the crm-connectors gRPC server, or a promise of it (embedded: known after start). */
  readonly address: string | Promise<string>;
  /** Per-call deadline; default 5 s. */
  readonly deadlineMs?: number;
  /** How long a tenant's capabilities are reused; default 60 s. */
  readonly schemaTtlMs?: number;
}

/**
 * The agents' CRM context through crm-connectors' gRPC `ConnectorService` (`ConnectorRecordsClient`):
 * capabilities (field classifications, cached), `GetRecord` and `FindRecords`. Used by the
 * distributed orchestrator and by the embedded process alike (the latter against its own gRPC
 * port). A connector that cannot search (UNIMPLEMENTED) gives the agents no related records; any
 * other failure throws a `ConnectorCallError` and the message is retried.
 */
export class ConnectorContextSource implements CrmContextSource {
  private client?: Promise<ConnectorRecordsClient>;
  private readonly schemaTtlMs: number;
  private readonly schemas = new Map<string, { at: number; schema: ClassifiedSchema }>();

  constructor(private readonly o: ConnectorContextSourceOptions) {
    this.schemaTtlMs = o.schemaTtlMs ?? 60_000;
  }

  private connect(): Promise<ConnectorRecordsClient> {
    this.client ??= Promise.resolve(this.o.address).then(
      (address) => new ConnectorRecordsClient({ address, deadlineMs: this.o.deadlineMs ?? 5_000 }),
    );
    return this.client;
  }

  async schema(tenantId: string): Promise<ClassifiedSchema> {
    const cached = this.schemas.get(tenantId);
    if (cached && Date.now() - cached.at < this.schemaTtlMs) return cached.schema;
    const schema = classifiedSchemaFromCapabilities(
      await (await this.connect()).getCapabilities(tenantId),
    );
    this.schemas.set(tenantId, { at: Date.now(), schema });
    return schema;
  }

  async get(tenantId: string, objectType: string, id: string): Promise<ContextRecord | undefined> {
    const fields = await (await this.connect()).getRecord(tenantId, objectType, id);
    return fields ? { objectType, id, fields: fields as ContextRecord['fields'] } : undefined;
  }

  async find(
    tenantId: string,
    objectType: string,
    equals: Readonly<Record<string, string>>,
    options: FindOptions = {},
  ): Promise<ContextRecord[]> {
    try {
      const { records } = await (
        await this.connect()
      ).findRecords(tenantId, { objectType, equals, ...options, limit: options.limit ?? 50 });
      return records.map((r) => ({
        objectType,
        id: r.recordId,
        fields: r.fields as ContextRecord['fields'],
      }));
    } catch (err) {
      // The tenant's adapter cannot search: the agent gets no related records.
      if (err instanceof ConnectorCallError && err.code === status.UNIMPLEMENTED) return [];
      throw err;
    }
  }

  close(): void {
    void this.client?.then((c) => c.close());
  }
}
