import { ManagedConnector } from '@mandate/connector-sdk';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { CRM_RECORDS } from './collections';
import { EmbeddedCrmAdapter } from './embedded-adapter';
import { EmbeddedCrm, type CrmRecordDoc } from './embedded-crm';

const ACME = tenantId('acme');
const GLOBEX = tenantId('globex');

describe('embedded CRM find', () => {
  let store: InMemoryDocumentStore<CrmRecordDoc>;
  let crm: EmbeddedCrm;
  let connector: ManagedConnector;

  beforeAll(async () => {
    store = new InMemoryDocumentStore<CrmRecordDoc>(CRM_RECORDS);
    crm = new EmbeddedCrm(store);
    const activities = [];
    // More than two store pages of activities, three of them about opp-1 (one without a date).
    for (let i = 0; i < 1200; i++)
      activities.push({
        objectType: 'activity',
        id: `act-${String(i).padStart(4, '0')}`,
        fields: {
          kind: i % 2 ? 'email' : 'note',
          relatedType: 'opportunity',
          relatedId: `opp-${i % 400}`,
          subject: `s${i}`,
          ...(i === 801 ? {} : { occurredAt: `2025-01-${String((i % 28) + 1).padStart(2, '0')}` }),
        },
      });
    await crm.importRecords(ACME, activities);
    await crm.importRecords(ACME, [
      { objectType: 'contact', id: 'con-1', fields: { name: 'Dana Lee', accountId: 'acc-1' } },
      { objectType: 'contact', id: 'con-2', fields: { name: 'dana lee', accountId: 'acc-1' } },
      { objectType: 'contact', id: 'con-3', fields: { name: 'Dana Lee', accountId: 'acc-2' } },
      // Not an activity, though its fields would match.
      { objectType: 'case', id: 'case-1', fields: { relatedId: 'opp-1', kind: 'email' } },
      { objectType: 'user', id: 'usr-1', fields: { role: 'account_executive', active: true } },
      { objectType: 'user', id: 'usr-2', fields: { role: 'account_executive', active: false } },
      { objectType: 'user', id: 'usr-3', fields: { role: 'sdr', active: true } },
      { objectType: 'account', id: 'acc-1', fields: { employees: 250 } },
    ]);
    await crm.importRecords(GLOBEX, [
      { objectType: 'contact', id: 'con-9', fields: { name: 'Dana Lee', accountId: 'acc-1' } },
    ]);
    connector = new ManagedConnector(new EmbeddedCrmAdapter(crm, 'acme'), {
      tenantId: 'acme',
      sleep: async () => undefined,
    });
  });

  const ids = (r: { records: readonly { target: { recordId: string } }[] }) =>
    r.records.map((x) => x.target.recordId);

  it('finds the activities of a record across store pages, newest first, undated last', async () => {
    const r = await connector.find({
      tenantId: 'acme',
      objectType: 'activity',
      equals: { relatedId: 'opp-1' },
      fields: ['occurredAt', 'kind'],
      orderBy: { field: 'occurredAt', descending: true },
    });
    // opp-1: act-0001 (01-02), act-0401 (01-10), act-0801 (no date).
    expect(ids(r)).toEqual(['act-0401', 'act-0001', 'act-0801']);
    expect(r.truncated).toBe(false);
    expect(r.records[0]).toEqual({
      target: { objectType: 'activity', recordId: 'act-0401' },
      fields: { occurredAt: '2025-01-10', kind: 'email' },
    });
    expect(r.records[2].fields).toEqual({ kind: 'email' });
    const asc = await connector.find({
      tenantId: 'acme',
      objectType: 'activity',
      equals: { relatedId: 'opp-1' },
      orderBy: { field: 'occurredAt', descending: false },
      limit: 2,
    });
    expect(ids(asc)).toEqual(['act-0001', 'act-0401']);
    expect(asc.truncated).toBe(true);
  });

  it('orders the whole type when asked, keeping only the best records', async () => {
    const r = await connector.find({
      tenantId: 'acme',
      objectType: 'activity',
      equals: { kind: 'note' },
      fields: ['occurredAt'],
      orderBy: { field: 'occurredAt', descending: true },
      limit: 3,
    });
    // Notes are the even ids; their latest date is 01-27 (i % 28 === 26), ties by id.
    expect(r.records.map((x) => x.fields['occurredAt'])).toEqual([
      '2025-01-27',
      '2025-01-27',
      '2025-01-27',
    ]);
    expect(ids(r)).toEqual(['act-0026', 'act-0054', 'act-0082']);
    expect(r.truncated).toBe(true);
    const without = await connector.find({ tenantId: 'acme', objectType: 'activity', limit: 3 });
    expect(ids(without)).toEqual(['act-0000', 'act-0001', 'act-0002']);
    expect(without.truncated).toBe(true);
  });

  it('compares exact strings: case-sensitive, numbers and booleans by their string form', async () => {
    const dana = await connector.find({
      tenantId: 'acme',
      objectType: 'contact',
      equals: { accountId: 'acc-1', name: 'Dana Lee' },
    });
    expect(ids(dana)).toEqual(['con-1']);
    const aes = await connector.find({
      tenantId: 'acme',
      objectType: 'user',
      equals: { role: 'account_executive', active: 'true' },
      fields: ['role'],
    });
    expect(aes.records).toEqual([
      { target: { objectType: 'user', recordId: 'usr-1' }, fields: { role: 'account_executive' } },
    ]);
    const big = (employees: string) =>
      connector.find({ tenantId: 'acme', objectType: 'account', equals: { employees } });
    expect(ids(await big('250'))).toEqual(['acc-1']);
    expect(ids(await big('250.0'))).toEqual([]);
  });

  it('stays within the tenant and the object type', async () => {
    const r = await connector.find({
      tenantId: 'acme',
      objectType: 'contact',
      equals: { name: 'Dana Lee' },
    });
    expect(ids(r)).toEqual(['con-1', 'con-3']);
    // relatedId is not a declared case field: refused, not silently empty.
    await expect(
      connector.find({ tenantId: 'acme', objectType: 'case', equals: { relatedId: 'opp-1' } }),
    ).rejects.toMatchObject({ kind: 'permanent', code: 'INVALID_FIND_REQUEST' });
  });

  it('surfaces a CRM outage as retryable and retries it', async () => {
    crm.simulateFault({ kind: 'server-error' });
    const r = await connector.find({
      tenantId: 'acme',
      objectType: 'contact',
      equals: { accountId: 'acc-2' },
    });
    expect(ids(r)).toEqual(['con-3']);
    crm.simulateFault({ kind: 'server-error' });
    await expect(
      new EmbeddedCrmAdapter(crm, 'acme').find(
        { tenantId: 'acme', objectType: 'contact', equals: {}, fields: ['name'], limit: 1 },
        { attempt: 1 },
      ),
    ).rejects.toMatchObject({ kind: 'retryable' });
    await expect(
      new EmbeddedCrmAdapter(crm, 'acme').find(
        { tenantId: 'globex', objectType: 'contact', equals: {}, fields: ['name'], limit: 1 },
        { attempt: 1 },
      ),
    ).rejects.toMatchObject({ code: 'TENANT_MISMATCH' });
  });
});
