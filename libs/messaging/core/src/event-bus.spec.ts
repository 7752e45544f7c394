import { backoffMs, DEFAULT_RETRY, resolveRetry } from './event-bus';

describe('backoffMs', () => {
  const retry = { maxAttempts: 10, initialBackoffMs: 100, maxBackoffMs: 1000 };

  it('doubles per failed attempt, between half and all of the step', () => {
    expect(backoffMs(retry, 1, () => 0)).toBe(50);
    expect(backoffMs(retry, 1, () => 1)).toBe(100);
    expect(backoffMs(retry, 3, () => 0)).toBe(200);
    expect(backoffMs(retry, 3, () => 0.5)).toBe(300);
  });

  it('never exceeds maxBackoffMs', () => {
    expect(backoffMs(retry, 30, () => 1)).toBe(1000);
  });
});

describe('resolveRetry', () => {
  it('fills missing fields from the defaults', () => {
    expect(resolveRetry({ maxAttempts: 2, initialBackoffMs: undefined })).toEqual({
      ...DEFAULT_RETRY,
      maxAttempts: 2,
    });
    expect(
      resolveRetry(undefined, { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 }),
    ).toEqual({
      maxAttempts: 3,
      initialBackoffMs: 1,
      maxBackoffMs: 2,
    });
  });

  it('rejects nonsense', () => {
    expect(() => resolveRetry({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => resolveRetry({ initialBackoffMs: 500, maxBackoffMs: 100 })).toThrow(RangeError);
  });
});
