import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  ConnectorServiceClient,
  type FindRecordsResponse,
  type GetCapabilitiesResponse,
  type GetRecordResponse,
} from '@mandate/contracts';
import { classifiedSchemaFromCapabilities, type ClassifiedSchema } from '@mandate/data-governance';
import type { ContextRecord, CrmContextSource, FindOptions } from '@mandate/orchestrator-agents';
import { traceContextClientInterceptor } from '@mandate/platform';

export interface ConnectorContextSourceOptions {
  /** host:port of the crm-connectors gRPC server, or a promise of it (embedded: known after start). */
  readonly address: string | Promise<string>;
  /** Per-call deadline. */
  readonly deadlineMs?: number;
  /** How long a tenant's capabilities are reused; default 60 s. */
  readonly schemaTtlMs?: number;
}

/** A context read failed (unreachable connector, deadline, CRM error): the step is retried. */
export class ContextUnavailableError extends Error {
  override readonly name = 'ContextUnavailableError';
  constructor(
    message: string,
    /** The gRPC status code. */
    readonly code: status,
  ) {
    super(message);
  }
}

/**
 * The agents' CRM context through crm-connectors' gRPC `ConnectorService`: capabilities (field
 * classifications), `GetRecord` and `FindRecords`. Used by the distributed orchestrator and by
 * the embedded process alike (the latter against its own gRPC port).
 */
export class ConnectorContextSource implements CrmContextSource {
  private client?: ConnectorServiceClient;
  private readonly deadlineMs: number;
  private readonly schemaTtlMs: number;
  private readonly schemas = new Map<string, { at: number; schema: ClassifiedSchema }>();

  constructor(private readonly o: ConnectorContextSourceOptions) {
    this.deadlineMs = o.deadlineMs ?? 5_000;
    this.schemaTtlMs = o.schemaTtlMs ?? 60_000;
  }

  private async connect(): Promise<ConnectorServiceClient> {
    if (!this.client)
      this.client = new ConnectorServiceClient(await this.o.address, credentials.createInsecure(), {
        interceptors: [traceContextClientInterceptor],
      });
    return this.client;
  }

  private async call<Req, Res>(
    method: 'getCapabilities' | 'getRecord' | 'findRecords',
    req: Req,
  ): Promise<Res> {
    const client = await this.connect();
    return new Promise<Res>((resolve, reject) => {
      const fn = client[method].bind(client) as unknown as (
        r: Req,
        m: Metadata,
        o: { deadline: Date },
        cb: (err: ServiceError | null, res?: Res) => void,
      ) => void;
      fn(req, new Metadata(), { deadline: new Date(Date.now() + this.deadlineMs) }, (err, res) =>
        err
          ? reject(
              new ContextUnavailableError(
                `${method} failed: ${status[err.code] ?? err.code} ${err.details ?? ''}`,
                err.code,
              ),
            )
          : resolve(res as Res),
      );
    });
  }

  async schema(tenantId: string): Promise<ClassifiedSchema> {
    const cached = this.schemas.get(tenantId);
    if (cached && Date.now() - cached.at < this.schemaTtlMs) return cached.schema;
    const res = await this.call<{ tenantId: string }, GetCapabilitiesResponse>('getCapabilities', {
      tenantId,
    });
    const schema = classifiedSchemaFromCapabilities(res);
    this.schemas.set(tenantId, { at: Date.now(), schema });
    return schema;
  }

  async get(tenantId: string, objectType: string, id: string): Promise<ContextRecord | undefined> {
    const res = await this.call<object, GetRecordResponse>('getRecord', {
      tenantId,
      record: { objectType, recordId: id },
      fields: [],
    });
    return res.found ? { objectType, id, fields: res.fields ?? {} } : undefined;
  }

  async find(
    tenantId: string,
    objectType: string,
    equals: Readonly<Record<string, string>>,
    options: FindOptions = {},
  ): Promise<ContextRecord[]> {
    let res: FindRecordsResponse;
    try {
      res = await this.call<object, FindRecordsResponse>('findRecords', {
        tenantId,
        objectType,
        equals: { ...equals },
        fields: [],
        orderBy: options.orderBy ?? '',
        descending: options.descending ?? false,
        limit: options.limit ?? 50,
      });
    } catch (err) {
      // The tenant's adapter cannot search (no `find`): the agent gets no related records.
      if (err instanceof ContextUnavailableError && err.code === status.UNIMPLEMENTED) return [];
      throw err;
    }
    return res.records.map((r) => ({ objectType, id: r.recordId, fields: r.fields ?? {} }));
  }

  close(): void {
    this.client?.close();
  }
}
