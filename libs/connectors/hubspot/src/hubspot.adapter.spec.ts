import { inspect } from 'node:util';
import { CrmAction } from '@mandate/contracts';
import { ConnectorError, capabilityProblems, type ExecuteRequest } from '@mandate/connector-sdk';
import { HubSpotAdapter } from './hubspot.adapter';
import type { HubSpotTokens } from './hubspot.config';
import { hubspotTestBed, type HubSpotTestBed } from './testing';

const ctx = { attempt: 1 };
let n = 0;

function request(
  objectType: string,
  recordId: string,
  kind: CrmAction['kind'],
  idempotencyKey = `key-${++n}`,
): ExecuteRequest {
  return {
    tenantId: 'tenant-hubspot-test',
    idempotencyKey,
    target: { objectType, recordId },
    action: CrmAction.fromPartial({ kind }),
  };
}

const updateField = (field: string, value: string, previousValue = ''): CrmAction['kind'] => ({
  $case: 'updateField',
  value: { field, value, previousValue },
});

async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

describe('HubSpotAdapter', () => {
  let bed: HubSpotTestBed;
  let adapter: HubSpotAdapter;

  beforeEach(async () => {
    bed = await hubspotTestBed();
    adapter = bed.newAdapter();
  });
  afterEach(() => bed.fake.close());

  describe('read', () => {
    it('fetches and returns only the requested fields, converted to canonical values', async () => {
      const id = bed.seed('lead', {
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        industry: 'Software',
        status: 'NEW',
        score: 40,
        emailConsent: true,
      });
      const record = await adapter.read(
        {
          tenantId: 't',
          target: { objectType: 'lead', recordId: id },
          fields: ['industry', 'score', 'emailConsent', 'name'],
        },
        ctx,
      );
      expect(record?.fields).toEqual({
        industry: 'Software',
        score: 40,
        emailConsent: true,
        name: 'Ada Lovelace',
      });
      const get = bed.fake.requests.at(-1)!;
      expect(get.path).toBe(`/crm/v3/objects/contacts/${id}`);
      expect(get.query['properties']).toEqual([
        'industry',
        'mandate_lead_score',
        'mandate_email_consent',
        'firstname',
        'lastname',
      ]);
    });

    it('converts deal amounts to minor units by the deal currency', async () => {
      const eur = bed.seed('opportunity', { name: 'A', amountMinor: 123_456, currencyCode: 'EUR' });
      const jpy = bed.seed('opportunity', { name: 'B', amountMinor: 123_456, currencyCode: 'JPY' });
      expect(bed.fake.get('deals', eur)?.properties['amount']).toBe('1234.56');
      expect(bed.fake.get('deals', jpy)?.properties['amount']).toBe('123456');
      for (const id of [eur, jpy]) {
        const r = await adapter.read(
          {
            tenantId: 't',
            target: { objectType: 'opportunity', recordId: id },
            fields: ['amountMinor'],
          },
          ctx,
        );
        expect(r?.fields).toEqual({ amountMinor: 123_456 });
      }
    });

    it('reads accountId from the v4 associations, preferring the primary company', async () => {
      const deal = bed.seed('opportunity', { name: 'A' });
      const other = bed.seed('account', { name: 'Other' });
      const primary = bed.seed('account', { name: 'Primary' });
      bed.fake.associate('deals', deal, 'companies', other);
      bed.fake.associate('deals', deal, 'companies', primary, 5);
      const r = await adapter.read(
        {
          tenantId: 't',
          target: { objectType: 'opportunity', recordId: deal },
          fields: ['accountId', 'name'],
        },
        ctx,
      );
      expect(r?.fields).toEqual({ accountId: primary, name: 'A' });
      expect(bed.fake.requests.at(-1)!.path).toBe(
        `/crm/v4/objects/deals/${deal}/associations/companies`,
      );
    });

    it('returns null for a missing record, and for an id HubSpot cannot have without asking', async () => {
      const target = { objectType: 'lead', recordId: '999999' };
      expect(await adapter.read({ tenantId: 't', target, fields: ['industry'] }, ctx)).toBeNull();
      const before = bed.fake.requests.length;
      expect(
        await adapter.read(
          { tenantId: 't', target: { ...target, recordId: 'abc' }, fields: ['industry'] },
          ctx,
        ),
      ).toBeNull();
      expect(bed.fake.requests.length).toBe(before);
    });

    it('refuses unmapped fields and objects as permanent errors', async () => {
      const err = await failure(
        adapter.read(
          { tenantId: 't', target: { objectType: 'lead', recordId: '1' }, fields: ['shoeSize'] },
          ctx,
        ),
      );
      expect([err.kind, err.code]).toEqual(['permanent', 'UNMAPPED_FIELD']);
      const obj = await failure(
        adapter.read(
          { tenantId: 't', target: { objectType: 'invoice', recordId: '1' }, fields: ['x'] },
          ctx,
        ),
      );
      expect([obj.kind, obj.code]).toEqual(['permanent', 'UNMAPPED_OBJECT']);
    });
  });

  describe('errors', () => {
    it('429 → retryable with retryAfterMs from Retry-After', async () => {
      const id = bed.seed('lead', { industry: 'Software' });
      bed.fake.injectFault({ kind: 'rate-limit', retryAfterSeconds: 3 });
      const err = await failure(
        adapter.execute(request('lead', id, updateField('industry', 'X')), ctx),
      );
      expect(err).toMatchObject({
        kind: 'retryable',
        code: 'RATE_LIMIT_SECONDLY',
        retryAfterMs: 3000,
        httpStatus: 429,
      });
    });

    it('429 without Retry-After → the policy: ten-secondly window, secondly, daily', async () => {
      const id = bed.seed('lead', { industry: 'Software' });
      const call = () => adapter.execute(request('lead', id, updateField('industry', 'X')), ctx);
      bed.fake.injectFault({ kind: 'rate-limit', policyName: 'TEN_SECONDLY_ROLLING' });
      expect(await failure(call())).toMatchObject({
        code: 'RATE_LIMIT_TEN_SECONDLY_ROLLING',
        retryAfterMs: 10_000,
      });
      bed.fake.injectFault({ kind: 'rate-limit', policyName: 'SECONDLY' });
      expect((await failure(call())).retryAfterMs).toBe(1000);
      bed.fake.injectFault({ kind: 'rate-limit', policyName: 'DAILY' });
      const daily = await failure(call());
      expect(daily.code).toBe('RATE_LIMIT_DAILY');
      expect(daily.retryAfterMs).toBeGreaterThan(0);
      expect(daily.retryAfterMs).toBeLessThanOrEqual(24 * 3600_000);
    });

    it('5xx (JSON or an HTML gateway page) and network failures → retryable', async () => {
      const id = bed.seed('lead', { industry: 'Software' });
      const call = () => adapter.execute(request('lead', id, updateField('industry', 'X')), ctx);
      bed.fake.injectFault({ kind: 'server-error' }, 2);
      expect(await failure(call())).toMatchObject({ kind: 'retryable', code: 'HTTP_503' });
      expect(await failure(call())).toMatchObject({ kind: 'retryable', code: 'HTTP_502' });
      const gone = await hubspotTestBed();
      const orphan = gone.newAdapter();
      await gone.fake.close();
      expect(
        await failure(
          orphan.read(
            { tenantId: 't', target: { objectType: 'lead', recordId: id }, fields: ['industry'] },
            ctx,
          ),
        ),
      ).toMatchObject({ kind: 'retryable', code: 'ECONNREFUSED' });
    });

    it('400 VALIDATION_ERROR → permanent, coded, naming the property but not the value', async () => {
      const id = bed.seed('lead', { status: 'NEW' });
      const writes = bed.fake.writeCount;
      const err = await failure(
        adapter.execute(request('lead', id, updateField('status', 'SECRET_STATUS_VALUE')), ctx),
      );
      expect(err).toMatchObject({ kind: 'permanent', code: 'INVALID_OPTION', httpStatus: 400 });
      expect(err.message).toContain('hs_lead_status');
      expect(err.message).not.toContain('SECRET_STATUS_VALUE');
      expect(bed.fake.writeCount).toBe(writes);
      expect(bed.fake.get('contacts', id)?.properties['hs_lead_status']).toBe('NEW');
    });

    it('a property the portal does not have → permanent PROPERTY_DOESNT_EXIST', async () => {
      const overlay = bed.newAdapter({
        fieldMapping: {
          lead: { crmObject: 'contacts', fields: { industry: 'custom_industry_v2' } },
        },
      });
      const id = bed.seed('lead', { status: 'NEW' });
      const err = await failure(
        overlay.execute(request('lead', id, updateField('industry', 'X')), ctx),
      );
      expect(err).toMatchObject({ kind: 'permanent', code: 'PROPERTY_DOESNT_EXIST' });
      expect(err.message).toContain('custom_industry_v2');
    });

    it('a missing record → permanent OBJECT_NOT_FOUND', async () => {
      for (const id of ['424242', 'does-not-exist'])
        expect(
          await failure(adapter.execute(request('lead', id, updateField('industry', 'X')), ctx)),
        ).toMatchObject({
          kind: 'permanent',
          code: 'OBJECT_NOT_FOUND',
        });
    });

    it('refuses actions on the wrong object, read-only fields, bad values, public replies', async () => {
      const lead = bed.seed('lead', { industry: 'Software' });
      const ticket = bed.seed('case', { subject: 'S', status: '1' });
      const cases: Array<[ExecuteRequest, string]> = [
        [
          request('lead', lead, {
            $case: 'closeCase',
            value: { resolutionCode: 'X', summary: '' },
          }),
          'WRONG_OBJECT_TYPE',
        ],
        [request('lead', lead, updateField('email', 'x@example.com')), 'FIELD_NOT_WRITABLE'],
        [request('lead', lead, updateField('score', 'lots')), 'INVALID_VALUE'],
        [
          request('lead', lead, { $case: 'qualifyLead', value: { score: 140, reason: '' } }),
          'INVALID_SCORE',
        ],
        [
          request('case', ticket, { $case: 'replyToCase', value: { body: 'Hi', public: true } }),
          'PUBLIC_REPLY_UNSUPPORTED',
        ],
      ];
      const writes = bed.fake.writeCount;
      for (const [req, code] of cases)
        expect(await failure(adapter.execute(req, ctx))).toMatchObject({ kind: 'permanent', code });
      expect(bed.fake.writeCount).toBe(writes);
    });
  });

  describe('OAuth', () => {
    it('refreshes an expired access token once, then succeeds', async () => {
      const refreshed: HubSpotTokens[] = [];
      const a = bed.newAdapter({ onTokensRefreshed: (t) => void refreshed.push(t) });
      const id = bed.seed('lead', { industry: 'Software' });
      bed.fake.expireAccessTokens();
      const r = await a.execute(request('lead', id, updateField('industry', 'Retail')), ctx);
      expect(r.status).toBe('applied');
      expect(bed.fake.refreshCount).toBe(1);
      expect(a.refreshCount).toBe(1);
      expect(refreshed).toHaveLength(1);
      expect(refreshed[0]!.expiresAt.getTime()).toBeGreaterThan(Date.now());
      await a.read(
        { tenantId: 't', target: { objectType: 'lead', recordId: id }, fields: ['industry'] },
        ctx,
      );
      expect(bed.fake.refreshCount).toBe(1);
      const statuses = bed.fake.requests.map((q) => q.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(1);
    });

    it('a refused refresh → auth-expired, after one refresh attempt', async () => {
      const id = bed.seed('lead', { industry: 'Software' });
      bed.fake.expireAccessTokens();
      bed.fake.revokeRefreshToken();
      const err = await failure(
        adapter.execute(request('lead', id, updateField('industry', 'X')), ctx),
      );
      expect(err).toMatchObject({ kind: 'auth-expired', code: 'REFRESH_FAILED' });
      expect(err.message).toContain('BAD_REFRESH_TOKEN');
      expect(bed.fake.refreshAttempts).toBe(1);
      expect(bed.fake.get('contacts', id)?.properties['industry']).toBe('Software');
    });

    it('refreshes before the first call when it has no access token, and ahead of expiry', async () => {
      let now = Date.now();
      const a = bed.newAdapter({ accessToken: undefined, now: () => new Date(now) });
      const id = bed.seed('lead', { industry: 'Software' });
      await a.read(
        { tenantId: 't', target: { objectType: 'lead', recordId: id }, fields: ['industry'] },
        ctx,
      );
      expect(bed.fake.refreshCount).toBe(1);
      now += 1800_000 - 30_000; // inside the refresh margin of the announced 30-minute expiry
      await a.read(
        { tenantId: 't', target: { objectType: 'lead', recordId: id }, fields: ['industry'] },
        ctx,
      );
      expect(bed.fake.refreshCount).toBe(2);
      expect(bed.fake.requests.some((q) => q.status === 401)).toBe(false);
    });

    it('a private-app token is never refreshed: expired → auth-expired', async () => {
      const a = new HubSpotAdapter({
        tenantId: 't',
        portalId: bed.fake.portalId,
        basePath: bed.fake.basePath,
        accessToken: bed.fake.issueAccessToken(),
        webhookClientSecret: 'secret',
      });
      const id = bed.seed('lead', { industry: 'Software' });
      bed.fake.expireAccessTokens();
      const err = await failure(a.execute(request('lead', id, updateField('industry', 'X')), ctx));
      expect(err).toMatchObject({ kind: 'auth-expired', code: 'EXPIRED_AUTHENTICATION' });
      expect(bed.fake.refreshAttempts).toBe(0);
    });

    it('keeps credentials out of inspect output and error messages', async () => {
      const text = inspect(adapter, { depth: 10 });
      expect(text).not.toContain(bed.fake.clientSecret);
      expect(text).not.toContain(bed.fake.currentRefreshToken);
      expect(text).not.toContain(bed.config.accessToken!);
    });
  });

  describe('idempotency', () => {
    it('a duplicate create is already-applied, with one object in HubSpot', async () => {
      const id = bed.seed('lead', { industry: 'Software', ownerId: '77' });
      const req = request('lead', id, {
        $case: 'createTask',
        value: { subject: 'Call back', dueAt: '2030-01-01T10:00:00.000Z', ownerId: '', notes: 'n' },
      });
      const first = await adapter.execute(req, ctx);
      const writes = bed.fake.writeCount;
      const second = await bed.newAdapter().execute(req, ctx); // as after a restart
      expect(first).toMatchObject({ status: 'applied' });
      expect(second).toMatchObject({ status: 'already-applied', createdIds: first.createdIds });
      expect(bed.fake.list('tasks')).toHaveLength(1);
      expect(bed.fake.writeCount).toBe(writes);
      expect(bed.fake.requests.some((q) => q.status === 409)).toBe(true);
      const task = bed.fake.list('tasks')[0]!;
      expect(task.properties).toMatchObject({
        hs_task_subject: 'Call back',
        hubspot_owner_id: '77', // the target's owner: the action named none
        mandate_idempotency_key: req.idempotencyKey,
      });
      expect(bed.fake.associated('tasks', task.id, 'contacts')).toEqual([id]);
    });

    it('an update whose key the record holds is already-applied, even after later actions', async () => {
      const id = bed.seed('lead', { industry: 'Software', status: 'NEW' });
      const a = request('lead', id, updateField('industry', 'Retail', 'Software'));
      await adapter.execute(a, ctx);
      await adapter.execute(request('lead', id, updateField('status', 'OPEN')), ctx);
      const writes = bed.fake.writeCount;
      expect((await bed.newAdapter().execute(a, ctx)).status).toBe('already-applied');
      expect(bed.fake.writeCount).toBe(writes);
      expect(bed.fake.get('contacts', id)?.properties).toMatchObject({
        mandate_last_action_key: expect.any(String),
        mandate_recent_action_keys: expect.stringContaining(a.idempotencyKey),
      });
    });
  });

  it('serialises concurrent actions on one record: one apply per key, no key lost', async () => {
    const id = bed.seed('lead', { industry: 'Software', status: 'NEW' });
    const a = request('lead', id, updateField('industry', 'Retail'));
    const b = request('lead', id, updateField('status', 'OPEN'));
    const results = await Promise.all([
      adapter.execute(a, ctx),
      adapter.execute(a, ctx),
      adapter.execute(b, ctx),
    ]);
    expect(results.map((r) => r.status)).toEqual(['applied', 'already-applied', 'applied']);
    const keys = bed.fake.get('contacts', id)?.properties['mandate_recent_action_keys'] ?? '';
    expect(keys.split('\n').sort()).toEqual([a.idempotencyKey, b.idempotencyKey].sort());
  });

  describe('optimistic concurrency', () => {
    it('a stale previous_value → conflict, nothing written', async () => {
      const id = bed.seed('lead', { industry: 'Software' });
      bed.fake.touch('contacts', id, { industry: 'Retail' }); // a user changed it meanwhile
      const writes = bed.fake.writeCount;
      const err = await failure(
        adapter.execute(request('lead', id, updateField('industry', 'X', 'Software')), ctx),
      );
      expect(err).toMatchObject({ kind: 'conflict', code: 'STALE_VALUE' });
      expect(err.message).not.toContain('Retail');
      expect(bed.fake.writeCount).toBe(writes);
      expect(bed.fake.get('contacts', id)?.properties['industry']).toBe('Retail');
    });

    it('a wrong from_stage → conflict, nothing written', async () => {
      const id = bed.seed('opportunity', { name: 'D', stage: 'contractsent' });
      const writes = bed.fake.writeCount;
      const err = await failure(
        adapter.execute(
          request('opportunity', id, {
            $case: 'moveOpportunityStage',
            value: { fromStage: 'qualifiedtobuy', toStage: 'closedwon' },
          }),
          ctx,
        ),
      );
      expect(err).toMatchObject({ kind: 'conflict', code: 'STAGE_CONFLICT' });
      expect(bed.fake.writeCount).toBe(writes);
      expect(bed.fake.get('deals', id)?.properties['dealstage']).toBe('contractsent');
    });
  });

  describe('compensate', () => {
    it('restores the previous values, once', async () => {
      const id = bed.seed('opportunity', { name: 'D', amountMinor: 50_000, currencyCode: 'EUR' });
      const req = request('opportunity', id, updateField('amountMinor', '45000', '50000'));
      const r = await adapter.execute(req, ctx);
      expect(bed.fake.get('deals', id)?.properties['amount']).toBe('450.00');
      const undo = JSON.parse(JSON.stringify(r.undo));
      expect((await adapter.compensate({ ...req, undo }, ctx)).status).toBe('applied');
      expect(bed.fake.get('deals', id)?.properties['amount']).toBe('500.00');
      expect((await adapter.compensate({ ...req, undo }, ctx)).status).toBe('already-applied');
    });

    it('clears a lifecycle stage before moving it back (HubSpot only moves it forward)', async () => {
      const id = bed.seed('lead', { lifecycleStage: 'lead' });
      const req = request('lead', id, {
        $case: 'qualifyLead',
        value: { score: 70, reason: 'fit' },
      });
      const r = await adapter.execute(req, ctx);
      expect(bed.fake.get('contacts', id)?.properties).toMatchObject({
        lifecyclestage: 'salesqualifiedlead',
        mandate_lead_score: '70',
      });
      const from = bed.fake.requests.length;
      await adapter.compensate({ ...req, undo: r.undo! }, ctx);
      const patches = bed.fake.requests.slice(from).filter((q) => q.method === 'PATCH');
      expect(patches).toHaveLength(2);
      expect(bed.fake.get('contacts', id)?.properties).toMatchObject({
        lifecyclestage: 'lead',
        mandate_lead_score: '',
      });
    });

    it('does not revert a field a user changed after the action', async () => {
      const id = bed.seed('case', { subject: 'S', status: '1' });
      const req = request('case', id, {
        $case: 'closeCase',
        value: { resolutionCode: 'RESOLVED', summary: '' },
      });
      const r = await adapter.execute(req, ctx);
      bed.fake.touch('tickets', id, { hs_pipeline_stage: '2' }); // reopened by a user
      const writes = bed.fake.writeCount;
      const err = await failure(adapter.compensate({ ...req, undo: r.undo! }, ctx));
      expect(err).toMatchObject({ kind: 'conflict', code: 'CHANGED_SINCE_ACTION' });
      expect(bed.fake.writeCount).toBe(writes);
    });
  });

  describe('engagements', () => {
    it('send_email logs an email on the recipient and the target; refuses opted-out recipients', async () => {
      const target = bed.seed('lead', { industry: 'Software' });
      const recipient = bed.seed('contact', { name: 'Grace Hopper' });
      const mail = (to: string): CrmAction['kind'] => ({
        $case: 'sendEmail',
        value: { toContactId: to, subject: 'Hello', body: 'Body', templateId: '' },
      });
      const r = await adapter.execute(request('lead', target, mail(recipient)), ctx);
      const emailId = r.createdIds![0]!;
      expect(bed.fake.get('emails', emailId)?.properties).toMatchObject({
        hs_email_direction: 'EMAIL',
        hs_email_subject: 'Hello',
      });
      expect(bed.fake.associated('emails', emailId, 'contacts').sort()).toEqual(
        [target, recipient].sort(),
      );

      const optedOut = bed.fake.seed('contacts', { firstname: 'No', hs_email_optout: 'true' });
      const writes = bed.fake.writeCount;
      const err = await failure(adapter.execute(request('lead', target, mail(optedOut)), ctx));
      expect(err).toMatchObject({ kind: 'permanent', code: 'RECIPIENT_OPTED_OUT' });
      expect(bed.fake.writeCount).toBe(writes);
    });

    it('reply_to_case (internal) creates a note on the ticket', async () => {
      const ticket = bed.seed('case', { subject: 'S', status: '1' });
      const r = await adapter.execute(
        request('case', ticket, {
          $case: 'replyToCase',
          value: { body: 'Looked into it', public: false },
        }),
        ctx,
      );
      expect(bed.fake.activities('tickets', ticket)).toEqual([
        { kind: 'note', id: r.createdIds![0], body: 'Looked into it' },
      ]);
    });
  });

  it('declares well-formed capabilities', async () => {
    expect(capabilityProblems(adapter.capabilities)).toEqual([]);
    expect(adapter.capabilities).toMatchObject({
      connector: 'hubspot',
      changeFeed: 'webhook',
      crmSideIdempotency: true,
      rateLimit: { requestsPerSecond: 10, burst: 10 },
    });
  });
});
