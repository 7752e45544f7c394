import { CrmAction } from '@mandate/contracts';
import { ConnectorError, type ExecuteRequest } from '@mandate/connector-sdk';
import { SalesforceAdapter } from './salesforce.adapter';
import {
  FAKE_USERS,
  RECIPIENT_CONTACT_ID,
  salesforceHarness,
  type SalesforceHarness,
  type SalesforceHarnessOptions,
} from './testing';

const ctx = { attempt: 1 };
const open: SalesforceHarness[] = [];

async function harness(options: SalesforceHarnessOptions = {}): Promise<SalesforceHarness> {
  const h = await salesforceHarness(options);
  open.push(h);
  return h;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

const updateIndustry = (value: string, previousValue: string) =>
  CrmAction.fromPartial({
    kind: { $case: 'updateField', value: { field: 'industry', value, previousValue } },
  });

async function leadRequest(
  h: SalesforceHarness,
  action = updateIndustry('Technology', 'Retail'),
  key = `key-${Math.random().toString(36).slice(2)}`,
): Promise<ExecuteRequest> {
  const recordId = await h.seed('lead', { company: 'Acme', industry: 'Retail', name: 'Ada' });
  return {
    tenantId: h.tenantId,
    idempotencyKey: key,
    target: { objectType: 'lead', recordId },
    action,
  };
}

async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ConnectorError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const markers = (h: SalesforceHarness, key?: string) =>
  h.fake.find('Mandate_Action__c', (r) => key === undefined || r['Idempotency_Key__c'] === key);

describe('SalesforceAdapter sessions (OAuth refresh-token flow)', () => {
  it('gets a session on the first call, then refreshes exactly once when it expires and the call succeeds', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    await h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
    expect(h.fake.tokenGrants).toBe(1);

    h.fake.expireAccessTokens();
    const before = h.fake.requests.length;
    const record = await h.adapter.read(
      { tenantId: h.tenantId, target: req.target, fields: ['company'] },
      ctx,
    );
    expect(record?.fields).toEqual({ company: 'Acme' });
    expect(h.fake.tokenGrants).toBe(2);
    expect(
      h.fake.requests
        .slice(before)
        .map((r) => `${r.method} ${r.path.replace(req.target.recordId, ':id')} ${r.status}`),
    ).toEqual([
      'GET /services/data/v62.0/sobjects/Lead/:id 401',
      'POST /services/oauth2/token 200',
      'GET /services/data/v62.0/sobjects/Lead/:id 200',
    ]);
  });

  it('shares one refresh between concurrent calls that hit the expired session', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    const read = () =>
      h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
    await read();
    h.fake.expireAccessTokens();
    const results = await Promise.all([read(), read(), read()]);
    expect(results.map((r) => r?.fields['company'])).toEqual(['Acme', 'Acme', 'Acme']);
    expect(h.fake.tokenGrants).toBe(2);
  });

  it('maps a refused refresh (invalid_grant) to auth-expired, without secrets in the message', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    await h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
    h.fake.revokeRefreshToken();
    h.fake.expireAccessTokens();
    const err = await failure(h.adapter.execute(req, ctx));
    expect(err).toMatchObject({ kind: 'auth-expired', code: 'INVALID_GRANT' });
    for (const secret of [h.config.clientSecret, h.config.refreshToken, h.config.clientId])
      expect(err.message).not.toContain(secret);
    expect(h.fake.writeCount()).toBe(0);
  });

  it('maps the injected auth-expired fault (401, then invalid_grant) to auth-expired; later calls work again', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    h.fake.injectFault({ kind: 'auth-expired' });
    expect(await failure(h.adapter.execute(req, ctx))).toMatchObject({ kind: 'auth-expired' });
    expect(h.fake.tokenRefusals).toBe(1);
    expect((await h.adapter.execute(req, ctx)).status).toBe('applied');
  });

  it('treats a token endpoint outage as retryable', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    h.fake.failTokenEndpoint(503);
    expect(await failure(h.adapter.execute(req, ctx))).toMatchObject({
      kind: 'retryable',
      code: 'TOKEN_ENDPOINT_UNAVAILABLE',
    });
    expect((await h.adapter.execute(req, ctx)).status).toBe('applied');
  });

  it('keeps and reports a rotated refresh token', async () => {
    const rotated: string[] = [];
    const h = await harness({
      fake: { rotateRefreshTokens: true },
      config: { onRefreshTokenRotated: (t) => void rotated.push(t) },
    });
    const req = await leadRequest(h);
    await h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
    h.fake.expireAccessTokens();
    await h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
    expect(rotated).toHaveLength(2);
    expect(rotated[1]).toBe(h.fake.refreshToken);
    expect(h.fake.tokenRefusals).toBe(0);
  });
  it('a replay answered 401 again after a good refresh is auth-expired, without refreshing again', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    const read = () =>
      h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
    await read();
    // The session is refused twice: before and right after a successful refresh.
    h.fake.injectError({ status: 401, errorCode: 'INVALID_SESSION_ID' }, 2);
    const before = h.fake.requests.length;
    expect(await failure(read())).toMatchObject({
      kind: 'auth-expired',
      code: 'INVALID_SESSION_ID',
      httpStatus: 401,
    });
    expect(h.fake.tokenGrants).toBe(2);
    expect(h.fake.requests.slice(before).map((r) => `${r.method} ${r.status}`)).toEqual([
      'GET 401',
      'POST 200',
      'GET 401',
    ]);
    expect((await read())?.fields).toEqual({ company: 'Acme' });
  });

  it('a rotated refresh token that cannot be persisted fails the call retryable, and is kept in memory', async () => {
    let fail = true;
    const rotated: string[] = [];
    const h = await harness({
      fake: { rotateRefreshTokens: true },
      config: {
        onRefreshTokenRotated: (t) => {
          rotated.push(t);
          if (fail) throw new Error('vault down');
        },
      },
    });
    const req = await leadRequest(h);
    const read = () =>
      h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
    const err = await failure(read());
    expect(err).toMatchObject({ kind: 'retryable', code: 'REFRESH_TOKEN_NOT_PERSISTED' });
    expect(err.message).not.toContain(rotated[0]);
    fail = false;
    // The next call refreshes with the rotated token (the old one no longer works).
    expect((await read())?.fields).toEqual({ company: 'Acme' });
    expect(h.fake.tokenRefusals).toBe(0);
    expect(rotated).toHaveLength(2);
  });
});

describe('SalesforceAdapter error mapping', () => {
  it('REQUEST_LIMIT_EXCEEDED is retryable with Retry-After, or the configured default without one', async () => {
    const h = await harness({ config: { rateLimitRetryAfterMs: 45_000 } });
    const req = await leadRequest(h);
    h.fake.injectFault({ kind: 'rate-limit', retryAfterSeconds: 7 });
    expect(await failure(h.adapter.execute(req, ctx))).toMatchObject({
      kind: 'retryable',
      code: 'REQUEST_LIMIT_EXCEEDED',
      retryAfterMs: 7000,
      httpStatus: 403,
    });
    h.fake.injectError({ status: 403, errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    expect(await failure(h.adapter.execute(req, ctx))).toMatchObject({
      kind: 'retryable',
      retryAfterMs: 45_000,
    });
  });

  it('a validation rule failure is permanent with its errorCode; the all-or-none request leaves nothing behind', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    h.fake.injectFault({ kind: 'validation' });
    const err = await failure(h.adapter.execute(req, ctx));
    expect(err).toMatchObject({
      kind: 'permanent',
      code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      httpStatus: 400,
    });
    expect(err.message).toBe(
      'Salesforce PATCH Lead failed: FIELD_CUSTOM_VALIDATION_EXCEPTION (HTTP 400)',
    );
    expect(markers(h)).toEqual([]);
    expect(h.fake.get('Lead', req.target.recordId)?.['Industry']).toBe('Retail');
    expect(h.fake.writeCount()).toBe(0);
  });

  it.each([
    [503, 'SERVER_UNAVAILABLE', 'retryable'],
    [500, 'UNKNOWN_EXCEPTION', 'retryable'],
    [400, 'UNABLE_TO_LOCK_ROW', 'retryable'],
    [400, 'REQUIRED_FIELD_MISSING', 'permanent'],
    [400, 'INVALID_FIELD', 'permanent'],
    [400, 'STRING_TOO_LONG', 'permanent'],
    [400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'permanent'],
    [404, 'ENTITY_IS_DELETED', 'permanent'],
    [400, 'MALFORMED_ID', 'permanent'],
    [403, 'INSUFFICIENT_ACCESS_OR_READONLY', 'permanent'],
  ] as const)('HTTP %i %s is %s', async (status, errorCode, kind) => {
    const h = await harness();
    const req = await leadRequest(h);
    h.fake.injectError({
      status,
      errorCode,
      message: 'Industry: data value too large: Retail Retail Retail (max length=40)',
      fields: ['Industry'],
    });
    const err = await failure(h.adapter.execute(req, ctx));
    expect(err).toMatchObject({ kind, code: errorCode, httpStatus: status });
    // Salesforce's own message can quote record values: it is never passed on.
    expect(err.message).not.toContain('Retail');
    expect(err.message).toContain('Industry');
  });

  it.each([
    [503, 'SERVER_UNAVAILABLE'],
    [429, 'TOO_MANY_REQUESTS'],
    [500, 'UNKNOWN_EXCEPTION'],
  ] as const)(
    'does not retry a GET answered %i itself (the SDK owns retries)',
    async (status, errorCode) => {
      const h = await harness();
      const req = await leadRequest(h);
      const read = () =>
        h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
      await read();
      const before = h.fake.requests.length;
      h.fake.injectError({ status, errorCode }, 3);
      expect(await failure(read())).toMatchObject({ kind: 'retryable', httpStatus: status });
      expect(h.fake.requests.slice(before).map((r) => r.status)).toEqual([status]);
    },
  );

  it('a call that outlasts requestTimeoutMs is retryable TIMEOUT', async () => {
    const h = await harness({ config: { requestTimeoutMs: 200 } });
    const req = await leadRequest(h);
    h.fake.holdComposites(2); // holds our only composite request
    expect(await failure(h.adapter.execute(req, ctx))).toMatchObject({
      kind: 'retryable',
      code: 'TIMEOUT',
    });
  });

  it('reports the daily API usage from Sforce-Limit-Info', async () => {
    const h = await harness({ fake: { apiLimit: 5000 } });
    const req = await leadRequest(h);
    await h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
    expect(h.adapter.apiUsage()).toEqual({ used: 1, limit: 5000 });
  });

  it('a network failure is retryable', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    await h.adapter.read({ tenantId: h.tenantId, target: req.target, fields: ['company'] }, ctx);
    await h.fake.close();
    const err = await failure(h.adapter.execute(req, ctx));
    expect(err.kind).toBe('retryable');
    // A refused connection, or the kept-alive socket the closed server dropped.
    expect(err.code).toMatch(/^(ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET)$/);
  });

  it('an aborted call is retryable and says so', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    const abort = new AbortController();
    abort.abort();
    expect(
      await failure(h.adapter.execute(req, { attempt: 1, signal: abort.signal })),
    ).toMatchObject({
      kind: 'retryable',
      code: 'ABORTED',
    });
  });

  it('refuses what no retry fixes before calling Salesforce', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    const calls = h.fake.requests.length;
    const cases: Array<[Partial<ExecuteRequest>, string]> = [
      [{ tenantId: 'another-tenant' }, 'WRONG_TENANT'],
      [{ target: { objectType: 'lead', recordId: 'not-an-id' } }, 'MALFORMED_ID'],
      [{ target: { objectType: 'quote', recordId: req.target.recordId } }, 'UNMAPPED_OBJECT'],
      [
        {
          action: CrmAction.fromPartial({
            kind: { $case: 'closeCase', value: { resolutionCode: 'X' } },
          }),
        },
        'WRONG_OBJECT_TYPE',
      ],
      [
        {
          action: CrmAction.fromPartial({
            kind: { $case: 'updateField', value: { field: 'email', value: 'x@example.com' } },
          }),
        },
        'FIELD_NOT_WRITABLE',
      ],
      [
        {
          action: CrmAction.fromPartial({
            kind: { $case: 'updateField', value: { field: 'employees', value: 'many' } },
          }),
        },
        'INVALID_VALUE',
      ],
      [{ action: CrmAction.fromPartial({}) }, 'UNKNOWN_ACTION'],
    ];
    for (const [patch, code] of cases)
      expect(await failure(h.adapter.execute({ ...req, ...patch }, ctx))).toMatchObject({
        kind: 'permanent',
        code,
      });
    expect(h.fake.requests.length).toBe(calls);
  });

  it('a missing record is permanent NOT_FOUND and nothing is written', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    h.fake.remove('Lead', req.target.recordId);
    expect(await failure(h.adapter.execute(req, ctx))).toMatchObject({
      kind: 'permanent',
      code: 'ENTITY_IS_DELETED',
    });
    const missing = { ...req, target: { objectType: 'lead', recordId: '00Q5g00000ZZZZZZZZ' } };
    expect(await failure(h.adapter.execute(missing, ctx))).toMatchObject({
      kind: 'permanent',
      code: 'NOT_FOUND',
    });
    expect(h.fake.writeCount()).toBe(0);
  });
});

describe('SalesforceAdapter idempotency (Mandate_Action__c + all-or-none composite)', () => {
  it('checks the key, reads the target, then writes marker and record in one allOrNone composite request', async () => {
    const h = await harness();
    const req = await leadRequest(h, undefined, 'prop-1:step-0');
    const first = h.fake.requests.length;
    const r = await h.adapter.execute(req, ctx);
    expect(r.status).toBe('applied');
    const calls = h.fake.requests.slice(first).filter((x) => x.authorized);
    expect(calls.map((c) => `${c.method} ${c.path}${c.query ? `?${c.query}` : ''}`)).toEqual([
      'GET /services/data/v62.0/sobjects/Mandate_Action__c/Idempotency_Key__c/prop-1%3Astep-0?fields=Id,Undo_Json__c',
      `GET /services/data/v62.0/sobjects/Lead/${req.target.recordId}?fields=Id,LastModifiedDate,Industry`,
      'POST /services/data/v62.0/composite',
    ]);
    const lead = h.fake.get('Lead', req.target.recordId)!;
    expect(calls[2].body).toEqual({
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Mandate_Action__c',
          referenceId: 'mandateAction',
          body: {
            Idempotency_Key__c: 'prop-1:step-0',
            Action_Type__c: 'update_field',
            Target_Object__c: 'Lead',
            Target_Id__c: req.target.recordId,
            Undo_Json__c: JSON.stringify(r.undo),
          },
        },
        {
          method: 'PATCH',
          url: `/services/data/v62.0/sobjects/Lead/${req.target.recordId}`,
          referenceId: 'target',
          body: { Industry: 'Technology' },
          httpHeaders: { 'If-Unmodified-Since': expect.stringMatching(/GMT$/) },
        },
      ],
    });
    expect(r.undo).toEqual({
      v: 1,
      actionType: 'update_field',
      crmObject: 'Lead',
      recordId: req.target.recordId,
      previous: { Industry: 'Retail' },
      written: { Industry: 'Technology' },
    });
    expect(lead['Industry']).toBe('Technology');
    expect(markers(h, 'prop-1:step-0')).toHaveLength(1);
    expect(h.fake.writeCount()).toBe(1);
  });

  it('a key Salesforce has already applied returns already-applied with its undo, after a restart, and writes nothing', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    const first = await h.adapter.execute(req, ctx);
    const restarted = await h.restartAdapter();
    const again = await restarted.execute(req, ctx);
    expect(again).toMatchObject({ status: 'already-applied', undo: first.undo });
    expect(h.fake.writeCount()).toBe(1);
  });

  it('two concurrent executions of one key: exactly one Mandate_Action__c, one write, the other already-applied', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    const other = new SalesforceAdapter(h.config); // another connector process
    // Both pass the key check and read the record before either composite request runs.
    h.fake.holdComposites(2);
    const results = await Promise.all([h.adapter.execute(req, ctx), other.execute(req, ctx)]);
    expect(results.map((r) => r.status).sort()).toEqual(['already-applied', 'applied']);
    expect(markers(h, req.idempotencyKey)).toHaveLength(1);
    expect(h.fake.writeCount()).toBe(1);
    expect(h.fake.requests.filter((r) => r.path.endsWith('/composite'))).toHaveLength(2);
    expect(h.fake.get('Lead', req.target.recordId)?.['Industry']).toBe('Technology');
  });

  it('a stale previous_value is a conflict and nothing is written', async () => {
    const h = await harness();
    const req = await leadRequest(h, updateIndustry('Technology', 'Manufacturing'));
    const err = await failure(h.adapter.execute(req, ctx));
    expect(err).toMatchObject({ kind: 'conflict', code: 'PREVIOUS_VALUE_MISMATCH' });
    expect(err.message).not.toContain('Retail');
    expect(h.fake.requests.some((r) => r.path.endsWith('/composite'))).toBe(false);
    expect(markers(h)).toEqual([]);
    expect(h.fake.get('Lead', req.target.recordId)?.['Industry']).toBe('Retail');
  });

  it('a previous_value that matches numerically (15 vs 15.0) is no conflict', async () => {
    const h = await harness();
    const recordId = await h.seed('lead', { company: 'Acme', score: 15 });
    const r = await h.adapter.execute(
      {
        tenantId: h.tenantId,
        idempotencyKey: 'score-1',
        target: { objectType: 'lead', recordId },
        action: CrmAction.fromPartial({
          kind: {
            $case: 'updateField',
            value: { field: 'score', value: '40', previousValue: '15.0' },
          },
        }),
      },
      ctx,
    );
    expect(r.status).toBe('applied');
    expect(h.fake.get('Lead', recordId)?.['Lead_Score__c']).toBe(40);
  });

  it('a record changed between the read and the write (If-Unmodified-Since → 412) is a conflict, rolled back', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    h.fake.beforeNext('POST', /\/composite$/, () =>
      h.fake.touch('Lead', req.target.recordId, { Title: 'CEO' }),
    );
    expect(await failure(h.adapter.execute(req, ctx))).toMatchObject({
      kind: 'conflict',
      code: 'RECORD_CHANGED',
    });
    expect(markers(h)).toEqual([]);
    expect(h.fake.get('Lead', req.target.recordId)?.['Industry']).toBe('Retail');
  });

  it('a conflict caused by a concurrent duplicate of the same key is reported already-applied', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    // Between our key check and our read, another process applies the same key.
    h.fake.beforeNext('GET', new RegExp(`/sobjects/Lead/${req.target.recordId}$`), () => {
      h.fake.seed('Mandate_Action__c', {
        Idempotency_Key__c: req.idempotencyKey,
        Undo_Json__c: null,
      });
      h.fake.touch('Lead', req.target.recordId, { Industry: 'Technology' });
    });
    expect((await h.adapter.execute(req, ctx)).status).toBe('already-applied');
    expect(h.fake.writeCount()).toBe(0);
  });

  it('a wrong from_stage is a conflict', async () => {
    const h = await harness();
    const recordId = await h.seed('opportunity', { name: 'Deal', stage: 'Prospecting' });
    const err = await failure(
      h.adapter.execute(
        {
          tenantId: h.tenantId,
          idempotencyKey: 'stage-1',
          target: { objectType: 'opportunity', recordId },
          action: CrmAction.fromPartial({
            kind: {
              $case: 'moveOpportunityStage',
              value: { fromStage: 'Qualification', toStage: 'Closed Won' },
            },
          }),
        },
        ctx,
      ),
    );
    expect(err).toMatchObject({ kind: 'conflict', code: 'STAGE_MISMATCH' });
    expect(h.fake.get('Opportunity', recordId)?.['StageName']).toBe('Prospecting');
  });
});

describe('SalesforceAdapter actions', () => {
  const exec = (
    h: SalesforceHarness,
    objectType: string,
    recordId: string,
    action: CrmAction,
    key = `k-${Math.random()}`,
  ) =>
    h.adapter.execute(
      { tenantId: h.tenantId, idempotencyKey: key, target: { objectType, recordId }, action },
      ctx,
    );

  it('qualify_lead and disqualify_lead write status, score and reason fields', async () => {
    const h = await harness({ config: { leadQualifiedStatus: 'Working - Contacted' } });
    const a = await h.seed('lead', { company: 'A', status: 'Open - Not Contacted' });
    await exec(
      h,
      'lead',
      a,
      CrmAction.fromPartial({
        kind: { $case: 'qualifyLead', value: { score: 72, reason: 'fit' } },
      }),
    );
    expect(await h.inspect('lead', a)).toMatchObject({
      status: 'Working - Contacted',
      score: 72,
      qualificationReason: 'fit',
    });
    const b = await h.seed('lead', { company: 'B', status: 'Open - Not Contacted' });
    await exec(
      h,
      'lead',
      b,
      CrmAction.fromPartial({ kind: { $case: 'disqualifyLead', value: { reasonCode: 'SPAM' } } }),
    );
    expect(await h.inspect('lead', b)).toMatchObject({
      status: 'Unqualified',
      disqualificationCode: 'SPAM',
    });
  });

  it('create_task upserts a Task by external id, owned by the target owner, and reports its id', async () => {
    const h = await harness();
    const opp = await h.seed('opportunity', {
      name: 'Deal',
      stage: 'Prospecting',
      ownerId: FAKE_USERS.alice,
    });
    const action = CrmAction.fromPartial({
      kind: {
        $case: 'createTask',
        value: { subject: 'Follow up', dueAt: '2025-03-04T10:00:00.000Z', notes: 'n' },
      },
    });
    const r = await exec(h, 'opportunity', opp, action, 'task-key-1');
    const [task] = h.fake.find('Task');
    expect(task).toMatchObject({
      Subject: 'Follow up',
      ActivityDate: '2025-03-04',
      OwnerId: FAKE_USERS.alice,
      WhatId: opp,
      Status: 'Not Started',
      Mandate_Idempotency_Key__c: 'task-key-1',
    });
    expect(r).toMatchObject({ status: 'applied', createdIds: [task['Id']] });
    expect(r.undo).toBeUndefined();
    const composite = h.fake.requests.find((x) => x.path.endsWith('/composite'))!;
    expect(
      (composite.body as { compositeRequest: Array<{ method: string; url: string }> })
        .compositeRequest[1],
    ).toMatchObject({
      method: 'PATCH',
      url: '/services/data/v62.0/sobjects/Task/Mandate_Idempotency_Key__c/task-key-1',
    });
    const again = await (
      await h.restartAdapter()
    ).execute(
      {
        tenantId: h.tenantId,
        idempotencyKey: 'task-key-1',
        target: { objectType: 'opportunity', recordId: opp },
        action,
      },
      ctx,
    );
    expect(again).toMatchObject({ status: 'already-applied', createdIds: [task['Id']] });
    expect(h.fake.find('Task')).toHaveLength(1);
  });

  it('send_email logs an Email task for the recipient, and refuses an opted-out recipient', async () => {
    const h = await harness();
    const contact = await h.seed('contact', { name: 'Grace', optedOut: false });
    const email = (to: string) =>
      CrmAction.fromPartial({
        kind: {
          $case: 'sendEmail',
          value: { toContactId: to, subject: 'Hi', body: 'Hello there' },
        },
      });
    await exec(h, 'contact', contact, email(contact));
    expect(h.fake.find('Task')[0]).toMatchObject({
      WhoId: contact,
      TaskSubtype: 'Email',
      Status: 'Completed',
      Description: 'Hello there',
    });
    expect(h.fake.find('Task')[0]['WhatId']).toBeUndefined();

    h.fake.touch('Contact', RECIPIENT_CONTACT_ID, { HasOptedOutOfEmail: true });
    const account = await h.seed('account', { name: 'Acme' });
    const writes = h.fake.writeCount();
    expect(await failure(exec(h, 'account', account, email(RECIPIENT_CONTACT_ID)))).toMatchObject({
      kind: 'permanent',
      code: 'EMAIL_OPTED_OUT',
    });
    expect(h.fake.writeCount()).toBe(writes);
    expect(await failure(exec(h, 'account', account, email(account)))).toMatchObject({
      code: 'INVALID_RECIPIENT',
    });
  });

  it('reply_to_case adds a CaseComment; close_case closes with the resolution and an internal summary', async () => {
    const h = await harness();
    const c = await h.seed('case', { subject: 'Broken', status: 'New' });
    await exec(
      h,
      'case',
      c,
      CrmAction.fromPartial({
        kind: { $case: 'replyToCase', value: { body: 'On it', public: true } },
      }),
    );
    await exec(
      h,
      'case',
      c,
      CrmAction.fromPartial({
        kind: { $case: 'closeCase', value: { resolutionCode: 'FIXED', summary: 'patched' } },
      }),
    );
    expect(
      h.fake.find('CaseComment').map((x) => [x['CommentBody'], x['IsPublished'], x['ParentId']]),
    ).toEqual([
      ['On it', true, c],
      ['patched', false, c],
    ]);
    expect(await h.inspect('case', c)).toMatchObject({ status: 'Closed', resolutionCode: 'FIXED' });
  });

  it('apply_discount and assign_owner; amountMinor converts to and from Amount in major units', async () => {
    const h = await harness();
    const opp = await h.seed('opportunity', {
      name: 'Deal',
      stage: 'Prospecting',
      amountMinor: 1234567,
    });
    expect(h.fake.get('Opportunity', opp)?.['Amount']).toBe(12345.67);
    await exec(
      h,
      'opportunity',
      opp,
      CrmAction.fromPartial({ kind: { $case: 'applyDiscount', value: { discountPercent: 7.5 } } }),
    );
    await exec(
      h,
      'opportunity',
      opp,
      CrmAction.fromPartial({ kind: { $case: 'assignOwner', value: { ownerId: FAKE_USERS.bob } } }),
    );
    await exec(
      h,
      'opportunity',
      opp,
      CrmAction.fromPartial({
        kind: {
          $case: 'updateField',
          value: { field: 'amountMinor', value: '990000', previousValue: '1234567' },
        },
      }),
    );
    expect(h.fake.get('Opportunity', opp)).toMatchObject({
      Discount_Percent__c: 7.5,
      OwnerId: FAKE_USERS.bob,
      Amount: 9900,
    });
    const read = await h.adapter.read(
      {
        tenantId: h.tenantId,
        target: { objectType: 'opportunity', recordId: opp },
        fields: ['amountMinor'],
      },
      ctx,
    );
    expect(read?.fields).toEqual({ amountMinor: 990000 });
  });
});

describe('SalesforceAdapter.read', () => {
  it('fetches only the requested (mapped) fields and returns them by canonical name', async () => {
    const h = await harness();
    const id = await h.seed('lead', {
      company: 'Acme',
      industry: 'Retail',
      email: 'ada@example.com',
      score: 50,
    });
    const before = h.fake.requests.length;
    const r = await h.adapter.read(
      {
        tenantId: h.tenantId,
        target: { objectType: 'lead', recordId: id },
        fields: ['industry', 'score', 'title'],
      },
      ctx,
    );
    expect(r).toEqual({
      target: { objectType: 'lead', recordId: id },
      fields: { industry: 'Retail', score: 50 },
    });
    const get = h.fake.requests.slice(before).find((x) => x.method === 'GET')!;
    expect(get.query).toBe('fields=Industry,Lead_Score__c,Title');
  });

  it('null for a record that does not exist, was deleted, or has no Salesforce id; permanent for an unmapped field', async () => {
    const h = await harness();
    const id = await h.seed('lead', { company: 'Acme' });
    const read = (recordId: string, fields = ['company']) =>
      h.adapter.read(
        { tenantId: h.tenantId, target: { objectType: 'lead', recordId }, fields },
        ctx,
      );
    expect(await read('00Q5g00000ZZZZZZZZ')).toBeNull();
    expect(await read('../../sobjects')).toBeNull();
    expect(await failure(read(id, ['favouriteColour']))).toMatchObject({
      kind: 'permanent',
      code: 'UNMAPPED_FIELD',
    });
    h.fake.remove('Lead', id);
    expect(await read(id)).toBeNull();
  });

  it('a mapping overlay pointing at a field the org lacks fails permanent INVALID_FIELD', async () => {
    const h = await harness({
      config: { fieldMapping: { lead: { crmObject: 'Lead', fields: { score: 'Score_Typo__c' } } } },
    });
    const id = await h.seed('lead', { company: 'Acme' });
    expect(
      await failure(
        h.adapter.read(
          { tenantId: h.tenantId, target: { objectType: 'lead', recordId: id }, fields: ['score'] },
          ctx,
        ),
      ),
    ).toMatchObject({ kind: 'permanent', code: 'INVALID_FIELD' });
  });
});

describe('SalesforceAdapter.compensate', () => {
  it('restores the previous values, once; a second compensate is already-applied', async () => {
    const h = await harness();
    const id = await h.seed('lead', { company: 'A', status: 'Open - Not Contacted', score: 10 });
    const req: ExecuteRequest = {
      tenantId: h.tenantId,
      idempotencyKey: 'q-1',
      target: { objectType: 'lead', recordId: id },
      action: CrmAction.fromPartial({
        kind: { $case: 'qualifyLead', value: { score: 90, reason: 'fit' } },
      }),
    };
    const r = await h.adapter.execute(req, ctx);
    const undo = JSON.parse(JSON.stringify(r.undo));
    expect(await h.adapter.compensate({ ...req, undo }, ctx)).toMatchObject({ status: 'applied' });
    expect(h.fake.get('Lead', id)).toMatchObject({
      Status: 'Open - Not Contacted',
      Lead_Score__c: 10,
      Qualification_Reason__c: null,
    });
    const writes = h.fake.writeCount();
    expect(await (await h.restartAdapter()).compensate({ ...req, undo }, ctx)).toMatchObject({
      status: 'already-applied',
    });
    expect(h.fake.writeCount()).toBe(writes);
    expect(markers(h, 'q-1:undo')).toHaveLength(1);
  });

  it('does not overwrite a change made since the action: conflict, nothing written', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    const r = await h.adapter.execute(req, ctx);
    h.fake.touch('Lead', req.target.recordId, { Industry: 'Media' });
    const writes = h.fake.writeCount();
    expect(await failure(h.adapter.compensate({ ...req, undo: r.undo! }, ctx))).toMatchObject({
      kind: 'conflict',
      code: 'CHANGED_SINCE_EXECUTION',
    });
    expect(h.fake.writeCount()).toBe(writes);
    expect(h.fake.get('Lead', req.target.recordId)?.['Industry']).toBe('Media');
  });

  it('refuses undo information that is not its own or is for another record', async () => {
    const h = await harness();
    const req = await leadRequest(h);
    const r = await h.adapter.execute(req, ctx);
    const other = await h.seed('lead', { company: 'B' });
    expect(await failure(h.adapter.compensate({ ...req, undo: { foo: 1 } }, ctx))).toMatchObject({
      code: 'INVALID_UNDO',
    });
    expect(
      await failure(
        h.adapter.compensate(
          { ...req, target: { objectType: 'lead', recordId: other }, undo: r.undo! },
          ctx,
        ),
      ),
    ).toMatchObject({ code: 'INVALID_UNDO' });
  });
});
