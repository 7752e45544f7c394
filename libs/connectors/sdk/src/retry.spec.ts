import { ConnectorError } from './errors';
import { retryDelayMs, withRetry } from './retry';

const policy = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 10_000 };

describe('withRetry', () => {
  it('retries retryable errors with full-jitter backoff, then succeeds', async () => {
    const delays: number[] = [];
    let n = 0;
    const r = await withRetry(
      async () => {
        if (++n < 3) throw ConnectorError.retryable('UNAVAILABLE', 'x');
        return 'ok';
      },
      policy,
      { random: () => 0.5, sleep: async (ms) => void delays.push(ms) },
    );
    expect(r).toBe('ok');
    expect(delays).toEqual([50, 100]);
  });

  it.each(['permanent', 'conflict', 'auth-expired'] as const)(
    'does not retry %s errors',
    async (kind) => {
      let n = 0;
      await expect(
        withRetry(
          async () => {
            n++;
            throw new ConnectorError(kind, 'X', 'no');
          },
          policy,
          { sleep: async () => undefined },
        ),
      ).rejects.toMatchObject({ kind });
      expect(n).toBe(1);
    },
  );

  it('waits exactly the Retry-After the CRM asked for', async () => {
    const delays: number[] = [];
    let n = 0;
    await withRetry(
      async () => {
        if (++n === 1) throw ConnectorError.retryable('RATE', 'x', { retryAfterMs: 4000 });
      },
      policy,
      { sleep: async (ms) => void delays.push(ms) },
    );
    expect(delays).toEqual([4000]);
  });

  it('gives up at once when the Retry-After is longer than it may wait in-process', async () => {
    let n = 0;
    await expect(
      withRetry(
        async () => {
          n++;
          throw ConnectorError.retryable('DAILY_LIMIT', 'x', { retryAfterMs: 3_600_000 });
        },
        policy,
        { sleep: async () => undefined },
      ),
    ).rejects.toMatchObject({ code: 'DAILY_LIMIT' });
    expect(n).toBe(1);
  });

  it('stops after maxAttempts and throws the last error, classified', async () => {
    let n = 0;
    await expect(
      withRetry(
        async () => {
          n++;
          throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        },
        policy,
        { sleep: async () => undefined },
      ),
    ).rejects.toMatchObject({ name: 'ConnectorError', kind: 'retryable', code: 'ECONNRESET' });
    expect(n).toBe(4);
  });

  it('caps the backoff', () => {
    const e = ConnectorError.retryable('X', 'x');
    expect(retryDelayMs(policy, 10, e, () => 0.999)).toBeLessThan(1000);
  });
});
