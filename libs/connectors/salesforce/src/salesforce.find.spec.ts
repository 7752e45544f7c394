import { ConnectorError, normalizeFindQuery, type FindQuery } from '@mandate/connector-sdk';
import { findSoql, soqlLiteral, soqlString } from './find-query';
import { salesforceHarness, type SalesforceHarness } from './testing';

const ctx = { attempt: 1 };
const open: SalesforceHarness[] = [];

async function harness(): Promise<SalesforceHarness> {
  const h = await salesforceHarness();
  open.push(h);
  return h;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** What the adapter receives from the SDK for a query. */
const find = (h: SalesforceHarness, q: Omit<FindQuery, 'tenantId'>) =>
  h.adapter.find(normalizeFindQuery(h.adapter.capabilities, { tenantId: h.tenantId, ...q }), ctx);

/** The SOQL of every query the fake org received since `from`. */
const queries = (h: SalesforceHarness, from = 0) =>
  h.fake.requests
    .slice(from)
    .filter((r) => r.path.endsWith('/query'))
    .map((r) => r.query.replace(/^q=/, ''));

const ids = (r: { records: readonly { target: { recordId: string } }[] }) =>
  r.records.map((x) => x.target.recordId);

describe('Salesforce find: SOQL', () => {
  it('escapes string literals and refuses control characters SOQL cannot express', () => {
    expect(soqlString(`O'Brien \\ "quoted"\n\t`)).toBe(`'O\\'Brien \\\\ \\"quoted\\"\\n\\t'`);
    expect(soqlString("' OR Name != '")).toBe("'\\' OR Name != \\''");
    expect(() => soqlString('a\u0000b')).toThrow(ConnectorError);
  });

  it('types literals by the canonical kind; a value no field of that kind holds gives none', () => {
    expect(soqlLiteral('number', '250', 2)).toBe('250');
    expect(soqlLiteral('number', '12.5', 2)).toBe('12.5');
    for (const v of ['250.0', '0250', '1e3', '', 'abc', ' 1'])
      expect(soqlLiteral('number', v, 2)).toBeUndefined();
    expect(soqlLiteral('minor-units', '5000000', 2)).toBe('50000.00');
    expect(soqlLiteral('minor-units', '-5', 2)).toBe('-0.05');
    expect(soqlLiteral('minor-units', '5', 0)).toBe('5');
    expect(soqlLiteral('minor-units', '12.5', 2)).toBeUndefined();
    expect(soqlLiteral('boolean', 'true', 2)).toBe('true');
    expect(soqlLiteral('boolean', 'TRUE', 2)).toBeUndefined();
    expect(soqlLiteral('date', '2025-03-01', 2)).toBe('2025-03-01');
    expect(soqlLiteral('date', '2025-3-1', 2)).toBeUndefined();
    expect(soqlLiteral('datetime', '2025-01-01T10:00:00.000+0000', 2)).toBe('2025-01-01T10:00:00Z');
    expect(soqlLiteral('string', 'Acme', 2)).toBe("'Acme'");
  });

  it('orders by the field with nulls last, ties and no order by Id', () => {
    expect(
      findSoql({
        sobject: 'Contact',
        select: ['Name', 'AccountId', 'Name'],
        where: [['AccountId', "'001'"]],
        orderBy: { field: 'Name', descending: true },
        limit: 51,
      }),
    ).toBe(
      "SELECT Id, Name, AccountId FROM Contact WHERE AccountId = '001' ORDER BY Name DESC NULLS LAST, Id ASC LIMIT 51",
    );
    expect(findSoql({ sobject: 'Lead', select: [], where: [], limit: 3 })).toBe(
      'SELECT Id FROM Lead ORDER BY Id ASC LIMIT 3',
    );
  });
});

describe('SalesforceAdapter.find against the fake org', () => {
  it("finds an account's contacts with one query, only the requested fields", async () => {
    const h = await harness();
    const acme = await h.seed('account', { name: 'Acme' });
    const other = await h.seed('account', { name: 'Globex' });
    const dana = await h.seed('contact', { name: 'Dana Lee', accountId: acme, title: 'CFO' });
    const dan = await h.seed('contact', { name: 'Dan Leigh', accountId: acme });
    await h.seed('contact', { name: 'Dana Lee', accountId: other });
    const before = h.fake.requests.length;
    const r = await find(h, {
      objectType: 'contact',
      equals: { accountId: acme },
      fields: ['name', 'title'],
      orderBy: { field: 'name', descending: false },
    });
    expect(r.records).toEqual([
      { target: { objectType: 'contact', recordId: dan }, fields: { name: 'Dan Leigh' } },
      {
        target: { objectType: 'contact', recordId: dana },
        fields: { name: 'Dana Lee', title: 'CFO' },
      },
    ]);
    expect(r.truncated).toBe(false);
    expect(queries(h, before)).toEqual([
      `SELECT Id, Name, Title, AccountId FROM Contact WHERE AccountId = '${acme}' ORDER BY Name ASC NULLS LAST, Id ASC LIMIT 51`,
    ]);
  });

  it('matches exactly: a quote or an injection attempt is a literal, other cases are re-checked out', async () => {
    const h = await harness();
    const obrien = await h.seed('lead', { company: `O'Brien & "Sons" \\ Ltd`, status: 'New' });
    await h.seed('lead', { company: 'Acme', status: 'New' });
    const exact = await find(h, {
      objectType: 'lead',
      equals: { company: `O'Brien & "Sons" \\ Ltd` },
    });
    expect(ids(exact)).toEqual([obrien]);
    const injected = await find(h, {
      objectType: 'lead',
      equals: { company: "x' OR Company != 'x" },
    });
    expect(injected).toEqual({ records: [], truncated: false });

    // Three "ACME" leads sort before the "Acme" one: SOQL returns them (it ignores case), the
    // adapter drops them and asks again with a larger LIMIT.
    const h2 = await harness();
    for (let i = 0; i < 3; i++) await h2.seed('lead', { company: 'ACME', status: 'New' });
    const acme = await h2.seed('lead', { company: 'Acme', status: 'New' });
    const before = h2.fake.requests.length;
    const r = await find(h2, { objectType: 'lead', equals: { company: 'Acme' }, limit: 1 });
    expect(ids(r)).toEqual([acme]);
    expect(r.truncated).toBe(false);
    expect(queries(h2, before).map((q) => q.replace(/.* LIMIT /, 'LIMIT '))).toEqual([
      'LIMIT 2',
      'LIMIT 8',
    ]);
  });

  it('compares numbers, amounts and booleans in their canonical form', async () => {
    const h = await harness();
    const big = await h.seed('account', { name: 'Big', employees: 250 });
    await h.seed('account', { name: 'Small', employees: 25 });
    expect(ids(await find(h, { objectType: 'account', equals: { employees: '250' } }))).toEqual([
      big,
    ]);
    const before = h.fake.requests.length;
    expect(await find(h, { objectType: 'account', equals: { employees: '250.0' } })).toEqual({
      records: [],
      truncated: false,
    });
    expect(queries(h, before)).toEqual([]); // no value of a number field reads "250.0"
    const deal = await h.seed('opportunity', {
      name: 'Deal',
      stage: 'Prospecting',
      amountMinor: 5_000_000,
    });
    const r = await find(h, {
      objectType: 'opportunity',
      equals: { amountMinor: '5000000' },
      fields: ['amountMinor'],
    });
    expect(r.records).toEqual([
      { target: { objectType: 'opportunity', recordId: deal }, fields: { amountMinor: 5_000_000 } },
    ]);
    expect(queries(h).pop()).toContain('WHERE Amount = 50000.00');
    const out = await h.seed('lead', { company: 'Opted', optedOut: true });
    await h.seed('lead', { company: 'In', optedOut: false });
    expect(ids(await find(h, { objectType: 'lead', equals: { optedOut: 'true' } }))).toEqual([out]);
  });

  it('orders descending with records without a value last, and says truncated', async () => {
    const h = await harness();
    const s10 = await h.seed('lead', { company: 'Same', score: 10 });
    const s30 = await h.seed('lead', { company: 'Same', score: 30 });
    const none = await h.seed('lead', { company: 'Same' });
    const s20 = await h.seed('lead', { company: 'Same', score: 20 });
    const all = await find(h, {
      objectType: 'lead',
      equals: { company: 'Same' },
      fields: ['score'],
      orderBy: { field: 'score', descending: true },
    });
    expect(ids(all)).toEqual([s30, s20, s10, none]);
    expect(all.records[3].fields).toEqual({});
    const two = await find(h, {
      objectType: 'lead',
      equals: { company: 'Same' },
      orderBy: { field: 'score', descending: false },
      limit: 2,
    });
    expect([ids(two), two.truncated]).toEqual([[s10, s20], true]);
  });

  it('refuses long text areas before any request, and maps CRM failures', async () => {
    const h = await harness();
    const before = h.fake.requests.length;
    await expect(find(h, { objectType: 'lead', equals: { notes: 'x' } })).rejects.toMatchObject({
      kind: 'permanent',
      code: 'FIELD_NOT_FILTERABLE',
    });
    await expect(
      find(h, { objectType: 'case', orderBy: { field: 'description', descending: false } }),
    ).rejects.toMatchObject({ kind: 'permanent', code: 'FIELD_NOT_SORTABLE' });
    expect(h.fake.requests.length).toBe(before);
    h.injectFault({ kind: 'server-error' });
    await expect(find(h, { objectType: 'lead' })).rejects.toMatchObject({ kind: 'retryable' });
    await expect(
      h.adapter.find(
        { tenantId: 'someone-else', objectType: 'lead', equals: {}, fields: ['company'], limit: 1 },
        ctx,
      ),
    ).rejects.toMatchObject({ code: 'WRONG_TENANT' });
  });
});
