/** Waits `ms`, or rejects with an AbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(): Error {
  const err = new Error('aborted');
  err.name = 'AbortError';
  return err;
}

export interface RateLimit {
  /** Sustained requests per second. */
  readonly requestsPerSecond: number;
  /** Requests that may go at once after a quiet period. */
  readonly burst: number;
}

export interface RateLimiterOptions {
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
  /** No request for this tenant before this time (the CRM said Retry-After). */
  pausedUntil: number;
  limit: RateLimit;
}

/**
 * Per-tenant token buckets, so one tenant's burst cannot use another's CRM quota, plus the
 * CRM's own word: after a Retry-After, every call of that tenant waits until it has passed
 * (not only the call that was refused).
 */
export class TenantRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(
    private readonly defaultLimit: RateLimit,
    options: RateLimiterOptions = {},
  ) {
    assertLimit(defaultLimit);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
  }

  /** Sets a tenant's own limit (e.g. a bigger Salesforce org). */
  setLimit(tenant: string, limit: RateLimit): void {
    assertLimit(limit);
    this.bucket(tenant).limit = limit;
  }

  /** Resolves when the tenant may send one request; the caller then sends it. */
  async acquire(tenant: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.tryTake(tenant);
      if (wait === 0) return;
      await this.sleep(wait, signal);
    }
  }

  /** The CRM asked to wait `ms` (Retry-After): nothing is sent for this tenant before then. */
  pause(tenant: string, ms: number): void {
    const b = this.bucket(tenant);
    b.pausedUntil = Math.max(b.pausedUntil, this.now() + Math.max(0, ms));
  }

  /** Milliseconds until the tenant may send again (0 = now). */
  delayFor(tenant: string): number {
    const b = this.bucket(tenant);
    this.refill(b);
    const paused = Math.max(0, b.pausedUntil - this.now());
    const tokenWait =
      b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) * 1000) / b.limit.requestsPerSecond);
    return Math.max(paused, tokenWait);
  }

  /** 0 and a token taken, or how long to wait before trying again. */
  private tryTake(tenant: string): number {
    const wait = this.delayFor(tenant);
    if (wait > 0) return wait;
    this.bucket(tenant).tokens -= 1;
    return 0;
  }

  private refill(b: Bucket): void {
    const now = this.now();
    const elapsed = Math.max(0, now - b.refilledAt);
    b.tokens = Math.min(b.limit.burst, b.tokens + (elapsed * b.limit.requestsPerSecond) / 1000);
    b.refilledAt = now;
  }

  private bucket(tenant: string): Bucket {
    let b = this.buckets.get(tenant);
    if (!b) {
      b = {
        tokens: this.defaultLimit.burst,
        refilledAt: this.now(),
        pausedUntil: 0,
        limit: this.defaultLimit,
      };
      this.buckets.set(tenant, b);
    }
    return b;
  }
}

function assertLimit(l: RateLimit): void {
  if (!(l.requestsPerSecond > 0) || !(l.burst >= 1))
    throw new Error(`invalid rate limit ${JSON.stringify(l)}: requestsPerSecond > 0, burst >= 1`);
}
