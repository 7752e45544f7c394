import {
  ConnectorError,
  classifyHttpError,
  networkErrorCode,
  parseRetryAfter,
} from '@mandate/connector-sdk';

/**
 * One entry of Salesforce's REST error body: `[{"message": "...", "errorCode": "...",
 * "fields": [...]}]` (REST API Developer Guide, "Status Codes and Error Responses").
 */
export interface SalesforceErrorEntry {
  readonly errorCode: string;
  readonly message?: string;
  readonly fields?: readonly string[];
}

/** Transient: the same request may succeed later. */
const RETRYABLE_CODES = new Set([
  'REQUEST_LIMIT_EXCEEDED',
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'QUERY_TIMEOUT',
  'REQUEST_RUNNING_TOO_LONG',
  'CONCURRENT_REQUESTS_LIMIT_EXCEEDED',
]);

/** Will fail again as sent: data, schema, permission or addressing problems. */
const PERMANENT_CODES = new Set([
  'FIELD_CUSTOM_VALIDATION_EXCEPTION',
  'REQUIRED_FIELD_MISSING',
  'INVALID_FIELD',
  'INVALID_FIELD_FOR_INSERT_UPDATE',
  'STRING_TOO_LONG',
  'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
  'ENTITY_IS_DELETED',
  'NOT_FOUND',
  'MALFORMED_ID',
  'INVALID_ID_FIELD',
  'INVALID_TYPE',
  'INVALID_CROSS_REFERENCE_KEY',
  'FIELD_INTEGRITY_EXCEPTION',
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
  'CANNOT_UPDATE_CONVERTED_LEAD',
  'ENTITY_IS_LOCKED',
  'DUPLICATE_VALUE',
  'DUPLICATES_DETECTED',
  'JSON_PARSER_ERROR',
  'MALFORMED_QUERY',
  'INVALID_QUERY_FILTER_OPERATOR',
  'API_DISABLED_FOR_ORG',
  'FUNCTIONALITY_NOT_ENABLED',
  'NUMBER_OUTSIDE_VALID_RANGE',
  'INVALID_EMAIL_ADDRESS',
  'MULTIPLE_CHOICES',
]);

/** Parses Salesforce's error body (an array of entries, or one entry); [] when it is not one. */
export function parseSalesforceErrors(body: unknown): SalesforceErrorEntry[] {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return [];
    }
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.filter(
    (e): e is SalesforceErrorEntry =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as { errorCode?: unknown }).errorCode === 'string',
  );
}

export interface ClassifyOptions {
  /** What was being done, for the message: "PATCH Lead", "composite", "query Opportunity". */
  readonly operation: string;
  /** Wait suggested for REQUEST_LIMIT_EXCEEDED without Retry-After. */
  readonly rateLimitRetryAfterMs: number;
  readonly retryAfterHeader?: string;
  readonly now?: Date;
}

/**
 * Maps one Salesforce error answer to the taxonomy. The message carries the errorCode, HTTP
 * status, operation and the API names of the fields involved — never Salesforce's own message,
 * which can quote record values (STRING_TOO_LONG, validation rules) — and no token.
 */
export function classifySalesforceError(
  status: number,
  entries: readonly SalesforceErrorEntry[],
  o: ClassifyOptions,
): ConnectorError {
  const first = entries.find((e) => e.errorCode !== 'PROCESSING_HALTED') ?? entries[0];
  const code = first?.errorCode ?? (status === 300 ? 'MULTIPLE_CHOICES' : `HTTP_${status}`);
  const fields = [...new Set(entries.flatMap((e) => e.fields ?? []))].filter((f) =>
    /^[A-Za-z][A-Za-z0-9_.]*$/.test(f),
  );
  const message =
    `Salesforce ${o.operation} failed: ${code} (HTTP ${status})` +
    (fields.length ? ` on ${fields.join(', ')}` : '');
  const retryAfterMs = parseRetryAfter(o.retryAfterHeader, o.now);
  const options = { httpStatus: status, retryAfterMs };
  if (code === 'REQUEST_LIMIT_EXCEEDED')
    return ConnectorError.retryable(code, message, {
      ...options,
      retryAfterMs: retryAfterMs ?? o.rateLimitRetryAfterMs,
    });
  if (RETRYABLE_CODES.has(code)) return ConnectorError.retryable(code, message, options);
  if (code === 'INVALID_SESSION_ID') return ConnectorError.authExpired(code, message, options);
  if (PERMANENT_CODES.has(code)) return ConnectorError.permanent(code, message, options);
  // Otherwise by status: 401 auth-expired, 409/412 conflict, 408/425/429/5xx retryable,
  // other 4xx (and 300) permanent.
  return classifyHttpError(status, code, message, o.retryAfterHeader, o.now);
}

/** OAuth token endpoint errors that mean the grant itself is dead: re-authorise the connector. */
const DEAD_GRANT_ERRORS = new Set([
  'invalid_grant',
  'invalid_client',
  'invalid_client_id',
  'invalid_client_credentials',
  'unauthorized_client',
  'inactive_user',
  'inactive_org',
  'invalid_app_access',
  'unsupported_grant_type',
  'invalid_request',
]);

/**
 * A failed refresh-token grant, from the token endpoint's HTTP status and OAuth `error`, or the
 * error that kept us from reaching it. A dead grant (`invalid_grant`: expired or revoked refresh
 * token; a disabled client or user) is auth-expired: an operator must re-authorise the
 * connector. The endpoint being unreachable or failing (5xx, `server_error`) is retryable.
 */
export function classifyTokenFailure(
  status: number | undefined,
  oauthError: string | undefined,
  cause?: unknown,
): ConnectorError {
  const o = status === undefined ? undefined : { httpStatus: status };
  if (oauthError && DEAD_GRANT_ERRORS.has(oauthError))
    return ConnectorError.authExpired(
      oauthError.toUpperCase(),
      `Salesforce refused to refresh the session (${oauthError}): re-authorise the connector`,
      o,
    );
  if (
    oauthError === 'server_error' ||
    oauthError === 'temporarily_unavailable' ||
    (status !== undefined && (status >= 500 || status === 429))
  )
    return ConnectorError.retryable(
      'TOKEN_ENDPOINT_UNAVAILABLE',
      `the Salesforce token endpoint failed (${status !== undefined ? `HTTP ${status}` : oauthError})`,
      o,
    );
  if (status !== undefined)
    return ConnectorError.authExpired(
      'TOKEN_REFRESH_REFUSED',
      `the Salesforce token endpoint refused the refresh (HTTP ${status}${oauthError ? `, ${oauthError}` : ''})`,
      o,
    );
  if (cause instanceof ConnectorError) return cause;
  const network = networkErrorCode(cause);
  return ConnectorError.retryable(
    network ?? 'TOKEN_REFRESH_FAILED',
    `the Salesforce token endpoint could not be reached${network ? ` (${network})` : ''}`,
    cause === undefined ? undefined : { cause },
  );
}
