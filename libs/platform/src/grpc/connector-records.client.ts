import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  ConnectorServiceClient,
  type FindRecordsResponse,
  type GetCapabilitiesResponse,
  type GetRecordResponse,
} from '@mandate/contracts';
import { traceContextClientInterceptor } from './grpc-server';

export interface ConnectorRecordsClientOptions {
  /** host:port of the crm-connectors gRPC server. */
  readonly address: string;
  /** Per-call deadline (default 2 s): a slow CRM must not hold the caller for long. */
  readonly deadlineMs?: number;
}

/** A FindRecords query; see `FindRecordsRequest` in proto/mandate/v1/connector_service.proto. */
export interface FindRecordsQuery {
  /** Canonical object type: "activity", "contact", "user", ... */
  readonly objectType: string;
  /** Canonical field → value; all must hold (exact string equality). At most 4. */
  readonly equals?: Readonly<Record<string, string>>;
  /** Canonical fields to return; absent or empty: every declared field. */
  readonly fields?: readonly string[];
  readonly orderBy?: string;
  readonly descending?: boolean;
  /** 1..200; absent: 50. */
  readonly limit?: number;
}

export interface FoundRecordFields {
  readonly recordId: string;
  /** The requested fields the record has a value for (scalars). */
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface FindRecordsResult {
  readonly records: readonly FoundRecordFields[];
  /** More records may match than were returned. */
  readonly truncated: boolean;
}

/**
 * A ConnectorService call that failed. `code` is the gRPC status: INVALID_ARGUMENT (a bad query:
 * undeclared field, too many conditions, bad limit), UNIMPLEMENTED (the tenant's connector cannot
 * search), NOT_FOUND (the tenant has no connector), UNAVAILABLE (the CRM or the service is down,
 * try later), DEADLINE_EXCEEDED, FAILED_PRECONDITION (the CRM refused: credentials, ...).
 */
export class ConnectorCallError extends Error {
  override readonly name = 'ConnectorCallError';

  constructor(
    readonly method: string,
    readonly code: status,
    readonly details: string,
  ) {
    super(`${method} failed: ${status[code] ?? code} ${details}`.trim());
  }
}

/**
 * Typed client of crm-connectors' `ConnectorService` for other services (distributed mode): the
 * tenant's capabilities, one record (`GetRecord`), and records by field values (`FindRecords`),
 * with the caller's trace context and a deadline on every call.
 *
 * ```ts
 * const connectors = new ConnectorRecordsClient({ address: 'crm-connectors:50055' });
 * const { records } = await connectors.findRecords('acme', {
 *   objectType: 'activity',
 *   equals: { relatedId: 'opp-0001' },
 *   orderBy: 'occurredAt',
 *   descending: true,
 *   limit: 5,
 * });
 * ```
 */
export class ConnectorRecordsClient {
  private readonly client: ConnectorServiceClient;
  private readonly deadlineMs: number;

  constructor(o: ConnectorRecordsClientOptions) {
    this.client = new ConnectorServiceClient(o.address, credentials.createInsecure(), {
      interceptors: [traceContextClientInterceptor],
    });
    this.deadlineMs = o.deadlineMs ?? 2_000;
  }

  getCapabilities(tenantId: string): Promise<GetCapabilitiesResponse> {
    return this.unary('GetCapabilities', (md, opts, cb) =>
      this.client.getCapabilities({ tenantId }, md, opts, cb),
    );
  }

  /** The record's fields (only `fields`; empty: every declared one), or undefined when it does not exist. */
  async getRecord(
    tenantId: string,
    objectType: string,
    recordId: string,
    fields: readonly string[] = [],
  ): Promise<Record<string, unknown> | undefined> {
    const res = await this.unary<GetRecordResponse>('GetRecord', (md, opts, cb) =>
      this.client.getRecord(
        { tenantId, record: { objectType, recordId }, fields: [...fields] },
        md,
        opts,
        cb,
      ),
    );
    return res.found ? (res.fields ?? {}) : undefined;
  }

  /** Records of one object type whose fields equal the given values, in the requested order. */
  async findRecords(tenantId: string, query: FindRecordsQuery): Promise<FindRecordsResult> {
    const res = await this.unary<FindRecordsResponse>('FindRecords', (md, opts, cb) =>
      this.client.findRecords(
        {
          tenantId,
          objectType: query.objectType,
          equals: { ...(query.equals ?? {}) },
          fields: [...(query.fields ?? [])],
          orderBy: query.orderBy ?? '',
          descending: query.descending ?? false,
          limit: query.limit ?? 0,
        },
        md,
        opts,
        cb,
      ),
    );
    return {
      records: res.records.map((r) => ({ recordId: r.recordId, fields: r.fields ?? {} })),
      truncated: res.truncated,
    };
  }

  close(): void {
    this.client.close();
  }

  private unary<T>(
    method: string,
    send: (
      metadata: Metadata,
      options: { deadline: Date },
      callback: (err: ServiceError | null, res?: T) => void,
    ) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      send(new Metadata(), { deadline: new Date(Date.now() + this.deadlineMs) }, (err, res) => {
        if (err) reject(new ConnectorCallError(method, err.code, err.details ?? ''));
        else if (res === undefined)
          reject(new ConnectorCallError(method, status.INTERNAL, 'no response'));
        else resolve(res);
      }),
    );
  }
}
