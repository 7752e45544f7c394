import { normalizeFindQuery, type FindQuery } from '@mandate/connector-sdk';
import type { HubSpotAdapter } from './hubspot.adapter';
import { hubspotTestBed, type HubSpotTestBed } from './testing';

const ctx = { attempt: 1 };
let bed: HubSpotTestBed;
let adapter: HubSpotAdapter;

beforeEach(async () => {
  bed = await hubspotTestBed();
  adapter = bed.newAdapter();
});
afterEach(() => bed.fake.close());

/** What the adapter receives from the SDK for a query. */
const find = (q: Omit<FindQuery, 'tenantId'>) =>
  adapter.find(
    normalizeFindQuery(adapter.capabilities, { tenantId: bed.config.tenantId, ...q }),
    ctx,
  );

const ids = (r: { records: readonly { target: { recordId: string } }[] }) =>
  r.records.map((x) => x.target.recordId);

/** The bodies of the search requests the fake received since `from`. */
const searches = (from = 0) =>
  bed.fake.requests
    .slice(from)
    .filter((r) => r.path.endsWith('/search'))
    .map((r) => r.body as Record<string, unknown>);

describe('HubSpotAdapter.find (CRM search API)', () => {
  it("finds a company's contacts by their primary company, with one search and one association read", async () => {
    const acme = bed.seed('account', { name: 'Acme' });
    const globex = bed.seed('account', { name: 'Globex' });
    const dana = bed.seed('contact', { name: 'Dana Lee', title: 'CFO' });
    const dan = bed.seed('contact', { name: 'Dan Leigh' });
    const moved = bed.seed('contact', { name: 'Moved Away' });
    bed.fake.associate('contacts', dana, 'companies', acme, 1); // primary
    bed.fake.associate('contacts', dan, 'companies', acme); // the only one
    bed.fake.associate('contacts', moved, 'companies', globex, 1); // primary elsewhere
    bed.fake.associate('contacts', moved, 'companies', acme);
    const before = bed.fake.requests.length;
    const r = await find({
      objectType: 'contact',
      equals: { accountId: acme },
      fields: ['name', 'title', 'accountId'],
    });
    expect(r).toEqual({
      records: [
        {
          target: { objectType: 'contact', recordId: dana },
          fields: { name: 'Dana Lee', title: 'CFO', accountId: acme },
        },
        {
          target: { objectType: 'contact', recordId: dan },
          fields: { name: 'Dan Leigh', accountId: acme },
        },
      ],
      truncated: false,
    });
    expect(bed.fake.requests.slice(before).map((q) => `${q.method} ${q.path}`)).toEqual([
      'POST /crm/v3/objects/contacts/search',
      'POST /crm/v4/associations/contacts/companies/batch/read',
    ]);
    expect(searches(before)[0]).toEqual({
      filterGroups: [
        { filters: [{ propertyName: 'associations.company', operator: 'EQ', value: acme }] },
      ],
      sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' }],
      properties: ['firstname', 'lastname', 'jobtitle'],
      limit: 51,
    });
  });

  it('re-checks exactly what HubSpot matched loosely, paging on for enough matches', async () => {
    for (let i = 0; i < 3; i++) bed.seed('account', { name: 'ACME' });
    const acme = bed.seed('account', { name: 'Acme' });
    bed.seed('account', { name: 'Acme Two' });
    const before = bed.fake.requests.length;
    const r = await find({ objectType: 'account', equals: { name: 'Acme' }, limit: 1 });
    expect([ids(r), r.truncated]).toEqual([[acme], false]);
    expect(searches(before).map((b) => [b['limit'], b['after']])).toEqual([
      [2, undefined],
      [200, '2'],
    ]);
    const big = bed.seed('account', { name: 'Big', employees: 250 });
    expect(ids(await find({ objectType: 'account', equals: { employees: '250' } }))).toEqual([big]);
    const n = bed.fake.requests.length;
    expect(await find({ objectType: 'account', equals: { employees: '250.0' } })).toEqual({
      records: [],
      truncated: false,
    });
    expect(await find({ objectType: 'account', equals: { name: '' } })).toEqual({
      records: [],
      truncated: false,
    });
    expect(bed.fake.requests.length).toBe(n); // nothing can match: nothing sent
  });

  it('orders with records without a value last, in both directions', async () => {
    const s10 = bed.seed('account', { name: 'Same', employees: 10 });
    const s30 = bed.seed('account', { name: 'Same', employees: 30 });
    const none = bed.seed('account', { name: 'Same' });
    const s20 = bed.seed('account', { name: 'Same', employees: 20 });
    const q = (descending: boolean, limit?: number) =>
      find({
        objectType: 'account',
        equals: { name: 'Same' },
        fields: ['employees'],
        orderBy: { field: 'employees', descending },
        limit,
      });
    expect(ids(await q(true))).toEqual([s30, s20, s10, none]);
    const asc = await q(false);
    expect(ids(asc)).toEqual([s10, s20, s30, none]);
    expect(asc.records[3].fields).toEqual({});
    const before = bed.fake.requests.length;
    const two = await q(false, 2);
    expect([ids(two), two.truncated]).toEqual([[s10, s20], true]);
    expect(searches(before)).toHaveLength(1); // enough with a value: no second search
  });

  it('refuses names, amounts and association order before any request', async () => {
    const before = bed.fake.requests.length;
    await expect(
      find({ objectType: 'contact', equals: { name: 'Dana Lee' } }),
    ).rejects.toMatchObject({ kind: 'permanent', code: 'FIELD_NOT_FILTERABLE' });
    await expect(
      find({ objectType: 'opportunity', equals: { amountMinor: '100' } }),
    ).rejects.toMatchObject({ code: 'FIELD_NOT_FILTERABLE' });
    for (const field of ['amountMinor', 'accountId', 'name'])
      await expect(
        find({
          objectType: field === 'name' ? 'lead' : 'opportunity',
          orderBy: { field, descending: false },
        }),
      ).rejects.toMatchObject({ code: 'FIELD_NOT_SORTABLE' });
    expect(bed.fake.requests.length).toBe(before);
  });

  it('stops after a bounded scan and says truncated; maps HubSpot failures', async () => {
    for (let i = 0; i < 1100; i++) bed.seed('account', { name: 'SAME' });
    const before = bed.fake.requests.length;
    const r = await find({ objectType: 'account', equals: { name: 'Same' }, limit: 200 });
    expect(r).toEqual({ records: [], truncated: true });
    expect(searches(before)).toHaveLength(5);
    bed.fake.injectFault({ kind: 'server-error' });
    await expect(find({ objectType: 'account' })).rejects.toMatchObject({ kind: 'retryable' });
  });
});
