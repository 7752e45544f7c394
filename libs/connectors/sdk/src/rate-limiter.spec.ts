import { TenantRateLimiter } from './rate-limiter';

function clock() {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    advance: (ms: number) => (t += ms),
    slept,
  };
}

describe('TenantRateLimiter', () => {
  it('lets a burst through, then paces at the sustained rate', async () => {
    const c = clock();
    const l = new TenantRateLimiter({ requestsPerSecond: 10, burst: 3 }, c);
    for (let i = 0; i < 3; i++) await l.acquire('acme');
    expect(c.slept).toEqual([]);
    await l.acquire('acme');
    expect(c.slept).toEqual([100]);
  });

  it('keeps tenants apart: one tenant exhausting its bucket does not slow another', async () => {
    const c = clock();
    const l = new TenantRateLimiter({ requestsPerSecond: 1, burst: 1 }, c);
    await l.acquire('acme');
    expect(l.delayFor('acme')).toBe(1000);
    expect(l.delayFor('globex')).toBe(0);
  });

  it('holds every call of a tenant until its Retry-After has passed', async () => {
    const c = clock();
    const l = new TenantRateLimiter({ requestsPerSecond: 100, burst: 100 }, c);
    l.pause('acme', 2500);
    expect(l.delayFor('acme')).toBe(2500);
    await l.acquire('acme');
    expect(c.slept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2500);
    expect(l.delayFor('globex')).toBe(0);
  });

  it('honours a tenant-specific limit', () => {
    const c = clock();
    const l = new TenantRateLimiter({ requestsPerSecond: 1, burst: 1 }, c);
    l.setLimit('big', { requestsPerSecond: 100, burst: 50 });
    expect(() => l.setLimit('x', { requestsPerSecond: 0, burst: 1 })).toThrow(/invalid rate limit/);
  });

  it('stops waiting when aborted', async () => {
    const l = new TenantRateLimiter({ requestsPerSecond: 0.001, burst: 1 });
    await l.acquire('acme');
    const stop = new AbortController();
    const p = l.acquire('acme', stop.signal);
    stop.abort();
    await expect(p).rejects.toThrow('aborted');
  });
});
