import { ConnectorError } from '@mandate/connector-sdk';
import {
  HubSpotHttpError,
  classifyHubSpotHttpError,
  rateLimitRetryAfterMs,
  toHubSpotConnectorError,
  validationDetails,
} from './hubspot.errors';

const now = new Date('2030-03-01T18:00:00.000Z');
const http = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  classifyHubSpotHttpError(new HubSpotHttpError(status, headers, body), now);

describe('HubSpot error classification', () => {
  it('maps statuses and categories to the taxonomy', () => {
    const cases: Array<[ConnectorError, string, string]> = [
      [http(401, { category: 'EXPIRED_AUTHENTICATION' }), 'auth-expired', 'EXPIRED_AUTHENTICATION'],
      [http(401, { category: 'INVALID_AUTHENTICATION' }), 'auth-expired', 'INVALID_AUTHENTICATION'],
      [http(403, { category: 'MISSING_SCOPES' }), 'auth-expired', 'MISSING_SCOPES'],
      [http(403, { category: 'FORBIDDEN' }), 'permanent', 'FORBIDDEN'],
      [http(404, { category: 'OBJECT_NOT_FOUND' }), 'permanent', 'OBJECT_NOT_FOUND'],
      [http(409, { category: 'CONFLICT' }), 'conflict', 'CONFLICT'],
      [http(423, {}), 'retryable', 'HTTP_423'],
      [http(500, undefined), 'retryable', 'HTTP_500'],
      [http(502, undefined), 'retryable', 'HTTP_502'],
      [
        http(400, { category: 'VALIDATION_ERROR', subCategory: 'Objects.INVALID_ID' }),
        'permanent',
        'INVALID_ID',
      ],
      [http(400, {}), 'permanent', 'HTTP_400'],
    ];
    for (const [err, kind, code] of cases) expect([err.kind, err.code]).toEqual([kind, code]);
  });

  it('reads validation codes and property names from `errors` and from the embedded message', () => {
    const embedded = {
      status: 'error',
      category: 'VALIDATION_ERROR',
      correlationId: 'c-1',
      message:
        'Property values were not valid: [{"isValid":false,"message":"Jane@x was not a valid email","error":"INVALID_EMAIL","name":"email"}]',
    };
    expect(validationDetails(embedded)).toEqual({
      codes: ['INVALID_EMAIL'],
      properties: ['email'],
    });
    const err = http(400, embedded);
    expect(err.code).toBe('INVALID_EMAIL');
    expect(err.message).toBe(
      'HubSpot rejected the request (HTTP 400 VALIDATION_ERROR: INVALID_EMAIL) on email (correlationId c-1)',
    );
    expect(err.message).not.toContain('Jane');
    expect(
      validationDetails({
        errors: [
          { code: 'PROPERTY_DOESNT_EXIST', message: 'x', context: { propertyName: ['foo'] } },
        ],
      }),
    ).toEqual({ codes: ['PROPERTY_DOESNT_EXIST'], properties: ['foo'] });
  });

  it('429: Retry-After first, then the policy', () => {
    expect(
      http(429, { errorType: 'RATE_LIMIT', policyName: 'SECONDLY' }, { 'retry-after': '7' }),
    ).toMatchObject({
      kind: 'retryable',
      code: 'RATE_LIMIT_SECONDLY',
      retryAfterMs: 7000,
    });
    expect(rateLimitRetryAfterMs({}, 'SECONDLY', now)).toBe(1000);
    expect(
      rateLimitRetryAfterMs(
        { 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
        'TEN_SECONDLY_ROLLING',
        now,
      ),
    ).toBe(10_000);
    expect(rateLimitRetryAfterMs({}, undefined, now)).toBe(10_000);
    expect(rateLimitRetryAfterMs({}, 'DAILY', now)).toBe(6 * 3600_000); // to midnight UTC
    expect(http(429, {}).code).toBe('RATE_LIMIT');
  });

  it('network failures are retryable; unknown errors are retryable without their message', () => {
    const fetchFailed = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' }),
    });
    expect(toHubSpotConnectorError(fetchFailed)).toMatchObject({
      kind: 'retryable',
      code: 'ECONNRESET',
    });
    const odd = toHubSpotConnectorError(new Error('Body: {"email":"jane@example.com"}'));
    expect(odd).toMatchObject({ kind: 'retryable', code: 'UNCLASSIFIED' });
    expect(odd.message).not.toContain('jane');
    const known = ConnectorError.conflict('X', 'y');
    expect(toHubSpotConnectorError(known)).toBe(known);
  });
});
