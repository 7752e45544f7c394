import { status } from '@grpc/grpc-js';
import {
  ConnectorError,
  FIELD_NOT_SORTABLE,
  type ConnectorAdapter,
  type FindRequest,
} from '@mandate/connector-sdk';
import {
  CRM_RECORDS,
  ConnectorRegistry,
  EMBEDDED_CAPABILITIES,
  EmbeddedCrm,
  EmbeddedCrmAdapter,
  type CrmRecordDoc,
} from '@mandate/connectors-domain';
import {
  ConnectorCallError,
  ConnectorRecordsClient,
  GrpcServerHost,
  ProcessMetrics,
  createLogger,
} from '@mandate/platform';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { registerConnectorGrpc } from './connector.grpc-controller';

/** An adapter without `find` (it reads and executes only). */
const noFind = (): ConnectorAdapter => ({
  capabilities: { ...EMBEDDED_CAPABILITIES, connector: 'nofind' },
  execute: async () => ({ status: 'applied' }),
  read: async () => null,
});

/** An adapter whose CRM is down, and which cannot order by anything. */
const flaky = (): ConnectorAdapter => ({
  capabilities: { ...EMBEDDED_CAPABILITIES, connector: 'flaky' },
  execute: async () => ({ status: 'applied' }),
  read: async () => null,
  find: async (request: FindRequest) => {
    if (request.orderBy)
      throw ConnectorError.permanent(
        FIELD_NOT_SORTABLE,
        `cannot order by ${request.orderBy.field}`,
      );
    throw ConnectorError.retryable('UNAVAILABLE', 'the CRM is down');
  },
});

describe('ConnectorService FindRecords over gRPC', () => {
  const host = new GrpcServerHost(
    createLogger('test', 'silent'),
    new ProcessMetrics(false).forService('test'),
  );
  let registry: ConnectorRegistry;
  let client: ConnectorRecordsClient;

  beforeAll(async () => {
    const crm = new EmbeddedCrm(new InMemoryDocumentStore<CrmRecordDoc>(CRM_RECORDS));
    await crm.importRecords(tenantId('acme'), [
      ...[1, 2, 3].map((i) => ({
        objectType: 'activity',
        id: `act-${i}`,
        fields: {
          kind: 'email',
          relatedType: 'opportunity',
          relatedId: 'opp-1',
          subject: `About the renewal ${i}`,
          occurredAt: `2025-03-0${i}T10:00:00.000Z`,
        },
      })),
      {
        objectType: 'activity',
        id: 'act-9',
        fields: { kind: 'note', relatedType: 'opportunity', relatedId: 'opp-2' },
      },
      { objectType: 'contact', id: 'con-1', fields: { name: 'Dana Lee', accountId: 'acc-1' } },
      { objectType: 'contact', id: 'con-2', fields: { name: 'Dan Leigh', accountId: 'acc-1' } },
      {
        objectType: 'user',
        id: 'usr-1',
        fields: { role: 'account_executive', active: true, territory: 'EMEA' },
      },
      { objectType: 'user', id: 'usr-2', fields: { role: 'account_executive', active: false } },
    ]);
    registry = new ConnectorRegistry(
      {
        default: 'none',
        tenants: {
          acme: { connector: 'embedded' },
          initech: { connector: 'nofind' },
          hooli: { connector: 'flaky' },
        },
      },
      {
        embedded: (tenant) => new EmbeddedCrmAdapter(crm, tenant),
        nofind: noFind,
        flaky,
      },
      { retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } },
    );
    registerConnectorGrpc(host, registry);
    const port = await host.start('127.0.0.1', 0);
    client = new ConnectorRecordsClient({ address: `127.0.0.1:${port}` });
  });
  afterAll(async () => {
    client.close();
    await host.stop();
  });

  const codeOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      expect(err).toBeInstanceOf(ConnectorCallError);
      return status[(err as ConnectorCallError).code];
    }
    throw new Error('the call succeeded');
  };

  it("finds a record's activities, newest first, with only the requested fields", async () => {
    const r = await client.findRecords('acme', {
      objectType: 'activity',
      equals: { relatedId: 'opp-1' },
      fields: ['subject', 'occurredAt'],
      orderBy: 'occurredAt',
      descending: true,
      limit: 2,
    });
    expect(r).toEqual({
      records: [
        {
          recordId: 'act-3',
          fields: { subject: 'About the renewal 3', occurredAt: '2025-03-03T10:00:00.000Z' },
        },
        {
          recordId: 'act-2',
          fields: { subject: 'About the renewal 2', occurredAt: '2025-03-02T10:00:00.000Z' },
        },
      ],
      truncated: true,
    });
  });

  it('matches exact string forms (booleans as "true"), every declared field when none is asked', async () => {
    const users = await client.findRecords('acme', {
      objectType: 'user',
      equals: { role: 'account_executive', active: 'true' },
    });
    expect(users).toEqual({
      records: [
        {
          recordId: 'usr-1',
          fields: { role: 'account_executive', active: true, territory: 'EMEA' },
        },
      ],
      truncated: false,
    });
    const dana = await client.findRecords('acme', {
      objectType: 'contact',
      equals: { accountId: 'acc-1', name: 'Dana Lee' },
      fields: ['name'],
    });
    expect(dana.records).toEqual([{ recordId: 'con-1', fields: { name: 'Dana Lee' } }]);
    const everyone = await client.findRecords('acme', { objectType: 'contact', fields: ['name'] });
    expect(everyone.records.map((x) => x.recordId)).toEqual(['con-1', 'con-2']);
  });

  it('answers INVALID_ARGUMENT for bad requests, naming fields but never values', async () => {
    const find = (q: Parameters<ConnectorRecordsClient['findRecords']>[1]) =>
      client.findRecords('acme', q);
    expect(
      await codeOf(find({ objectType: 'contact', equals: { email_hash: 'dana@example.com' } })),
    ).toBe('INVALID_ARGUMENT');
    const err = await find({
      objectType: 'contact',
      equals: { email_hash: 'dana@example.com' },
    }).catch((e: ConnectorCallError) => e);
    expect((err as ConnectorCallError).details).toContain('"email_hash"');
    expect((err as ConnectorCallError).details).not.toContain('dana@example.com');
    expect(await codeOf(find({ objectType: 'contact', fields: ['password'] }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(find({ objectType: 'contact', orderBy: 'salary' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(find({ objectType: 'contact', descending: true }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await codeOf(
        find({
          objectType: 'contact',
          equals: { name: 'a', title: 'b', accountId: 'c', country: 'd', status: 'e' },
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(await codeOf(find({ objectType: 'contact', limit: 201 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(find({ objectType: 'spaceship' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(find({ objectType: '' }))).toBe('INVALID_ARGUMENT');
    expect((await find({ objectType: 'contact', limit: 200 })).records).toHaveLength(2);
  });

  it('answers UNIMPLEMENTED without find, NOT_FOUND without a connector, and maps CRM failures', async () => {
    expect(await codeOf(client.findRecords('initech', { objectType: 'contact' }))).toBe(
      'UNIMPLEMENTED',
    );
    expect(await codeOf(client.findRecords('umbrella', { objectType: 'contact' }))).toBe(
      'NOT_FOUND',
    );
    expect(await codeOf(client.findRecords('Not A Tenant!', { objectType: 'contact' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(client.findRecords('hooli', { objectType: 'contact' }))).toBe(
      'UNAVAILABLE',
    );
    expect(
      await codeOf(client.findRecords('hooli', { objectType: 'contact', orderBy: 'name' })),
    ).toBe('INVALID_ARGUMENT');
  });

  it('reads one record and the capabilities through the same client', async () => {
    expect(await client.getRecord('acme', 'contact', 'con-1', ['name'])).toEqual({
      name: 'Dana Lee',
    });
    expect(await client.getRecord('acme', 'contact', 'con-404')).toBeUndefined();
    expect((await client.getCapabilities('acme')).connector).toBe('embedded');
  });
});
