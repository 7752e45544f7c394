import { AsyncLocalStorage } from 'node:async_hooks';
import { ConnectorError, networkErrorCode } from '@mandate/connector-sdk';
import {
  Connection,
  type HttpRequest,
  type HttpRequestOptions,
  type HttpResponse,
  type Record as SfRecord,
  type Schema,
  type TokenResponse,
} from 'jsforce';
import type { SessionRefreshFunc } from 'jsforce/lib/session-refresh-delegate';
import { Transport } from 'jsforce/lib/transport';
// Declared as re-exported by 'jsforce' in its d.ts, but the package's main (index.js) exports only
// the default jsforce object: import it from where it lives.
import { StreamPromise } from 'jsforce/lib/util/promise';
import {
  classifySalesforceError,
  classifyTokenFailure,
  parseSalesforceErrors,
} from './salesforce-errors';

export interface SalesforceClientOptions {
  readonly loginUrl: string;
  readonly instanceUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  readonly accessToken?: string;
  readonly apiVersion: string;
  readonly requestTimeoutMs: number;
  readonly rateLimitRetryAfterMs: number;
  readonly onRefreshTokenRotated?: (refreshToken: string) => void | Promise<void>;
}

export interface SalesforceResponse<T> {
  readonly status: number;
  /** Header names lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: T;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * What one client call (one adapter operation) has seen of the HTTP exchanges jsforce made for
 * it: kept in an AsyncLocalStorage so the connection-wide transport can tell calls apart.
 */
interface CallState {
  readonly operation: string;
  /** The instance URL jsforce resolved this call's relative URLs against. */
  readonly origin: string;
  /** The first 2xx answer (its Date header is the org's clock when the call was served). */
  firstOk?: HttpResponse;
  /** The last answer (an error's status and Retry-After come from it). */
  last?: HttpResponse;
  /** The session generation of the request this call first got 401 INVALID_SESSION_ID for. */
  expiredAt?: number;
}

/** Prepares one HTTP request of a call; `check` inspects its answer and may throw. */
type Guard = (req: HttpRequest) => { request: HttpRequest; check(res: HttpResponse): void };

/**
 * jsforce's fetch layer (request.js) retries GET/PUT/DELETE up to 5 times on 420/429/5xx and
 * network errors, and follows redirects re-sending the Authorization header. Both are off: the
 * SDK's ManagedConnector owns retries (honouring Retry-After), and a redirect is an error here.
 * `methods: []` matters most: it is checked first, and it also stops the 420 retries that
 * ignore `maxRetries`.
 */
const TRANSPORT_OPTIONS: HttpRequestOptions = {
  retry: { maxRetries: 0, methods: [], statusCodes: [], errorCodes: [] },
  followRedirect: false,
};

/** 401 answers that are not an expired session (jsforce's HttpApi.isSessionExpired skips them too). */
const NOT_A_SESSION_EXPIRY = [
  'Connected app is not attached to Agent',
  'This session is not valid for use with the REST API',
];

/** The message SessionRefreshDelegate wraps a failed refresh in (it drops the original error). */
const REFRESH_FAILED_PREFIX = 'Unable to refresh session due to: ';

/**
 * jsforce's node-fetch transport with the connector's rules: no retries, no redirects, the
 * request timeout (jsforce's `timeout` aborts the fetch until headers; the timer here also bounds
 * the body), network failures as retryable ConnectorErrors, and a `guard` that sees every request
 * and answer of the connection.
 */
class GuardedTransport extends Transport {
  constructor(
    private readonly timeoutMs: number,
    private readonly guard: Guard,
  ) {
    super();
  }

  override httpRequest(
    req: HttpRequest,
    options: HttpRequestOptions = {},
  ): StreamPromise<HttpResponse> {
    const { request, check } = this.guard(req);
    return StreamPromise.create(() => {
      const inner = super.httpRequest(request, {
        ...options,
        ...TRANSPORT_OPTIONS,
        timeout: this.timeoutMs,
      });
      return { stream: inner.stream(), promise: this.settle(inner, check) };
    });
  }

  private async settle(
    inner: Promise<HttpResponse>,
    check: (res: HttpResponse) => void,
  ): Promise<HttpResponse> {
    const operation = calls.getStore()?.operation ?? 'request';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(ConnectorError.retryable('TIMEOUT', `Salesforce ${operation} timed out`)),
        this.timeoutMs,
      );
    });
    let res: HttpResponse;
    try {
      res = await Promise.race([inner, timeout]);
    } catch (err) {
      throw transportFailure(err, operation);
    } finally {
      clearTimeout(timer);
    }
    check(res);
    return res;
  }
}

/** The call each HTTP exchange belongs to (jsforce keeps the async context across its awaits). */
const calls = new AsyncLocalStorage<CallState>();

/**
 * The one way this adapter talks to the org: a jsforce `Connection` (OAuth 2.0 refresh-token
 * session of the integration user) used through `conn.request`, `conn.sobject().retrieve` and
 * `conn.query`.
 *
 * Sessions are jsforce's: a request answered 401 INVALID_SESSION_ID goes to the connection's
 * SessionRefreshDelegate, which runs one refresh (shared by every call that hits the expired
 * session meanwhile; a call whose 401 predates a finished refresh just replays), emits `refresh`
 * with the new access token and replays the request. The refresh function is ours
 * (`ConnectionConfig.refreshFn`, calling `conn.oauth2.refreshToken`) so that a rotated refresh
 * token is kept and persisted through `onRefreshTokenRotated` before the new session is used,
 * `instance_url` is followed only to https, and a refused grant keeps its OAuth error
 * (`invalid_grant` → auth-expired) instead of jsforce's plain "Unable to refresh session".
 *
 * Where this deliberately differs from jsforce's defaults (through the connection's transport,
 * see GuardedTransport): no transport-level retries and no redirects; a replay answered 401
 * again after a successful refresh is auth-expired (jsforce would refresh again, forever); every
 * failure leaves as a ConnectorError classified from Salesforce's errorCode (jsforce's
 * HttpApiError `errorCode`/`data`) plus the HTTP status and Retry-After, which jsforce's errors
 * do not carry and the transport records per call. Messages carry no record value and no token.
 */
export class SalesforceClient {
  private readonly conn: Connection;
  /** Incremented by every successful refresh (the connection's `refresh` event). */
  private generation = 0;
  /** The classified failure of the last refresh, for the caller jsforce hands a wrapped Error. */
  private refreshFailure: ConnectorError | undefined;

  constructor(private readonly options: SalesforceClientOptions) {
    this.conn = new Connection({
      oauth2: {
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        loginUrl: options.loginUrl,
      },
      instanceUrl: options.instanceUrl.replace(/\/+$/, ''),
      accessToken: options.accessToken,
      refreshToken: options.refreshToken,
      version: options.apiVersion,
      refreshFn: this.refreshSession,
    });
    this.conn._transport = new GuardedTransport(options.requestTimeoutMs, this.dataGuard);
    this.conn.oauth2._transport = new GuardedTransport(options.requestTimeoutMs, tokenGuard);
    this.conn.on('refresh', () => {
      this.generation++;
    });
  }

  /** `/services/data/vXX.X`, the prefix of composite subrequest URLs. */
  get apiPath(): string {
    return `/services/data/v${this.options.apiVersion}`;
  }

  /** Daily API usage from the last `Sforce-Limit-Info` header (jsforce's `limitInfo`), when seen. */
  get apiUsage(): { used: number; limit: number } | undefined {
    return this.conn.limitInfo.apiUsage;
  }

  /**
   * One REST call through `conn.request`. `path` is relative to the API version root
   * (`/sobjects/Lead/00Q...`) or absolute from the host (`/services/...`). Throws a
   * ConnectorError.
   */
  request<T>(
    method: HttpMethod,
    path: string,
    operation: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<SalesforceResponse<T>> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return this.call(operation, init.signal, () =>
      this.conn.request<T>({
        method,
        url: path,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      }),
    );
  }

  /**
   * `GET /sobjects/{sobject}/{id}?fields=...` through `conn.sobject(sobject).retrieve`. `fields`
   * must be API names (they go into the URL as they are).
   */
  retrieve(
    sobject: string,
    id: string,
    fields: readonly string[],
    signal?: AbortSignal,
  ): Promise<SalesforceResponse<SfRecord>> {
    return this.call(`GET ${sobject}`, signal, () =>
      this.conn.sobject(sobject).retrieve(id, { fields: [...fields] }),
    );
  }

  /**
   * A SOQL query through `conn.query`: `GET /query?q=`, then the `nextRecordsUrl` batches until
   * `maxRecords` rows or the end. `headers` are those of the first batch.
   */
  query<R extends SfRecord>(
    soql: string,
    maxRecords: number,
    operation: string,
    signal?: AbortSignal,
  ): Promise<SalesforceResponse<{ records: R[] }>> {
    return this.call(operation, signal, async () => {
      const result = await this.conn.query<R>(soql, { autoFetch: true, maxFetch: maxRecords });
      return { records: result.records };
    });
  }

  /** Runs one call: session first if there is none, the abort signal, failures classified. */
  private async call<T>(
    operation: string,
    signal: AbortSignal | undefined,
    send: () => Promise<T>,
  ): Promise<SalesforceResponse<T>> {
    if (signal?.aborted) throw aborted(operation);
    const state: CallState = { operation, origin: this.conn.instanceUrl };
    let body: T;
    try {
      body = await untilAborted(
        calls.run(state, async () => {
          // No session yet: get one first rather than collect a certain 401.
          if (!this.conn.accessToken) await this.refreshNow();
          return send();
        }),
        signal,
        operation,
      );
    } catch (err) {
      throw this.failure(err, state);
    }
    const res = state.last;
    if (!res)
      throw ConnectorError.retryable(
        'MALFORMED_RESPONSE',
        `Salesforce ${operation} ended without an answer`,
      );
    // Not an error for jsforce (a redirect it did not follow): an error here.
    if (res.statusCode >= 300)
      throw classifySalesforceError(res.statusCode, parseSalesforceErrors(body), {
        operation,
        rateLimitRetryAfterMs: this.options.rateLimitRetryAfterMs,
        retryAfterHeader: res.headers['retry-after'],
      });
    // jsforce hands back the raw text when a JSON answer does not parse.
    if (typeof body === 'string' && isJson(res))
      throw ConnectorError.retryable(
        'MALFORMED_RESPONSE',
        `Salesforce answered ${operation} with malformed JSON (HTTP ${res.statusCode})`,
        { httpStatus: res.statusCode },
      );
    const answered = state.firstOk ?? res;
    return { status: res.statusCode, headers: answered.headers, body };
  }

  /** What a failed call throws. */
  private failure(err: unknown, state: CallState): ConnectorError {
    if (err instanceof ConnectorError) return err;
    // SessionRefreshDelegate rethrows the refresh function's error wrapped in a plain Error for
    // the call that started the refresh (the others get ours as it is).
    if (
      this.refreshFailure &&
      err instanceof Error &&
      err.message === `${REFRESH_FAILED_PREFIX}${this.refreshFailure.message}`
    )
      return this.refreshFailure;
    const res = state.last;
    // jsforce's HttpApiError (errorCode, data = the error entry, or the array when several);
    // status and Retry-After from the answer the transport saw.
    if (res && res.statusCode >= 300 && isHttpApiError(err))
      return classifySalesforceError(res.statusCode, errorEntries(err.data), {
        operation: state.operation,
        rateLimitRetryAfterMs: this.options.rateLimitRetryAfterMs,
        retryAfterHeader: res.headers['retry-after'],
      });
    // Anything else is jsforce failing on an answer it got (or a bug): no message passed on,
    // it can quote the URL (SOQL values) or the body.
    return ConnectorError.retryable(
      'SALESFORCE_CLIENT_ERROR',
      `Salesforce ${state.operation} failed in the client (${err instanceof Error ? err.name : typeof err})`,
      { cause: err, ...(res ? { httpStatus: res.statusCode } : {}) },
    );
  }

  /** Gets a session through the connection's SessionRefreshDelegate (shared with 401 refreshes). */
  private async refreshNow(): Promise<void> {
    const delegate = this.conn._refreshDelegate;
    if (!delegate) throw new Error('the jsforce connection has no session refresh delegate');
    // A refresh that finished after now would make this a no-op; none can, so this refreshes or
    // joins the refresh in flight.
    await delegate.refresh(Date.now());
  }

  /**
   * `ConnectionConfig.refreshFn`: the OAuth 2.0 refresh-token flow through
   * `conn.oauth2.refreshToken` (POST {loginUrl}/services/oauth2/token, grant_type=refresh_token).
   * The delegate sets the new access token, emits `refresh` and replays the waiting requests.
   */
  private readonly refreshSession: SessionRefreshFunc<Schema> = (conn, callback) => {
    this.grant(conn).then(
      (res) => {
        this.refreshFailure = undefined;
        callback(undefined, res.access_token, res);
      },
      (err: unknown) => {
        const failure =
          err instanceof ConnectorError
            ? err
            : ConnectorError.retryable(
                'TOKEN_REFRESH_FAILED',
                'refreshing the Salesforce session failed',
                { cause: err },
              );
        this.refreshFailure = failure;
        callback(failure);
      },
    );
  };

  private async grant(conn: Connection): Promise<TokenResponse> {
    const state: CallState = { operation: 'token refresh', origin: conn.oauth2.loginUrl };
    const refreshToken = conn.refreshToken ?? this.options.refreshToken;
    let res: TokenResponse | undefined;
    try {
      res = await calls.run(state, () => conn.oauth2.refreshToken(refreshToken));
    } catch (err) {
      throw tokenFailure(err, state.last?.statusCode);
    }
    // A 2xx that is not a token answer (jsforce returns undefined when it does not parse).
    if (typeof res?.access_token !== 'string' || !res.access_token)
      throw classifyTokenFailure(state.last?.statusCode, undefined);
    const rotated = typeof res.refresh_token === 'string' ? res.refresh_token : undefined;
    if (rotated && rotated !== refreshToken) {
      // The old one stops working now: keep the new one whatever happens next.
      conn.refreshToken = rotated;
      try {
        await this.options.onRefreshTokenRotated?.(rotated);
      } catch (err) {
        throw ConnectorError.retryable(
          'REFRESH_TOKEN_NOT_PERSISTED',
          `persisting the rotated Salesforce refresh token failed (${err instanceof Error ? err.name : 'error'})`,
          { cause: err },
        );
      }
    }
    // The org may move (instance refresh, My Domain change): follow it, over https only.
    if (typeof res.instance_url === 'string' && isAllowedOrigin(res.instance_url))
      conn.instanceUrl = res.instance_url.replace(/\/+$/, '');
    return res;
  }

  /**
   * The data API side of the transport: records each answer for its call, sends a replay to the
   * instance a refresh moved the org to, and ends the refresh loop: a 401 on a request sent
   * with a session obtained after this call's first 401 means the fresh session is refused too.
   */
  private readonly dataGuard: Guard = (req) => {
    const state = calls.getStore();
    if (!state) return { request: req, check: () => undefined };
    const sentAt = this.generation;
    const instance = this.conn.instanceUrl;
    const request =
      instance !== state.origin && req.url.startsWith(`${state.origin}/`)
        ? { ...req, url: `${instance}${req.url.slice(state.origin.length)}` }
        : req;
    return {
      request,
      check: (res) => {
        state.last = res;
        if (res.statusCode < 300) state.firstOk ??= res;
        if (!isSessionExpiry(res)) return;
        if (state.expiredAt !== undefined && sentAt > state.expiredAt)
          throw ConnectorError.authExpired(
            'INVALID_SESSION_ID',
            'Salesforce rejected a freshly refreshed session: re-authorise the connector',
            { httpStatus: 401 },
          );
        state.expiredAt ??= sentAt;
      },
    };
  };
}

/** The token endpoint side: records the answer's status (jsforce's OAuth errors lack it). */
const tokenGuard: Guard = (req) => ({
  request: req,
  check: (res) => {
    const state = calls.getStore();
    if (state) state.last = res;
  },
});

/** jsforce's OAuth2 error: `name` = the OAuth `error`, or ERROR_HTTP_<status> for non-JSON. */
function tokenFailure(err: unknown, status: number | undefined): ConnectorError {
  if (err instanceof ConnectorError) return classifyTokenFailure(undefined, undefined, err);
  const name = err instanceof Error ? err.name : undefined;
  const synthetic = name ? /^ERROR_HTTP_(\d+)$/.exec(name) : null;
  if (status === undefined && synthetic) status = Number(synthetic[1]);
  if (status === undefined) return classifyTokenFailure(undefined, undefined, err);
  return classifyTokenFailure(status, synthetic || name === 'Error' ? undefined : name);
}

/** A failure before any answer: network, timeout, abort. */
function transportFailure(err: unknown, operation: string): ConnectorError {
  if (err instanceof ConnectorError) return err;
  // node-fetch's AbortError: jsforce's `timeout` option fired.
  if (err instanceof Error && err.name === 'AbortError')
    return ConnectorError.retryable('TIMEOUT', `Salesforce ${operation} timed out`);
  const code = networkErrorCode(err) ?? 'NETWORK';
  return ConnectorError.retryable(code, `network error calling Salesforce ${operation} (${code})`, {
    cause: err,
  });
}

function isSessionExpiry(res: HttpResponse): boolean {
  if (res.statusCode !== 401) return false;
  const text = typeof res.body === 'string' ? res.body : '';
  return !NOT_A_SESSION_EXPIRY.some((p) => text.includes(p));
}

function isJson(res: HttpResponse): boolean {
  return /^application\/json(;|$)/.test(res.headers['content-type'] ?? '');
}

function isHttpApiError(err: unknown): err is Error & { errorCode: string; data?: unknown } {
  return err instanceof Error && typeof (err as { errorCode?: unknown }).errorCode === 'string';
}

/** Salesforce's error entries in jsforce's `data`, without the ones jsforce made up. */
function errorEntries(data: unknown) {
  return parseSalesforceErrors(data).filter((e) => !/^ERROR_HTTP_\d+$/.test(e.errorCode));
}

/** Waits for `work` unless the caller abandons the call first (the request then runs out). */
async function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  operation: string,
): Promise<T> {
  if (!signal) return work;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    onAbort = () => reject(aborted(operation));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, abandoned]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function aborted(operation: string): ConnectorError {
  return ConnectorError.retryable(
    'ABORTED',
    `Salesforce ${operation} was abandoned: the service is stopping`,
  );
}

/** https, or plain http to this machine (a local test double). */
function isAllowedOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    );
  } catch {
    return false;
  }
}
