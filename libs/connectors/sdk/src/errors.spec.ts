import { ErrorClass } from '@mandate/contracts';
import {
  ConnectorError,
  classifyHttpError,
  errorClassOf,
  parseRetryAfter,
  toConnectorError,
} from './errors';

describe('error taxonomy', () => {
  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = new Date('2026-11-25T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 09:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it.each([
    [401, 'auth-expired'],
    [409, 'conflict'],
    [412, 'conflict'],
    [429, 'retryable'],
    [503, 'retryable'],
    [500, 'retryable'],
    [408, 'retryable'],
    [400, 'permanent'],
    [404, 'permanent'],
    [422, 'permanent'],
  ] as const)('classifies HTTP %i as %s', (status, kind) => {
    expect(classifyHttpError(status, '', 'x').kind).toBe(kind);
  });

  it('keeps the CRM code and the Retry-After of an HTTP error', () => {
    const e = classifyHttpError(429, 'RATE_LIMIT', 'slow down', '7');
    expect([e.code, e.retryAfterMs, e.httpStatus]).toEqual(['RATE_LIMIT', 7000, 429]);
  });

  it('treats network errors and unclassified errors as retryable', () => {
    const net = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect([toConnectorError(net).kind, toConnectorError(net).code]).toEqual([
      'retryable',
      'ECONNRESET',
    ]);
    expect(toConnectorError(new TypeError('x')).code).toBe('UNCLASSIFIED');
    const own = ConnectorError.permanent('X', 'y');
    expect(toConnectorError(own)).toBe(own);
  });

  it('maps kinds to the outcome error classes', () => {
    expect(errorClassOf('retryable')).toBe(ErrorClass.ERROR_CLASS_RETRYABLE);
    expect(errorClassOf('permanent')).toBe(ErrorClass.ERROR_CLASS_PERMANENT);
    expect(errorClassOf('conflict')).toBe(ErrorClass.ERROR_CLASS_CONFLICT);
    expect(errorClassOf('auth-expired')).toBe(ErrorClass.ERROR_CLASS_AUTH_EXPIRED);
  });
});
