import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AuditKind } from '@mandate/contracts';
import { PLANS } from '@mandate/orchestrator-domain';
import { createLogger, generateApiToken } from '@mandate/platform';
import { defaultPromptsDir } from './bundle-dir';
import { DEMO_TENANT, EmbeddedMandate, startEmbedded } from './embedded';
import { operatorApi, operatorTokenEntries } from './testing/operator-api';
import { waitFor } from './testing/wait-for';

/**
 * The orchestrator's operator API on the embedded process: the prompt lifecycle as prompt admins
 * use it (a changed prompt becomes a draft; two people approve and activate it; the next
 * proposal records the new version and hash; rollback), and reading a plan per tenant.
 */

const operators = {
  alice: { id: 'alice', roles: ['prompt-admin'], ...generateApiToken() },
  bob: { id: 'bob', roles: ['prompt-admin'], ...generateApiToken() },
  supAcme: { id: 'sup-acme', roles: ['supervisor'], tenantId: 'acme', ...generateApiToken() },
  supGlobex: { id: 'sup-globex', roles: ['supervisor'], tenantId: 'globex', ...generateApiToken() },
};

const HOT_LEAD = {
  employees: 1200,
  title: 'VP Operations',
  source: 'demo-request',
  industry: 'logistics',
  notes: 'pricing for 300 seats',
};

describe('orchestrator operator API (embedded)', () => {
  let m: EmbeddedMandate;
  let seq = 0;

  const call = operatorApi(operators, () => m.httpPort);

  /** Creates a hot lead; returns its proposal's ledger record and plan id. */
  const propose = async () => {
    const lead = `lead-api-${++seq}`;
    const { event } = await m.crm.create(DEMO_TENANT, 'lead', lead, HOT_LEAD, `corr-${lead}`);
    const record = await waitFor(`the proposal on ${lead}`, async () => {
      const chain = await m.ledger.byCorrelation(DEMO_TENANT, event.correlationId);
      return chain.find((e) => e.record?.kind === AuditKind.AUDIT_KIND_PROPOSAL)?.record;
    });
    return record;
  };

  beforeAll(async () => {
    m = await startEmbedded({
      logger: createLogger('mandate-test', 'silent'),
      httpPort: 0,
      grpcPort: 0,
      apiTokens: operatorTokenEntries(operators),
    });
  });
  afterAll(async () => {
    await m.close();
  });

  it('needs a token, and the prompt-admin role to change prompts', async () => {
    expect((await call(undefined, 'GET', '/v1/prompts/lead-qualification/active')).status).toBe(
      401,
    );
    const file = readFileSync(
      path.join(defaultPromptsDir(), 'lead-qualification', 'prompt.md'),
      'utf8',
    );
    const denied = await call('supAcme', 'POST', '/v1/prompts/lead-qualification/versions', {
      file,
    });
    expect(denied.status).toBe(403);
    expect((await call('supAcme', 'GET', '/v1/prompts/lead-qualification/active')).status).toBe(
      200,
    );
  });

  it('runs the two-person lifecycle; proposals record the active version; rollback restores it', async () => {
    const seeded = await call('alice', 'GET', '/v1/prompts/lead-qualification/active');
    expect(seeded.body).toMatchObject({ version: 1, status: 'active' });
    const before = await propose();
    expect(before.attributes['prompt']).toBe('lead-qualification@1');
    expect(before.attributes['promptHash']).toBe(seeded.body.contentHash);

    const file = readFileSync(
      path.join(defaultPromptsDir(), 'lead-qualification', 'prompt.md'),
      'utf8',
    ).replace(/\n## user/, '\nBe brief in every reason.\n\n## user');
    const bad = await call('alice', 'POST', '/v1/prompts/lead-qualification/versions', {
      file: 'not a prompt file',
    });
    expect(bad.status).toBe(400);
    const wrongId = await call('alice', 'POST', '/v1/prompts/deal-desk/versions', { file });
    expect(wrongId.status).toBe(400);

    const draft = await call('alice', 'POST', '/v1/prompts/lead-qualification/versions', { file });
    expect(draft.status).toBe(201);
    expect(draft.body).toMatchObject({ version: 2, status: 'draft', author: 'alice' });
    expect(draft.body.contentHash).not.toBe(seeded.body.contentHash);

    // The author may not approve their own version; someone else may.
    const own = await call('alice', 'POST', '/v1/prompts/lead-qualification/versions/2/approve');
    expect(own.status).toBe(409);
    expect(own.body.message).toMatch(/author/i);
    expect(
      (await call('bob', 'POST', '/v1/prompts/lead-qualification/versions/2/approve')).status,
    ).toBe(200);
    const activated = await call(
      'bob',
      'POST',
      '/v1/prompts/lead-qualification/versions/2/activate',
    );
    expect(activated.body).toMatchObject({ version: 2, status: 'active' });

    const diff = await call('bob', 'GET', '/v1/prompts/lead-qualification/diff?from=1&to=2');
    expect(diff.body.diff).toContain('+Be brief in every reason.');

    const after = await propose();
    expect(after.attributes['prompt']).toBe('lead-qualification@2');
    expect(after.attributes['promptHash']).toBe(draft.body.contentHash);

    const noReason = await call(
      'bob',
      'POST',
      '/v1/prompts/lead-qualification/versions/1/rollback',
      {},
    );
    expect(noReason.status).toBe(400);
    const rolled = await call('bob', 'POST', '/v1/prompts/lead-qualification/versions/1/rollback', {
      reason: 'reasons got too terse',
    });
    expect(rolled.body).toMatchObject({ version: 1, status: 'active' });
    expect((await propose()).attributes['prompt']).toBe('lead-qualification@1');
    const history = await call('alice', 'GET', '/v1/prompts/lead-qualification/history');
    expect(history.body.history.map((h: { change: string }) => h.change)).toEqual(
      expect.arrayContaining(['activate', 'rollback']),
    );
  });

  it('serves a plan to its own tenant only, without the encoded proposals', async () => {
    const record = await propose();
    const planId = record.attributes['planId'];
    const plans = await m.runtime.stores.store(PLANS);
    expect(await plans.get(DEMO_TENANT, planId)).not.toBeNull();

    const own = await call('supAcme', 'GET', `/v1/tenants/acme/plans/${planId}`);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ id: planId, agentId: 'lead-qualification' });
    expect(own.body.steps[0]).toMatchObject({ tool: 'qualify_lead' });
    expect(own.body.steps[0].proposal).toBeUndefined();
    expect((await call('supGlobex', 'GET', `/v1/tenants/acme/plans/${planId}`)).status).toBe(403);
    expect((await call('supAcme', 'GET', '/v1/tenants/acme/plans/nope')).status).toBe(404);
  });
});
