import { createHmac } from 'node:crypto';
import { FakeSalesforce } from './fake-salesforce';
import { parseSoql } from './fake-soql';

/** The fake's HTTP shapes, checked from the outside as a Salesforce client would see them. */
describe('FakeSalesforce', () => {
  let fake: FakeSalesforce;
  let token: string;
  const api = '/services/data/v62.0';

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${fake.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };

  beforeEach(async () => {
    fake = await FakeSalesforce.start({ schema: { Lead: ['LastName', 'Company', 'Status'] } });
    const res = await fetch(`${fake.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: fake.refreshToken,
        client_id: fake.clientId,
        client_secret: fake.clientSecret,
      }).toString(),
    });
    const grant = (await res.json()) as Record<string, string>;
    token = grant.access_token;
    expect(Object.keys(grant).sort()).toEqual(
      [
        'access_token',
        'id',
        'instance_url',
        'issued_at',
        'scope',
        'signature',
        'token_type',
      ].sort(),
    );
    expect(grant.signature).toBe(
      createHmac('sha256', fake.clientSecret)
        .update(grant.id + grant.issued_at)
        .digest('base64'),
    );
  });

  afterEach(() => fake.close());

  it('answers 401 INVALID_SESSION_ID without a valid session, and invalid_grant for a bad refresh token', async () => {
    fake.expireAccessTokens();
    expect(await call('GET', `${api}/sobjects/Lead/x`)).toMatchObject({
      status: 401,
      body: [
        { errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid', fields: [] },
      ],
    });
    const res = await fetch(`${fake.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&refresh_token=nope&client_id=${fake.clientId}&client_secret=${fake.clientSecret}`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'expired access/refresh token',
    });
    expect(fake.requests.at(-1)!.body).toEqual({ grant_type: 'refresh_token' });
  });

  it('creates, reads with ?fields=, updates (204) and reports INVALID_FIELD and Sforce-Limit-Info', async () => {
    const created = await call('POST', `${api}/sobjects/Lead`, {
      LastName: 'Ada',
      Company: 'Acme',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^00Q[A-Za-z0-9]{15}$/),
      success: true,
      errors: [],
    });
    const id = created.body.id;
    expect(await call('GET', `${api}/sobjects/Lead/${id}?fields=Company,Status`)).toMatchObject({
      status: 200,
      body: {
        attributes: { type: 'Lead', url: `${api}/sobjects/Lead/${id}` },
        Company: 'Acme',
        Status: null,
      },
    });
    expect((await call('PATCH', `${api}/sobjects/Lead/${id}`, { Status: 'Working' })).status).toBe(
      204,
    );
    const bad = await call('PATCH', `${api}/sobjects/Lead/${id}`, { Colour__c: 'red' });
    expect(bad).toMatchObject({
      status: 400,
      body: [{ errorCode: 'INVALID_FIELD', fields: ['Colour__c'] }],
    });
    expect(bad.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/15000$/);
    expect(fake.writeCount()).toBe(2);
  });

  it('upserts by external id: 201 created, 204 updated, 300 when the value is not unique', async () => {
    const url = `${api}/sobjects/Task/Mandate_Idempotency_Key__c/k1`;
    const first = await call('PATCH', url, { Subject: 'a' });
    expect(first).toMatchObject({
      status: 201,
      body: { success: true, errors: [], created: true },
    });
    expect((await call('PATCH', url, { Subject: 'b' })).status).toBe(204);
    expect(fake.find('Task')).toEqual([
      expect.objectContaining({ Subject: 'b', Mandate_Idempotency_Key__c: 'k1' }),
    ]);
    fake.seed('Account', { Ext__c: 'dup' });
    fake.seed('Account', { Ext__c: 'dup' });
    expect((await call('PATCH', `${api}/sobjects/Account/Ext__c/dup`, { Name: 'x' })).status).toBe(
      300,
    );
  });

  it('If-Unmodified-Since: 412 when the record changed after the date', async () => {
    const id = fake.seed('Lead', { LastName: 'Ada' });
    const at = new Date(fake.now()).toUTCString();
    fake.touch('Lead', id, { Company: 'Other' });
    expect(
      await call(
        'PATCH',
        `${api}/sobjects/Lead/${id}`,
        { Status: 'x' },
        { 'If-Unmodified-Since': at },
      ),
    ).toMatchObject({
      status: 412,
      body: [{ errorCode: 'PRECONDITION_FAILED' }],
    });
  });

  it('composite allOrNone: a failing subrequest rolls everything back, the others answer PROCESSING_HALTED', async () => {
    const res = await call('POST', `${api}/composite`, {
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: `${api}/sobjects/Mandate_Action__c`,
          referenceId: 'a',
          body: { Idempotency_Key__c: 'k' },
        },
        { method: 'POST', url: `${api}/sobjects/Lead`, referenceId: 'b', body: { Nope__c: 1 } },
        { method: 'POST', url: `${api}/sobjects/Lead`, referenceId: 'c', body: { LastName: 'x' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(
      res.body.compositeResponse.map(
        (r: {
          referenceId: string;
          httpStatusCode: number;
          body: Array<{ errorCode: string }>;
        }) => [r.referenceId, r.httpStatusCode, r.body[0].errorCode],
      ),
    ).toEqual([
      ['a', 400, 'PROCESSING_HALTED'],
      ['b', 400, 'INVALID_FIELD'],
      ['c', 400, 'PROCESSING_HALTED'],
    ]);
    expect(fake.find('Mandate_Action__c')).toEqual([]);
    expect(fake.writeCount()).toBe(0);

    const ok = await call('POST', `${api}/composite`, {
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: `${api}/sobjects/Mandate_Action__c`,
          referenceId: 'a',
          body: { Idempotency_Key__c: 'k' },
        },
      ],
    });
    expect(ok.body.compositeResponse[0]).toMatchObject({
      httpStatusCode: 201,
      referenceId: 'a',
      body: { success: true },
    });
    const dup = await call('POST', `${api}/composite`, {
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: `${api}/sobjects/Mandate_Action__c`,
          referenceId: 'a',
          body: { Idempotency_Key__c: 'k' },
        },
      ],
    });
    expect(dup.body.compositeResponse[0]).toMatchObject({
      httpStatusCode: 400,
      body: [{ errorCode: 'DUPLICATE_VALUE' }],
    });
    expect(fake.writeCount()).toBe(1);
  });

  it('answers the SOQL subset with records, batches and MALFORMED_QUERY', async () => {
    const a = fake.seed('Lead', { LastName: 'A' });
    const b = fake.seed('Lead', { LastName: 'B' });
    const q = (soql: string) => call('GET', `${api}/query?q=${encodeURIComponent(soql)}`);
    const all = await q(
      'SELECT Id, LastName FROM Lead ORDER BY SystemModstamp ASC, Id ASC LIMIT 10',
    );
    expect(all.body).toMatchObject({
      totalSize: 2,
      done: true,
      records: [
        { Id: a, LastName: 'A' },
        { Id: b, LastName: 'B' },
      ],
    });
    const stamp = String(fake.get('Lead', a)!['SystemModstamp']).replace('.000+0000', 'Z');
    const after = await q(
      `SELECT Id FROM Lead WHERE SystemModstamp > ${stamp} OR (SystemModstamp = ${stamp} AND Id > '${a}') ORDER BY SystemModstamp, Id`,
    );
    expect(after.body.records.map((r: { Id: string }) => r.Id)).toEqual([b]);
    expect(await q('SELECT Id FROM Lead GROUP BY Id')).toMatchObject({
      status: 400,
      body: [{ errorCode: 'MALFORMED_QUERY' }],
    });
    expect(
      parseSoql("SELECT Id FROM Lead WHERE Name = 'O\\'Brien' AND Amount >= 10.5"),
    ).toMatchObject({
      from: 'Lead',
      where: { op: 'and', left: { field: 'Name', value: { kind: 'string', value: "O'Brien" } } },
    });
  });

  it('compares text case-insensitively, honours NULLS FIRST/LAST and escapes, checks WHERE fields', async () => {
    const a = fake.seed('Lead', { LastName: 'Acme', Company: 'x' });
    const b = fake.seed('Lead', { LastName: 'ACME', Company: "O'Brien\n" });
    const c = fake.seed('Lead', { LastName: 'Zed' });
    const q = async (soql: string) => {
      const res = await call('GET', `${api}/query?q=${encodeURIComponent(soql)}`);
      return res.status === 200 ? res.body.records.map((r: { Id: string }) => r.Id) : res.body;
    };
    expect(await q("SELECT Id FROM Lead WHERE LastName = 'acme' ORDER BY Id")).toEqual([a, b]);
    expect(await q("SELECT Id FROM Lead WHERE LastName != 'acme'")).toEqual([c]);
    expect(await q("SELECT Id FROM Lead WHERE Company = 'o\\'brien\\n'")).toEqual([b]);
    expect(await q('SELECT Id FROM Lead ORDER BY Company ASC, Id ASC')).toEqual([c, b, a]);
    expect(await q('SELECT Id FROM Lead ORDER BY Company ASC NULLS LAST, Id ASC')).toEqual([
      b,
      a,
      c,
    ]);
    expect(await q('SELECT Id FROM Lead ORDER BY Company DESC NULLS FIRST, Id ASC')).toEqual([
      c,
      a,
      b,
    ]);
    expect(await q("SELECT Id FROM Lead WHERE Nope__c = 'x'")).toMatchObject([
      { errorCode: 'INVALID_FIELD' },
    ]);
    expect(await q("SELECT Id FROM Lead WHERE Company = 'bad \\q escape'")).toMatchObject([
      { errorCode: 'MALFORMED_QUERY' },
    ]);
  });

  it('injects the conformance faults', async () => {
    fake.injectFault({ kind: 'rate-limit', retryAfterSeconds: 3 });
    const limited = await call('GET', `${api}/query?q=SELECT+Id+FROM+Lead`);
    expect(limited.status).toBe(403);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.body[0].errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    fake.injectFault({ kind: 'server-error' });
    expect((await call('GET', `${api}/query?q=SELECT+Id+FROM+Lead`)).status).toBe(503);
    fake.injectFault({ kind: 'validation' });
    expect((await call('GET', `${api}/query?q=SELECT+Id+FROM+Lead`)).status).toBe(200); // writes only
    expect(await call('POST', `${api}/sobjects/Lead`, { LastName: 'x' })).toMatchObject({
      status: 400,
      body: [{ errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION' }],
    });
  });
});
