import {
  ConnectorError,
  networkErrorCode,
  parseRetryAfter,
  toConnectorError,
  type ConnectorErrorOptions,
} from '@mandate/connector-sdk';

/**
 * A non-2xx answer from HubSpot, as the client middleware caught it (before the generated code
 * deserialises the body into its `Error` model, which drops `errorType` and `policyName`).
 * Carries the parsed body: never put it in a message, HubSpot echoes submitted values in it.
 */
export class HubSpotHttpError extends Error {
  override readonly name = 'HubSpotHttpError';

  constructor(
    readonly status: number,
    /** Response headers, names lower case. */
    readonly headers: Readonly<Record<string, string>>,
    /** The JSON body, or undefined when it was not JSON (a gateway's HTML page). */
    readonly body: unknown,
  ) {
    super(`HubSpot answered HTTP ${status}`);
  }
}

/** The fields of HubSpot's error bodies this adapter reads (everything else is ignored). */
interface HubSpotErrorBody {
  status?: unknown;
  message?: unknown;
  category?: unknown;
  subCategory?: unknown;
  correlationId?: unknown;
  errorType?: unknown;
  policyName?: unknown;
  errors?: unknown;
}

/** Rate-limit policies named in HubSpot's 429 bodies (`policyName`). */
export type HubSpotRatePolicy = 'SECONDLY' | 'TEN_SECONDLY_ROLLING' | 'DAILY' | string;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function bodyOf(err: HubSpotHttpError): HubSpotErrorBody {
  return typeof err.body === 'object' && err.body !== null ? (err.body as HubSpotErrorBody) : {};
}

/**
 * Error codes and property names from a HubSpot validation answer. HubSpot reports them two ways:
 * an `errors` array (`{code, context: {propertyName: [...]}}`), or JSON embedded in `message`
 * (`Property values were not valid: [{"error":"INVALID_OPTION","name":"dealstage",...}]`). Only
 * codes and property names are kept; the messages carry the submitted values.
 */
export function validationDetails(body: unknown): { codes: string[]; properties: string[] } {
  const codes = new Set<string>();
  const properties = new Set<string>();
  const b = typeof body === 'object' && body !== null ? (body as HubSpotErrorBody) : {};
  if (Array.isArray(b.errors)) {
    for (const e of b.errors as Array<Record<string, unknown>>) {
      const code = str(e?.['code']);
      if (code) codes.add(code);
      const ctx = e?.['context'];
      const names =
        typeof ctx === 'object' && ctx !== null
          ? (ctx as Record<string, unknown>)['propertyName']
          : undefined;
      if (Array.isArray(names)) for (const n of names) if (str(n)) properties.add(n as string);
    }
  }
  const message = str(b.message);
  const start = message?.indexOf('[') ?? -1;
  if (message && start >= 0 && message.trimEnd().endsWith(']')) {
    const embedded = parseJson(message.slice(start));
    if (Array.isArray(embedded))
      for (const e of embedded as Array<Record<string, unknown>>) {
        const code = str(e?.['error']);
        if (code) codes.add(code);
        const name = str(e?.['name']);
        if (name) properties.add(name);
      }
  }
  return { codes: [...codes], properties: [...properties] };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Parses a response body as JSON; undefined when it is empty or not JSON. */
export function parseJsonBody(text: string): unknown {
  return text.trim() ? parseJson(text) : undefined;
}

function lastSegment(v: string): string {
  const i = v.lastIndexOf('.');
  return i >= 0 ? v.slice(i + 1) : v;
}

function msUntilNextUtcMidnight(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return next - now.getTime();
}

/**
 * How long to wait after a 429, in milliseconds:
 * 1. `Retry-After` when HubSpot sends one (seconds or an HTTP date);
 * 2. `policyName: DAILY`: until the next midnight UTC (HubSpot resets daily limits at midnight in
 *    the account's time zone, which the adapter does not know; the SDK's retry bound then
 *    dead-letters instead of waiting that long);
 * 3. `SECONDLY`: one second;
 * 4. `TEN_SECONDLY_ROLLING` or anything else: `X-HubSpot-RateLimit-Interval-Milliseconds` (the
 *    length of the rolling window the limit is counted over: after a full window every counted
 *    request has left it), else 10 seconds.
 * https://developers.hubspot.com/docs/api/usage-details (rate limit headers, 429 body).
 */
export function rateLimitRetryAfterMs(
  headers: Readonly<Record<string, string>>,
  policyName: string | undefined,
  now: Date,
): number {
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined) return retryAfter;
  if (policyName === 'DAILY') return msUntilNextUtcMidnight(now);
  if (policyName === 'SECONDLY') return 1000;
  const interval = Number(headers['x-hubspot-ratelimit-interval-milliseconds']);
  if (Number.isFinite(interval) && interval > 0) return interval;
  return 10_000;
}

/**
 * A HubSpot HTTP error in the SDK's taxonomy. Messages name the HTTP status, HubSpot's
 * category and codes, property names and the correlation id (for HubSpot support), never the
 * values HubSpot echoes back.
 *
 * | HubSpot answer                                   | kind         | code                       |
 * |--------------------------------------------------|--------------|----------------------------|
 * | 429 (errorType RATE_LIMIT)                       | retryable    | RATE_LIMIT_<policyName>    |
 * | 5xx, 423 (record locked)                         | retryable    | HTTP_<status>              |
 * | 401 EXPIRED_AUTHENTICATION / INVALID_AUTH...     | auth-expired | the category               |
 * | 403 MISSING_SCOPES                               | auth-expired | MISSING_SCOPES             |
 * | 400 VALIDATION_ERROR (INVALID_OPTION, ...)       | permanent    | first error code, category |
 * | 404 OBJECT_NOT_FOUND                             | permanent    | OBJECT_NOT_FOUND           |
 * | 409 CONFLICT                                     | conflict     | CONFLICT                   |
 * | other 4xx                                        | permanent    | category or HTTP_<status>  |
 */
export function classifyHubSpotHttpError(
  err: HubSpotHttpError,
  now: Date = new Date(),
): ConnectorError {
  const b = bodyOf(err);
  const status = err.status;
  const category = str(b.category);
  const correlation = str(b.correlationId);
  const suffix = correlation ? ` (correlationId ${correlation})` : '';
  const o: ConnectorErrorOptions = { httpStatus: status, cause: err };

  if (status === 429) {
    const policy = str(b.policyName);
    const code = policy ? `RATE_LIMIT_${policy}` : 'RATE_LIMIT';
    const retryAfterMs = rateLimitRetryAfterMs(err.headers, policy, now);
    return ConnectorError.retryable(
      code,
      `HubSpot rate limit reached (${policy ?? 'unnamed policy'})${suffix}`,
      { ...o, retryAfterMs },
    );
  }
  if (status >= 500 || status === 423 || status === 408)
    return ConnectorError.retryable(
      `HTTP_${status}`,
      `HubSpot answered HTTP ${status}${category ? ` ${category}` : ''}${suffix}`,
      { ...o, retryAfterMs: parseRetryAfter(err.headers['retry-after'], now) },
    );
  if (status === 401)
    return ConnectorError.authExpired(
      category ?? 'UNAUTHORIZED',
      `HubSpot refused the credentials (${category ?? 'HTTP 401'}); re-authorise the connector${suffix}`,
      o,
    );
  if (status === 403 && category === 'MISSING_SCOPES')
    return ConnectorError.authExpired(
      'MISSING_SCOPES',
      `the HubSpot app lacks a scope this call needs; re-authorise it with the scopes in the README${suffix}`,
      o,
    );
  if (status === 409)
    return ConnectorError.conflict(
      category ?? 'CONFLICT',
      `HubSpot reported a conflict (HTTP 409)${suffix}`,
      o,
    );
  if (status === 404)
    return ConnectorError.permanent(
      category ?? 'OBJECT_NOT_FOUND',
      `HubSpot has no such object (HTTP 404)${suffix}`,
      o,
    );
  const { codes, properties } = validationDetails(b);
  const sub = str(b.subCategory);
  const code = codes[0] ?? (sub ? lastSegment(sub) : undefined) ?? category ?? `HTTP_${status}`;
  const what = [category, ...codes].filter(Boolean).join(': ');
  const on = properties.length ? ` on ${properties.join(', ')}` : '';
  return ConnectorError.permanent(
    code,
    `HubSpot rejected the request (HTTP ${status}${what ? ` ${what}` : ''})${on}${suffix}`,
    o,
  );
}

/**
 * Anything a HubSpot call threw, as a ConnectorError: HTTP errors by the table above; fetch's
 * network failures (`TypeError: fetch failed` with the socket error as `cause`) retryable;
 * anything else by the SDK's default (retryable UNCLASSIFIED), without its message.
 */
export function toHubSpotConnectorError(err: unknown, now: Date = new Date()): ConnectorError {
  if (err instanceof ConnectorError) return err;
  if (err instanceof HubSpotHttpError) return classifyHubSpotHttpError(err, now);
  // Duck-typed, not `instanceof Error`: fetch's errors may come from another realm (a test VM).
  if (typeof err === 'object' && err !== null) {
    const e = err as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
    const code = networkErrorCode(err) ?? '';
    if (code || (e.name === 'TypeError' && e.message === 'fetch failed'))
      return ConnectorError.retryable(
        code || 'NETWORK',
        `network error calling HubSpot${code ? ` (${code})` : ''}`,
        { cause: err },
      );
  }
  // Not toConnectorError(err): its message would repeat err.message, and the HubSpot client's own
  // exceptions put the response body (with record values) in theirs.
  const kind = toConnectorError(err);
  return new ConnectorError(
    kind.kind,
    kind.code,
    `unclassified error calling HubSpot (${errorName(err)})`,
    { cause: err },
  );
}

function errorName(err: unknown): string {
  const name =
    typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : typeof err;
}
