import { AuditKind } from '@mandate/contracts';
import { readBundleFiles } from '@mandate/policy-domain';
import { createLogger, generateApiToken } from '@mandate/platform';
import { defaultBundleDir } from './bundle-dir';
import { DEMO_TENANT, EmbeddedMandate, seedDemoTrust, startEmbedded } from './embedded';
import { operatorApi, operatorTokenEntries } from './testing/operator-api';
import { waitFor } from './testing/wait-for';

/**
 * The policy service's operator API on the embedded process: authentication, authorisation,
 * kill switches that change the next decision at once, two-person bundle activation, and shadow
 * mode recording where a candidate bundle would decide differently.
 */

const operators = {
  admin1: { id: 'admin-1', roles: ['policy-admin'], ...generateApiToken() },
  admin2: { id: 'admin-2', roles: ['policy-admin'], ...generateApiToken() },
  supAcme: { id: 'sup-acme', roles: ['supervisor'], tenantId: 'acme', ...generateApiToken() },
  supGlobex: { id: 'sup-globex', roles: ['supervisor'], tenantId: 'globex', ...generateApiToken() },
  viewer: { id: 'viewer', roles: [], ...generateApiToken() },
};

const HOT_LEAD = {
  employees: 1200,
  title: 'VP Operations',
  source: 'demo-request',
  industry: 'logistics',
  notes: 'pricing for 300 seats',
};

describe('policy operator API (embedded)', () => {
  let m: EmbeddedMandate;
  let seq = 0;

  const call = operatorApi(operators, () => m.httpPort);

  /** Creates a hot lead and returns the verdict policy gave its proposal (from the ledger). */
  const decide = async (): Promise<{ verdict: string; summary: string; lead: string }> => {
    const lead = `lead-admin-${++seq}`;
    const { event } = await m.crm.create(DEMO_TENANT, 'lead', lead, HOT_LEAD, `corr-${lead}`);
    const decision = await waitFor(`the decision on ${lead}`, async () => {
      const chain = await m.ledger.byCorrelation(DEMO_TENANT, event.correlationId);
      return chain.find((e) => e.record?.kind === AuditKind.AUDIT_KIND_DECISION)?.record;
    });
    return { verdict: decision.attributes['verdict'], summary: decision.summary, lead };
  };

  beforeAll(async () => {
    m = await startEmbedded({
      logger: createLogger('mandate-test', 'silent'),
      httpPort: 0,
      grpcPort: 0,
      apiTokens: operatorTokenEntries(operators),
    });
    await seedDemoTrust(m);
  });
  afterAll(async () => {
    await m.close();
  });

  it('refuses every route without a valid bearer token', async () => {
    expect((await call(undefined, 'GET', '/v1/policy/kill-switches')).status).toBe(401);
    const wrong = await fetch(`http://127.0.0.1:${m.httpPort}/v1/policy/bundles`, {
      headers: { authorization: 'Bearer mdt_not-a-token' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('shows a trusted agent its earned trust, and lets a supervisor read only their tenant', async () => {
    const own = await call(
      'supAcme',
      'GET',
      '/v1/tenants/acme/policy/trust/lead-qualification/qualify_lead',
    );
    expect(own.status).toBe(200);
    expect(own.body.band).toBe('high');
    expect(own.body.evidence.execution_success).toBeGreaterThanOrEqual(40);
    const other = await call(
      'supGlobex',
      'GET',
      '/v1/tenants/acme/policy/trust/lead-qualification/qualify_lead',
    );
    expect(other.status).toBe(403);
  });

  it('demotes the next decision at once when a kill switch is set, and restores autonomy when it is cleared', async () => {
    expect((await decide()).verdict).toMatch(/^VERDICT_AUTO/);
    const target = { scope: 'agent', tenantId: 'acme', agentId: 'lead-qualification' };

    const forbidden = await call('supGlobex', 'POST', '/v1/policy/kill-switches', {
      ...target,
      mode: 'deny',
      reason: 'not my tenant',
    });
    expect(forbidden.status).toBe(403);
    const invalid = await call('admin1', 'POST', '/v1/policy/kill-switches', {
      scope: 'agent',
      mode: 'deny',
      reason: 'no agent named',
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toMatch(/agentId/);

    const set = await call('supAcme', 'POST', '/v1/policy/kill-switches', {
      ...target,
      mode: 'deny',
      reason: 'agent misbehaving in the pilot',
    });
    expect(set.status).toBe(201);
    const listed = await call('admin1', 'GET', '/v1/policy/kill-switches');
    expect(listed.body.killSwitches).toEqual([
      expect.objectContaining({ ...target, mode: 'deny', setBy: 'sup-acme' }),
    ]);
    const denied = await decide();
    expect(denied.verdict).toBe('VERDICT_DENY');
    expect(denied.summary).toMatch(/KILL_SWITCH_AGENT/);
    expect((await m.crm.get(DEMO_TENANT, denied.lead))?.appliedActions).toEqual([]);

    const cleared = await call('supAcme', 'POST', '/v1/policy/kill-switches/clear', {
      ...target,
      reason: 'fixed',
    });
    expect(cleared.status).toBe(201);
    expect((await call('admin1', 'GET', '/v1/policy/kill-switches')).body.killSwitches).toEqual([]);
    expect((await decide()).verdict).toMatch(/^VERDICT_AUTO/);
  });

  it('refuses an invalid bundle with the validator messages and keeps serving the last good one', async () => {
    const files = await readBundleFiles(defaultBundleDir());
    const broken = {
      ...files,
      'bundle.json': JSON.stringify({
        ...JSON.parse(files['bundle.json']),
        version: '9.9.9-broken',
      }),
      'policies/99-broken.cedar':
        'forbid (principal, action, resource) when { resource.noSuchAttribute == 1 };',
    };
    const pushed = await call('admin1', 'POST', '/v1/policy/bundles', { files: broken });
    expect(pushed.status).toBe(400);
    expect(pushed.body.errors.join('\n')).toMatch(/noSuchAttribute/);
    const state = await call('admin1', 'GET', '/v1/policy/bundles');
    expect(state.body.serving.version).toBe('1.0.0');
    expect(state.body.bundles.map((b: { id: string }) => b.id)).not.toContain('9.9.9-broken');
  });

  it('activates a bundle only with a second admin, and records shadow divergences before that', async () => {
    const files = await readBundleFiles(defaultBundleDir());
    const matrix = JSON.parse(files['matrix.json']);
    matrix.version = 'matrix-strict';
    for (const risk of ['low', 'medium'])
      for (const band of Object.keys(matrix.cells[risk])) matrix.cells[risk][band] = 'APPROVE_1';
    const candidate = {
      ...files,
      'bundle.json': JSON.stringify({ ...JSON.parse(files['bundle.json']), version: '1.1.0' }),
      'matrix.json': JSON.stringify(matrix),
    };
    expect((await call('supAcme', 'POST', '/v1/policy/bundles', { files: candidate })).status).toBe(
      403,
    );
    const pushed = await call('admin1', 'POST', '/v1/policy/bundles', { files: candidate });
    expect(pushed).toEqual(expect.objectContaining({ status: 201 }));

    // Shadow first: the active bundle still decides, the candidate's disagreement is recorded.
    const shadow = await call('admin1', 'POST', '/v1/policy/bundles/shadow', {
      version: '1.1.0',
      reason: 'judge the stricter matrix on real traffic',
    });
    expect(shadow.status).toBe(200);
    const shadowed = await decide();
    expect(shadowed.verdict).toMatch(/^VERDICT_AUTO/);
    const divergences = await waitFor('a divergence', async () => {
      const r = await call(
        'admin1',
        'GET',
        '/v1/tenants/acme/policy/shadow-divergences?bundle=1.1.0',
      );
      return r.body.divergences.length ? r.body.divergences : undefined;
    });
    expect(divergences[0]).toEqual(
      expect.objectContaining({
        activeBundle: '1.0.0',
        shadowBundle: '1.1.0',
        shadowVerdict: 'VERDICT_APPROVE_1',
      }),
    );

    // Two-person rule: the pusher cannot activate it; another admin can.
    const self = await call('admin1', 'POST', '/v1/policy/bundles/1.1.0/activate', {
      reason: 'mine',
    });
    expect(self.status).toBe(403);
    const approved = await call('admin2', 'POST', '/v1/policy/bundles/1.1.0/activate', {
      reason: 'reviewed the divergences',
    });
    expect(approved.status).toBe(200);
    expect((await call('admin2', 'GET', '/v1/policy/bundles')).body.serving.version).toBe('1.1.0');
    const strict = await decide();
    expect(strict.verdict).toBe('VERDICT_APPROVE_1');
  });
});
