import { ErrorClass } from '@mandate/contracts';

/**
 * The error taxonomy every adapter maps its CRM's errors to:
 * - `retryable`: transient (timeout, 5xx, rate limit); the same call may succeed later;
 * - `permanent`: will fail again as is (validation, record deleted, unsupported action);
 * - `conflict`: the record changed since the agent saw it (optimistic concurrency);
 * - `auth-expired`: the CRM credentials no longer work and could not be refreshed; an operator
 *   must re-authorise the connector.
 */
export type ErrorKind = 'retryable' | 'permanent' | 'conflict' | 'auth-expired';

export const ERROR_KINDS: readonly ErrorKind[] = [
  'retryable',
  'permanent',
  'conflict',
  'auth-expired',
];

export interface ConnectorErrorOptions {
  /** How long the CRM asked us to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
  /** HTTP status of the CRM's answer, when there was one. */
  readonly httpStatus?: number;
  readonly cause?: unknown;
}

/**
 * What an adapter throws. `code` is machine-readable and stable (e.g. "REQUEST_LIMIT_EXCEEDED",
 * "FIELD_CUSTOM_VALIDATION_EXCEPTION"); `message` is for operators and must not contain
 * personal data or credentials.
 */
export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  readonly retryAfterMs?: number;
  readonly httpStatus?: number;

  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    options: ConnectorErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
    this.httpStatus = options.httpStatus;
  }

  static retryable(code: string, message: string, o?: ConnectorErrorOptions): ConnectorError {
    return new ConnectorError('retryable', code, message, o);
  }
  static permanent(code: string, message: string, o?: ConnectorErrorOptions): ConnectorError {
    return new ConnectorError('permanent', code, message, o);
  }
  static conflict(code: string, message: string, o?: ConnectorErrorOptions): ConnectorError {
    return new ConnectorError('conflict', code, message, o);
  }
  static authExpired(code: string, message: string, o?: ConnectorErrorOptions): ConnectorError {
    return new ConnectorError('auth-expired', code, message, o);
  }
}

/** Thrown by scaffolded adapters for what is not written yet; a permanent error. */
export function notImplemented(what: string): ConnectorError {
  return ConnectorError.permanent('NOT_IMPLEMENTED', `${what} is not implemented yet`);
}

/** Node and undici error codes of transport failures: retrying may succeed. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The network error code of an error or of its causes (fetch wraps them: "fetch failed" ← cause). */
export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Any thrown value as a ConnectorError. Network failures and timeouts are retryable; anything
 * else an adapter failed to classify is also treated as retryable (bounded by the retry policy,
 * then dead-lettered with its reason) rather than guessed permanent.
 */
export function toConnectorError(err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = networkErrorCode(err);
  if (code || (err instanceof Error && err.name === 'AbortError'))
    return ConnectorError.retryable(code ?? 'ABORTED', `network error: ${message}`, { cause: err });
  return ConnectorError.retryable('UNCLASSIFIED', `unclassified error: ${message}`, {
    cause: err,
  });
}

/**
 * Parses a Retry-After header (delta-seconds or an HTTP date) into milliseconds from `now`;
 * undefined when absent or unparseable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: Date = new Date(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/**
 * Default mapping of an HTTP error answer to the taxonomy, for REST CRMs: 401 → auth-expired,
 * 409/412 → conflict, 408/425/429/5xx → retryable (with Retry-After), other 4xx → permanent.
 * Adapters refine it with the CRM's own error codes first.
 */
export function classifyHttpError(
  status: number,
  code: string,
  message: string,
  retryAfter?: string | null,
  now: Date = new Date(),
): ConnectorError {
  const o: ConnectorErrorOptions = {
    httpStatus: status,
    retryAfterMs: parseRetryAfter(retryAfter, now),
  };
  if (status === 401) return ConnectorError.authExpired(code || 'UNAUTHORIZED', message, o);
  if (status === 409 || status === 412)
    return ConnectorError.conflict(code || 'CONFLICT', message, o);
  if (status === 408 || status === 425 || status === 429 || status >= 500)
    return ConnectorError.retryable(code || `HTTP_${status}`, message, o);
  return ConnectorError.permanent(code || `HTTP_${status}`, message, o);
}

/** The proto ErrorClass an error kind is reported as in an ExecutionOutcome. */
export function errorClassOf(kind: ErrorKind): ErrorClass {
  switch (kind) {
    case 'retryable':
      return ErrorClass.ERROR_CLASS_RETRYABLE;
    case 'permanent':
      return ErrorClass.ERROR_CLASS_PERMANENT;
    case 'conflict':
      return ErrorClass.ERROR_CLASS_CONFLICT;
    case 'auth-expired':
      return ErrorClass.ERROR_CLASS_AUTH_EXPIRED;
  }
}
