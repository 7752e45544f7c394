import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type {
  CallContext,
  ChangePage,
  ChangeRecord,
  CompensateRequest,
  ConnectorAdapter,
  ExecuteRequest,
  ExecuteResult,
  FindQuery,
  FindRequest,
  FindResult,
  ReadRequest,
  RecordData,
  WebhookRequest,
} from './adapter';
import { capabilityProblems, type ConnectorCapabilities } from './capabilities';
import { ConnectorError, type ErrorKind } from './errors';
import { FIND_UNSUPPORTED, normalizeFindQuery } from './find';
import { TenantRateLimiter } from './rate-limiter';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry';

export type ConnectorOperation = 'execute' | 'read' | 'find' | 'poll' | 'webhook' | 'compensate';

/** One finished adapter call, for metrics. Carries no record data. */
export interface ConnectorCallEvent {
  readonly connector: string;
  readonly tenantId: string;
  readonly operation: ConnectorOperation;
  readonly outcome: 'ok' | ErrorKind;
  /** Error code when the call failed, e.g. REQUEST_LIMIT_EXCEEDED. */
  readonly code?: string;
  readonly durationMs: number;
  readonly attempts: number;
}

/** Where the SDK reports what it did; the service binds it to Prometheus. */
export interface ConnectorTelemetry {
  call(event: ConnectorCallEvent): void;
  retry(event: {
    connector: string;
    tenantId: string;
    operation: ConnectorOperation;
    code: string;
    delayMs: number;
  }): void;
  throttled(event: { connector: string; tenantId: string; waitMs: number }): void;
}

export const NO_TELEMETRY: ConnectorTelemetry = {
  call: () => undefined,
  retry: () => undefined,
  throttled: () => undefined,
};

export interface ManagedConnectorOptions {
  readonly tenantId: string;
  /** Shared by every tenant of the connector type; per-tenant buckets inside. */
  readonly limiter?: TenantRateLimiter;
  readonly retry?: RetryPolicy;
  readonly telemetry?: ConnectorTelemetry;
  readonly signal?: AbortSignal;
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const tracer = trace.getTracer('@mandate/connector-sdk');

/**
 * An adapter with what every adapter needs and none should rewrite: the tenant's rate limit
 * (honouring Retry-After for all its calls), retries with backoff and jitter for retryable
 * errors only, a span per call (`connector.<operation>`, trace context propagated by the
 * caller's active context), and call/retry/throttle telemetry. Errors come out as
 * `ConnectorError`s of the taxonomy.
 */
export class ManagedConnector {
  readonly capabilities: ConnectorCapabilities;
  readonly tenantId: string;
  private readonly limiter: TenantRateLimiter;
  private readonly retry: RetryPolicy;
  private readonly telemetry: ConnectorTelemetry;

  constructor(
    readonly adapter: ConnectorAdapter,
    private readonly options: ManagedConnectorOptions,
  ) {
    const problems = capabilityProblems(adapter.capabilities);
    if (problems.length)
      throw new Error(
        `connector "${adapter.capabilities?.connector}" declares invalid capabilities: ${problems.join('; ')}`,
      );
    this.capabilities = adapter.capabilities;
    this.tenantId = options.tenantId;
    this.limiter = options.limiter ?? new TenantRateLimiter(adapter.capabilities.rateLimit);
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.telemetry = options.telemetry ?? NO_TELEMETRY;
  }

  get connector(): string {
    return this.capabilities.connector;
  }

  execute(request: ExecuteRequest): Promise<ExecuteResult> {
    return this.call('execute', (ctx) => this.adapter.execute(request, ctx), {
      'mandate.object_type': request.target.objectType,
      'mandate.action_type': request.action.kind?.$case ?? '',
    });
  }

  read(request: ReadRequest): Promise<RecordData | null> {
    return this.call('read', (ctx) => this.adapter.read(request, ctx), {
      'mandate.object_type': request.target.objectType,
    });
  }

  /** True when the adapter implements `find`. */
  get supportsFind(): boolean {
    return typeof this.adapter.find === 'function';
  }

  /**
   * Records of one object type whose fields equal the given values. The query is checked against
   * the capabilities first (a permanent `INVALID_FIND_REQUEST` error, before any CRM call); an
   * adapter without `find` answers a permanent `FIND_UNSUPPORTED` error. Then as `read`: rate
   * limit, retries, span `connector.find`, telemetry.
   */
  find(query: FindQuery): Promise<FindResult> {
    const find = this.adapter.find?.bind(this.adapter);
    if (!find)
      return Promise.reject(
        ConnectorError.permanent(FIND_UNSUPPORTED, `${this.connector} cannot find records`),
      );
    let request: FindRequest;
    try {
      request = normalizeFindQuery(this.capabilities, query);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.call('find', (ctx) => find(request, ctx), {
      'mandate.object_type': request.objectType,
      'mandate.find_conditions': String(Object.keys(request.equals).length),
    });
  }

  compensate(request: CompensateRequest): Promise<ExecuteResult> {
    const compensate = this.adapter.compensate?.bind(this.adapter);
    if (!compensate)
      return Promise.reject(
        ConnectorError.permanent('NOT_REVERSIBLE', `${this.connector} cannot compensate actions`),
      );
    return this.call('compensate', (ctx) => compensate(request, ctx), {
      'mandate.object_type': request.target.objectType,
    });
  }

  pollChanges(cursor: string | undefined, limit: number): Promise<ChangePage> {
    const poll = this.adapter.pollChanges?.bind(this.adapter);
    if (!poll)
      return Promise.reject(
        ConnectorError.permanent('NO_POLLING', `${this.connector} has no polling change feed`),
      );
    return this.call('poll', (ctx) => poll(this.tenantId, cursor, limit, ctx), {});
  }

  /** Webhooks are the CRM calling us: no rate limit, no retry (the CRM retries). */
  async parseWebhook(request: WebhookRequest): Promise<readonly ChangeRecord[]> {
    const parse = this.adapter.parseWebhook?.bind(this.adapter);
    if (!parse)
      throw ConnectorError.permanent('NO_WEBHOOK', `${this.connector} does not accept webhooks`);
    return this.call(
      'webhook',
      (ctx) => parse(request, ctx),
      {},
      { limited: false, retried: false },
    );
  }

  close(): Promise<void> {
    return this.adapter.close?.() ?? Promise.resolve();
  }

  private async call<T>(
    operation: ConnectorOperation,
    fn: (ctx: CallContext) => Promise<T>,
    attributes: Record<string, string>,
    mode: { limited: boolean; retried: boolean } = { limited: true, retried: true },
  ): Promise<T> {
    const started = Date.now();
    let attempts = 0;
    return tracer.startActiveSpan(
      `connector.${operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'mandate.connector': this.connector,
          'mandate.tenant_id': this.tenantId,
          ...attributes,
        },
      },
      async (span) => {
        try {
          const result = await withRetry(
            async (attempt) => {
              attempts = attempt;
              if (mode.limited) await this.throttle();
              try {
                return await fn({ attempt, signal: this.options.signal });
              } catch (err) {
                if (err instanceof ConnectorError && err.retryAfterMs !== undefined)
                  this.limiter.pause(this.tenantId, err.retryAfterMs);
                throw err;
              }
            },
            mode.retried ? this.retry : { ...this.retry, maxAttempts: 1 },
            {
              signal: this.options.signal,
              random: this.options.random,
              sleep: this.options.sleep,
              onRetry: (err, _attempt, delayMs) => {
                span.addEvent('retry', { code: err.code, delayMs });
                this.telemetry.retry({
                  connector: this.connector,
                  tenantId: this.tenantId,
                  operation,
                  code: err.code,
                  delayMs,
                });
              },
            },
          );
          this.report(operation, 'ok', started, attempts);
          span.setStatus({ code: SpanStatusCode.OK });
          return result;
        } catch (err) {
          const e = err as ConnectorError;
          this.report(operation, e.kind, started, attempts, e.code);
          span.setAttribute('mandate.error_kind', e.kind);
          span.setAttribute('mandate.error_code', e.code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: e.code });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }

  private async throttle(): Promise<void> {
    const wait = this.limiter.delayFor(this.tenantId);
    if (wait > 0)
      this.telemetry.throttled({
        connector: this.connector,
        tenantId: this.tenantId,
        waitMs: wait,
      });
    await this.limiter.acquire(this.tenantId, this.options.signal);
  }

  private report(
    operation: ConnectorOperation,
    outcome: 'ok' | ErrorKind,
    started: number,
    attempts: number,
    code?: string,
  ): void {
    this.telemetry.call({
      connector: this.connector,
      tenantId: this.tenantId,
      operation,
      outcome,
      code,
      durationMs: Date.now() - started,
      attempts,
    });
  }
}
