import { networkErrorCode } from '@mandate/connector-sdk';
import { ConnectorError } from '@mandate/connector-sdk';
import {
  classifySalesforceError,
  classifyTokenFailure,
  parseSalesforceErrors,
} from './salesforce-errors';

const o = { operation: 'PATCH Lead', rateLimitRetryAfterMs: 60_000 };
const classify = (
  status: number,
  errorCode: string,
  extra: Partial<typeof o & { retryAfterHeader: string }> = {},
) =>
  classifySalesforceError(
    status,
    [{ errorCode, message: 'Name: value "Ada Lovelace" too long', fields: ['Name'] }],
    {
      ...o,
      ...extra,
    },
  );

describe('classifySalesforceError', () => {
  it.each([
    [403, 'REQUEST_LIMIT_EXCEEDED', 'retryable'],
    [400, 'UNABLE_TO_LOCK_ROW', 'retryable'],
    [503, 'SERVER_UNAVAILABLE', 'retryable'],
    [500, 'UNKNOWN_EXCEPTION', 'retryable'],
    [401, 'INVALID_SESSION_ID', 'auth-expired'],
    [400, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'permanent'],
    [400, 'REQUIRED_FIELD_MISSING', 'permanent'],
    [400, 'INVALID_FIELD', 'permanent'],
    [400, 'STRING_TOO_LONG', 'permanent'],
    [400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'permanent'],
    [404, 'ENTITY_IS_DELETED', 'permanent'],
    [404, 'NOT_FOUND', 'permanent'],
    [400, 'MALFORMED_ID', 'permanent'],
    [400, 'DUPLICATE_VALUE', 'permanent'],
    [412, 'PRECONDITION_FAILED', 'conflict'],
    [400, 'SOMETHING_NEW', 'permanent'],
    [502, 'SOMETHING_NEW', 'retryable'],
  ] as const)(
    'HTTP %i %s → %s, code kept, message without Salesforce text',
    (status, code, kind) => {
      const err = classify(status, code);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ kind, code, httpStatus: status });
      expect(err.message).toBe(`Salesforce PATCH Lead failed: ${code} (HTTP ${status}) on Name`);
    },
  );

  it('takes Retry-After for the rate limit, else the configured wait', () => {
    expect(classify(403, 'REQUEST_LIMIT_EXCEEDED', { retryAfterHeader: '12' }).retryAfterMs).toBe(
      12_000,
    );
    expect(classify(403, 'REQUEST_LIMIT_EXCEEDED').retryAfterMs).toBe(60_000);
    expect(classify(503, 'SERVER_UNAVAILABLE', { retryAfterHeader: '3' }).retryAfterMs).toBe(3_000);
  });

  it('skips PROCESSING_HALTED entries and handles answers that are not error arrays', () => {
    const err = classifySalesforceError(
      400,
      [{ errorCode: 'PROCESSING_HALTED' }, { errorCode: 'STRING_TOO_LONG', fields: ['Subject'] }],
      o,
    );
    expect(err.code).toBe('STRING_TOO_LONG');
    expect(
      classifySalesforceError(500, parseSalesforceErrors('<html>oops</html>'), o),
    ).toMatchObject({
      kind: 'retryable',
      code: 'HTTP_500',
    });
    expect(
      classifySalesforceError(
        300,
        parseSalesforceErrors(['/services/data/v62.0/sobjects/Task/00T1']),
        o,
      ),
    ).toMatchObject({
      kind: 'permanent',
      code: 'MULTIPLE_CHOICES',
    });
    expect(parseSalesforceErrors({ errorCode: 'X', message: 'm' })).toEqual([
      { errorCode: 'X', message: 'm' },
    ]);
  });
});

describe('classifyTokenFailure', () => {
  it.each([
    [400, 'invalid_grant', 'auth-expired', 'INVALID_GRANT'],
    [400, 'invalid_client', 'auth-expired', 'INVALID_CLIENT'],
    [400, 'inactive_user', 'auth-expired', 'INACTIVE_USER'],
    [503, undefined, 'retryable', 'TOKEN_ENDPOINT_UNAVAILABLE'],
    [500, 'server_error', 'retryable', 'TOKEN_ENDPOINT_UNAVAILABLE'],
    [403, undefined, 'auth-expired', 'TOKEN_REFRESH_REFUSED'],
  ] as const)('HTTP %s %s → %s %s', (status, error, kind, code) => {
    expect(classifyTokenFailure(status, error)).toMatchObject({ kind, code });
  });

  it('an unreachable token endpoint is retryable', () => {
    const cause = new TypeError('fetch failed', {
      cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
    });
    expect(networkErrorCode(cause)).toBe('ECONNREFUSED');
    expect(classifyTokenFailure(undefined, undefined, cause)).toMatchObject({
      kind: 'retryable',
      code: 'ECONNREFUSED',
    });
  });
});
