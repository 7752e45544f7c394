import type { ConnectorAdapter, FindRequest } from './adapter';
import type { ConnectorCapabilities } from './capabilities';
import { ConnectorError } from './errors';
import {
  FIND_LIMITS,
  compareFindValues,
  findOrderComparator,
  findQueryProblems,
  findValueMatches,
  isFindRequestError,
  matchesFindConditions,
  normalizeFindQuery,
} from './find';
import { ManagedConnector, type ConnectorCallEvent } from './managed-connector';

const CAPS: ConnectorCapabilities = {
  connector: 'fake',
  objects: [
    {
      objectType: 'activity',
      fields: [
        { name: 'relatedId', classification: 'internal' },
        { name: 'kind', classification: 'internal' },
        { name: 'occurredAt', classification: 'internal' },
        { name: 'body', classification: 'confidential' },
      ],
    },
  ],
  actions: [],
  reversibleActions: [],
  changeFeed: 'none',
  crmSideIdempotency: false,
  rateLimit: { requestsPerSecond: 10, burst: 10 },
};

describe('find requests', () => {
  const q = { tenantId: 'acme', objectType: 'activity' };

  it('fills the defaults: every declared field, limit 50, no order', () => {
    expect(normalizeFindQuery(CAPS, { ...q, equals: { relatedId: 'opp-1' } })).toEqual({
      tenantId: 'acme',
      objectType: 'activity',
      equals: { relatedId: 'opp-1' },
      fields: ['relatedId', 'kind', 'occurredAt', 'body'],
      limit: FIND_LIMITS.defaultLimit,
    });
    expect(
      normalizeFindQuery(CAPS, {
        ...q,
        fields: ['kind', 'kind', 'body'],
        orderBy: { field: 'occurredAt', descending: true },
        limit: 200,
      }),
    ).toMatchObject({
      equals: {},
      fields: ['kind', 'body'],
      orderBy: { field: 'occurredAt', descending: true },
      limit: 200,
    });
  });

  it('names every problem: undeclared object, fields, conditions and order; too many conditions; limits', () => {
    expect(findQueryProblems(CAPS, { ...q, objectType: 'lead' })).toEqual([
      'fake declares no object type "lead"',
    ]);
    expect(
      findQueryProblems(CAPS, {
        ...q,
        equals: { relatedId: 'a', kind: 'b', occurredAt: 'c', body: 'd', password: 'e' },
        fields: ['ssn'],
        orderBy: { field: 'salary', descending: false },
        limit: 201,
      }),
    ).toEqual([
      'equals has 5 conditions; at most 4',
      'equals: activity has no field(s) "password"',
      'fields: activity has no field(s) "ssn"',
      'orderBy: activity has no field(s) "salary"',
      'limit must be an integer within 1..200',
    ]);
    for (const limit of [0, -1, 1.5, Number.NaN])
      expect(findQueryProblems(CAPS, { ...q, limit })).toEqual([
        'limit must be an integer within 1..200',
      ]);
    expect(findQueryProblems(CAPS, { ...q, limit: 1 })).toEqual([]);
  });

  it('refuses with a permanent INVALID_FIND_REQUEST that never echoes a value', () => {
    let err: unknown;
    try {
      normalizeFindQuery(CAPS, { ...q, equals: { email: 'dana@example.com' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ kind: 'permanent', code: 'INVALID_FIND_REQUEST' });
    expect((err as Error).message).toContain('"email"');
    expect((err as Error).message).not.toContain('dana@example.com');
    expect(isFindRequestError(err)).toBe(true);
    expect(isFindRequestError(ConnectorError.permanent('FIELD_NOT_SORTABLE', 'x'))).toBe(true);
    expect(isFindRequestError(ConnectorError.permanent('RECORD_NOT_FOUND', 'x'))).toBe(false);
  });

  it('compares exact strings of scalars: case-sensitive, numbers and booleans by String()', () => {
    expect(findValueMatches('Dana Lee', 'Dana Lee')).toBe(true);
    expect(findValueMatches('Dana Lee', 'dana lee')).toBe(false);
    expect(findValueMatches(250, '250')).toBe(true);
    expect(findValueMatches(250, '250.0')).toBe(false);
    expect(findValueMatches(true, 'true')).toBe(true);
    expect(findValueMatches('', '')).toBe(true);
    for (const missing of [undefined, null, {}, ['x'], Number.NaN])
      expect(findValueMatches(missing, String(missing))).toBe(false);
    expect(matchesFindConditions({ a: 'x', b: 2 }, { a: 'x', b: '2' })).toBe(true);
    expect(matchesFindConditions({ a: 'x' }, { a: 'x', b: 'undefined' })).toBe(false);
    expect(matchesFindConditions({}, { toString: 'function toString() { [native code] }' })).toBe(
      false,
    );
    expect(matchesFindConditions({ a: 'x' }, {})).toBe(true);
  });

  it('orders numbers numerically, strings by code unit, records without a value last both ways, ties by id', () => {
    expect(compareFindValues(9, 10)).toBeLessThan(0);
    expect(compareFindValues('B', 'a')).toBeLessThan(0);
    expect(compareFindValues(false, true)).toBeLessThan(0);
    expect(compareFindValues(undefined, 'a')).toBeGreaterThan(0);
    const rows = [
      { id: 'r4', f: {} },
      { id: 'r2', f: { at: '2025-01-02' } },
      { id: 'r3', f: { at: '2025-01-01' } },
      { id: 'r1', f: { at: '2025-01-02' } },
    ];
    const ids = (order?: { field: string; descending: boolean }) =>
      [...rows]
        .sort(
          findOrderComparator(
            order,
            (r) => r.f,
            (r) => r.id,
          ),
        )
        .map((r) => r.id);
    expect(ids({ field: 'at', descending: false })).toEqual(['r3', 'r1', 'r2', 'r4']);
    expect(ids({ field: 'at', descending: true })).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(ids()).toEqual(['r1', 'r2', 'r3', 'r4']);
  });
});

describe('ManagedConnector.find', () => {
  const base = { tenantId: 'acme', objectType: 'activity', equals: { relatedId: 'opp-1' } };

  it('hands the adapter the checked request, retries retryable errors and reports the call', async () => {
    const seen: FindRequest[] = [];
    const events: ConnectorCallEvent[] = [];
    const adapter: ConnectorAdapter = {
      capabilities: CAPS,
      execute: jest.fn(),
      read: jest.fn(),
      find: async (request, ctx) => {
        seen.push(request);
        if (ctx.attempt === 1) throw ConnectorError.retryable('UNAVAILABLE', 'down');
        return {
          records: [{ target: { objectType: 'activity', recordId: 'a1' }, fields: { kind: 'x' } }],
          truncated: false,
        };
      },
    };
    const m = new ManagedConnector(adapter, {
      tenantId: 'acme',
      sleep: async () => undefined,
      telemetry: {
        call: (e) => void events.push(e),
        retry: () => undefined,
        throttled: () => undefined,
      },
    });
    expect(m.supportsFind).toBe(true);
    const result = await m.find({ ...base, fields: ['kind'] });
    expect(result.records.map((r) => r.target.recordId)).toEqual(['a1']);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual({
      tenantId: 'acme',
      objectType: 'activity',
      equals: { relatedId: 'opp-1' },
      fields: ['kind'],
      limit: 50,
    });
    expect(events).toEqual([
      expect.objectContaining({ operation: 'find', outcome: 'ok', attempts: 2 }),
    ]);
  });

  it('refuses an invalid request before any CRM call, and answers FIND_UNSUPPORTED without find', async () => {
    const find = jest.fn();
    const m = new ManagedConnector(
      { capabilities: CAPS, execute: jest.fn(), read: jest.fn(), find },
      { tenantId: 'acme' },
    );
    await expect(m.find({ ...base, limit: 500 })).rejects.toMatchObject({
      kind: 'permanent',
      code: 'INVALID_FIND_REQUEST',
    });
    expect(find).not.toHaveBeenCalled();

    const without = new ManagedConnector(
      { capabilities: CAPS, execute: jest.fn(), read: jest.fn() },
      { tenantId: 'acme' },
    );
    expect(without.supportsFind).toBe(false);
    await expect(without.find(base)).rejects.toMatchObject({
      kind: 'permanent',
      code: 'FIND_UNSUPPORTED',
    });
  });
});
