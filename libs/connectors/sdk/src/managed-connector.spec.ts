import { CrmAction } from '@mandate/contracts';
import type { ChangeRecord, ConnectorAdapter } from './adapter';
import type { ConnectorCapabilities } from './capabilities';
import { ChangeFeedPoller, toCrmChangeEvent } from './change-feed';
import { ConnectorError } from './errors';
import { ManagedConnector, type ConnectorCallEvent } from './managed-connector';
import { TenantRateLimiter } from './rate-limiter';

const CAPS: ConnectorCapabilities = {
  connector: 'fake',
  objects: [{ objectType: 'lead', fields: [{ name: 'status', classification: 'internal' }] }],
  actions: ['update_field'],
  reversibleActions: [],
  changeFeed: 'polling',
  crmSideIdempotency: false,
  rateLimit: { requestsPerSecond: 10, burst: 10 },
};
const action = CrmAction.fromPartial({
  kind: { $case: 'updateField', value: { field: 'status', value: 'x', previousValue: '' } },
});
const request = {
  tenantId: 'acme',
  idempotencyKey: 'k',
  target: { objectType: 'lead', recordId: 'l1' },
  action,
};

function change(i: number): ChangeRecord {
  return {
    target: { objectType: 'lead', recordId: `l${i}` },
    change: 'updated',
    changedFields: ['status'],
    snapshot: { status: `s${i}` },
    occurredAt: new Date(1_700_000_000_000 + i),
    sourceId: `l${i}@${i}`,
  };
}

describe('ManagedConnector', () => {
  it('refuses an adapter whose capabilities are malformed', () => {
    const bad = {
      capabilities: { ...CAPS, actions: ['teleport'] },
      execute: jest.fn(),
      read: jest.fn(),
    };
    expect(() => new ManagedConnector(bad as ConnectorAdapter, { tenantId: 'acme' })).toThrow(
      /unknown action type "teleport"/,
    );
  });

  it('retries retryable errors, pauses the tenant for Retry-After, and reports each call', async () => {
    const events: ConnectorCallEvent[] = [];
    const retries: string[] = [];
    const slept: number[] = [];
    let calls = 0;
    const adapter: ConnectorAdapter = {
      capabilities: CAPS,
      execute: async (_r, ctx) => {
        calls++;
        if (ctx.attempt === 1)
          throw ConnectorError.retryable('RATE', 'slow', { retryAfterMs: 1500 });
        return { status: 'applied' };
      },
      read: async () => null,
    };
    const limiter = new TenantRateLimiter(CAPS.rateLimit);
    const m = new ManagedConnector(adapter, {
      tenantId: 'acme',
      limiter,
      sleep: async (ms) => void slept.push(ms),
      telemetry: {
        call: (e) => void events.push(e),
        retry: (e) => void retries.push(e.code),
        throttled: () => undefined,
      },
    });
    expect((await m.execute(request)).status).toBe('applied');
    expect(calls).toBe(2);
    expect(slept).toContain(1500);
    expect(retries).toEqual(['RATE']);
    expect(events).toEqual([
      expect.objectContaining({
        connector: 'fake',
        operation: 'execute',
        outcome: 'ok',
        attempts: 2,
      }),
    ]);
  });

  it('reports a failure with its kind and code, and never retries it', async () => {
    const events: ConnectorCallEvent[] = [];
    const adapter: ConnectorAdapter = {
      capabilities: CAPS,
      execute: async () => {
        throw ConnectorError.authExpired('INVALID_SESSION_ID', 'expired');
      },
      read: async () => null,
    };
    const m = new ManagedConnector(adapter, {
      tenantId: 'acme',
      telemetry: {
        call: (e) => void events.push(e),
        retry: () => undefined,
        throttled: () => undefined,
      },
    });
    await expect(m.execute(request)).rejects.toMatchObject({ kind: 'auth-expired' });
    expect(events[0]).toMatchObject({
      outcome: 'auth-expired',
      code: 'INVALID_SESSION_ID',
      attempts: 1,
    });
    await expect(m.compensate({ ...request, undo: {} })).rejects.toMatchObject({
      code: 'NOT_REVERSIBLE',
    });
    await expect(
      m.parseWebhook({
        method: 'POST',
        url: '',
        headers: {},
        rawBody: Buffer.from(''),
        receivedAt: new Date(),
      }),
    ).rejects.toMatchObject({ code: 'NO_WEBHOOK' });
  });
});

describe('ChangeFeedPoller', () => {
  it('hands each page to the sink before it saves the cursor, and resumes from it', async () => {
    const feed = [1, 2, 3, 4, 5].map(change);
    const adapter: ConnectorAdapter = {
      capabilities: CAPS,
      execute: async () => ({ status: 'applied' }),
      read: async () => null,
      pollChanges: async (_t, cursor, limit) => {
        const from = cursor ? Number(cursor) : 0;
        const page = feed.slice(from, from + limit);
        return {
          changes: page,
          nextCursor: String(from + page.length),
          hasMore: from + page.length < feed.length,
        };
      },
    };
    const saved = new Map<string, string>();
    const cursors = {
      load: async () => saved.get('c'),
      save: async (_t: string, _c: string, v: string) => void saved.set('c', v),
    };
    const seen: string[] = [];
    let failNext = false;
    const sink = async (events: readonly { recordId: string }[]) => {
      if (failNext) {
        failNext = false;
        throw new Error('sink down');
      }
      seen.push(...events.map((e) => e.recordId));
    };
    const m = new ManagedConnector(adapter, { tenantId: 'acme' });
    const poller = new ChangeFeedPoller(m, cursors, sink, 2);
    expect(await poller.pollOnce()).toEqual({ events: 2, hasMore: true });
    failNext = true;
    await expect(poller.pollOnce()).rejects.toThrow('sink down');
    expect(saved.get('c')).toBe('2'); // not moved past what the sink did not take
    expect(await poller.drain()).toBe(3);
    expect(seen).toEqual(['l1', 'l2', 'l3', 'l4', 'l5']);
  });

  it('derives a stable event id from the change source id', () => {
    const a = toCrmChangeEvent('acme', 'fake', change(1));
    const b = toCrmChangeEvent('acme', 'fake', change(1));
    const other = toCrmChangeEvent('globex', 'fake', change(1));
    expect(a.eventId).toBe(b.eventId);
    expect(a.eventId).not.toBe(other.eventId);
    expect([a.sourceSystem, a.objectType, a.recordId, a.changedFields]).toEqual([
      'fake',
      'lead',
      'l1',
      ['status'],
    ]);
  });
});
