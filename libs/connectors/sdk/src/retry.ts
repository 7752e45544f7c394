import { ConnectorError, toConnectorError } from './errors';
import { sleep as defaultSleep } from './rate-limiter';

export interface RetryPolicy {
  /** Tries in all, including the first (1 = no retry). */
  readonly maxAttempts: number;
  /** Backoff cap for the first retry; doubles each attempt. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * Longest Retry-After honoured in-process. A CRM asking for longer (a daily limit) ends the
   * retries: the error goes back to the caller, whose message bus retries later or dead-letters.
   */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
};

export interface RetryHooks {
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly signal?: AbortSignal;
  /** Called before each retry with the error and the delay chosen. */
  readonly onRetry?: (err: ConnectorError, attempt: number, delayMs: number) => void;
}

/**
 * Exponential backoff with full jitter (delay uniform in [0, min(max, initial·2^(n-1))]), or
 * exactly the CRM's Retry-After when it gave one. Only `retryable` errors are retried; a
 * `permanent`, `conflict` or `auth-expired` error is thrown at once. Always throws a
 * ConnectorError.
 */
export async function withRetry<T>(
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  hooks: RetryHooks = {},
): Promise<T> {
  const random = hooks.random ?? Math.random;
  const sleep = hooks.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (raw) {
      if (hooks.signal?.aborted) throw toConnectorError(raw);
      const err = toConnectorError(raw);
      if (err.kind !== 'retryable' || attempt >= policy.maxAttempts) throw err;
      if (err.retryAfterMs !== undefined && err.retryAfterMs > policy.maxRetryAfterMs) throw err;
      const delay = retryDelayMs(policy, attempt, err, random);
      hooks.onRetry?.(err, attempt, delay);
      await sleep(delay, hooks.signal);
    }
  }
}

/** The delay before retry number `attempt` (1-based). */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  err: ConnectorError,
  random: () => number = Math.random,
): number {
  if (err.retryAfterMs !== undefined) return err.retryAfterMs;
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}
