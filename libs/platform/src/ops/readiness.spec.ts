import { ReadinessRegistry } from './readiness';

describe('ReadinessRegistry', () => {
  it('is ready only when every check passes, and names the failing one', async () => {
    const r = new ReadinessRegistry();
    r.register({ name: 'kafka', check: async () => undefined });
    r.register({
      name: 'mongodb',
      check: async () => Promise.reject(new Error('connection refused')),
    });
    expect(await r.report()).toEqual({
      ready: false,
      checks: [
        { name: 'kafka', ok: true },
        { name: 'mongodb', ok: false, error: 'connection refused' },
      ],
    });
  });

  it('treats a check that hangs as not ready', async () => {
    const r = new ReadinessRegistry();
    r.register({ name: 'slow', check: () => new Promise(() => undefined) });
    const report = await r.report(50);
    expect(report.ready).toBe(false);
    expect(report.checks[0].error).toMatch(/did not answer within 50 ms/);
  });
});
