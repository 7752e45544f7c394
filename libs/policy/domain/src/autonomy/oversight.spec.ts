import * as path from 'node:path';
import { Verdict } from '@mandate/contracts';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { loadBundleDirectory } from '../cedar/bundle-directory.loader';
import { BundleRegistry } from '../cedar/bundle.registry';
import { ControlAdmin, POLICY_CONTROLS, type ControlDoc } from '../control/control-admin';
import { TRUST_STATES, TrustRepository } from '../trust/trust.repository';
import { CircuitBreakers } from './circuit-breakers';
import { POLICY_ADMIN_ROLE, type Principal } from './control-authorizer';
import { KillSwitchBoard } from './kill-switch.board';
import { PolicyOversight, consoleControlPrincipal, type TenantOversight } from './oversight';

const BUNDLE_DIR = path.resolve(__dirname, '../../../bundles/default');
const ACME = tenantId('acme');
const GLOBEX = tenantId('globex');
const NOW = new Date('2025-03-01T12:00:00Z');
const ADMIN: Principal = { id: 'pa-1', roles: [POLICY_ADMIN_ROLE] };
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

async function setup(o: { bundle?: boolean } = {}) {
  const registry = new BundleRegistry();
  if (o.bundle ?? true) {
    const offered = registry.offer(await loadBundleDirectory(BUNDLE_DIR), NOW);
    if (!offered.ok) throw new Error(offered.errors.join('\n'));
  }
  const trust = new TrustRepository(new InMemoryDocumentStore(TRUST_STATES));
  const board = new KillSwitchBoard();
  const controlStore = new InMemoryDocumentStore<ControlDoc>(POLICY_CONTROLS);
  const admin = new ControlAdmin(board, controlStore, () => NOW);
  const breakers = new CircuitBreakers(undefined, undefined, () => NOW);
  const oversight = new PolicyOversight({ trust, breakers, controls: admin, registry });
  /** `n` clean reviewed-and-executed actions. */
  const earn = async (tenant: typeof ACME, agentId: string, actionType: string, n: number) => {
    for (let i = 0; i < n; i++)
      for (const kind of ['review_approve', 'execution_success'] as const)
        await trust.record(tenant, agentId, actionType, {
          eventId: `${agentId}/${actionType}/${i}/${kind}`,
          kind,
          at: minutesAgo(2 * n - i),
        });
  };
  const trip = (tenant: string, agentId: string, kind: 'rejection_rate' | 'error_spike') =>
    breakers.applyTrip({
      kind,
      tenantId: tenant,
      agentId,
      reason: `${kind} tripped`,
      trippedAt: minutesAgo(1).toISOString(),
      demoteTo: kind === 'error_spike' ? Verdict.VERDICT_DENY : Verdict.VERDICT_APPROVE_1,
    });
  return { registry, trust, admin, breakers, oversight, earn, trip };
}

const agent = (view: TenantOversight, id: string) => {
  const found = view.agents.find((a) => a.agentId === id);
  if (!found) throw new Error(`agent ${id} not in the view`);
  return found;
};

describe('PolicyOversight', () => {
  it("lists the bundle's agents of the tenant and every agent with trust, with trust over time", async () => {
    const t = await setup();
    await t.earn(ACME, 'lead-qualification', 'qualify_lead', 40);
    await t.trust.record(ACME, 'retired-bot', 'send_email', {
      eventId: 'r1',
      kind: 'review_reject',
      at: minutesAgo(5),
    });

    const view = await t.oversight.forTenant(ACME, NOW);

    expect(view).toMatchObject({
      tenantId: 'acme',
      asOf: NOW.toISOString(),
      bundleVersion: t.registry.active()?.identity.version,
      bundleHash: t.registry.active()?.identity.contentHash,
      matrixVersion: 'matrix-1',
      riskBands: ['low', 'medium', 'high', 'critical'],
      killSwitches: [],
    });
    expect(view.agents.map((a) => [a.agentId, a.deployed, a.ceiling])).toEqual([
      ['deal-desk', true, 'APPROVE_1'],
      ['lead-qualification', true, 'AUTO'],
      ['outreach', true, 'APPROVE_1'],
      ['retired-bot', false, undefined],
      ['service-triage', true, 'AUTO_WITH_NOTICE'],
    ]);
    expect(agent(view, 'deal-desk').actionTypes).toEqual([]);

    const [qualify] = agent(view, 'lead-qualification').actionTypes;
    const now = await t.trust.get(ACME, 'lead-qualification', 'qualify_lead', NOW);
    expect(qualify.actionType).toBe('qualify_lead');
    expect(qualify.trust).toEqual({
      score: now.score,
      band: 'high',
      mean: now.mean,
      novelty: now.novelty,
      alpha: now.alpha,
      beta: now.beta,
      evidence: now.evidence,
      asOf: NOW.toISOString(),
      modelVersion: 'trust-1',
    });
    expect(qualify.history).toHaveLength(80);
    expect(qualify.history[0]).toEqual({
      at: minutesAgo(80).toISOString(),
      score: expect.any(Number),
      band: 'untrusted',
    });
    expect(qualify.history[79].band).toBe('high');

    // High trust: the matrix's "high" column; the AUTO ceiling restricts nothing.
    expect(qualify.autonomy).toEqual({
      byRiskBand: {
        low: 'AUTO',
        medium: 'AUTO_WITH_NOTICE',
        high: 'APPROVE_1',
        critical: 'APPROVE_2',
      },
      effective: {
        low: 'AUTO',
        medium: 'AUTO_WITH_NOTICE',
        high: 'APPROVE_1',
        critical: 'APPROVE_2',
      },
      ceiling: 'AUTO',
    });

    // An agent the bundle does not know: the cells for its trust, but nothing is allowed.
    const [email] = agent(view, 'retired-bot').actionTypes;
    expect(email.trust.band).toBe('untrusted');
    expect(email.autonomy).toEqual({
      byRiskBand: { low: 'APPROVE_1', medium: 'APPROVE_1', high: 'APPROVE_2', critical: 'DENY' },
      effective: { low: 'DENY', medium: 'DENY', high: 'DENY', critical: 'DENY' },
    });
  });

  it("caps the matrix at the agent's ceiling", async () => {
    const t = await setup();
    await t.earn(ACME, 'deal-desk', 'apply_discount', 40);
    const [discount] = agent(await t.oversight.forTenant(ACME, NOW), 'deal-desk').actionTypes;
    expect(discount.autonomy).toEqual({
      byRiskBand: {
        low: 'AUTO',
        medium: 'AUTO_WITH_NOTICE',
        high: 'APPROVE_1',
        critical: 'APPROVE_2',
      },
      effective: {
        low: 'APPROVE_1',
        medium: 'APPROVE_1',
        high: 'APPROVE_1',
        critical: 'APPROVE_2',
      },
      ceiling: 'APPROVE_1',
    });
  });

  it("shows the tenant's open breakers per agent and applies their demotion", async () => {
    const t = await setup();
    await t.earn(ACME, 'lead-qualification', 'qualify_lead', 40);
    t.trip('acme', 'lead-qualification', 'rejection_rate');
    t.trip('globex', 'lead-qualification', 'error_spike');
    t.trip('globex', 'globex-only-bot', 'error_spike');

    const view = await t.oversight.forTenant(ACME, NOW);
    const lead = agent(view, 'lead-qualification');
    expect(lead.breakers).toEqual([
      {
        kind: 'rejection_rate',
        agentId: 'lead-qualification',
        reason: 'rejection_rate tripped',
        trippedAt: minutesAgo(1).toISOString(),
        demoteTo: 'APPROVE_1',
      },
    ]);
    expect(lead.actionTypes[0].autonomy.effective).toEqual({
      low: 'APPROVE_1',
      medium: 'APPROVE_1',
      high: 'APPROVE_1',
      critical: 'APPROVE_2',
    });
    expect(view.agents.map((a) => a.agentId)).not.toContain('globex-only-bot');
    expect(view.agents.flatMap((a) => a.breakers).every((b) => b.kind === 'rejection_rate')).toBe(
      true,
    );

    // The other tenant sees its own breakers, an agent that only has a breaker there included.
    const globex = await t.oversight.forTenant(GLOBEX, NOW);
    expect(agent(globex, 'globex-only-bot').breakers.map((b) => b.kind)).toEqual(['error_spike']);
    expect(agent(globex, 'lead-qualification').breakers.map((b) => b.kind)).toEqual([
      'error_spike',
    ]);
  });

  it('shows the kill switches that apply: global, tenant, agent and action scopes, never another tenant', async () => {
    const t = await setup();
    await t.earn(ACME, 'lead-qualification', 'qualify_lead', 40);
    await t.earn(ACME, 'lead-qualification', 'assign_owner', 40);
    const set = async (target: Parameters<ControlAdmin['setKillSwitch']>[1], mode = 'deny') => {
      const r = await t.admin.setKillSwitch(ADMIN, target, mode as 'deny', `stop ${target.scope}`);
      if (!r.ok) throw new Error(r.problem);
    };
    await set({ scope: 'global' }, 'require_approval');
    await set({
      scope: 'action',
      tenantId: 'acme',
      agentId: 'lead-qualification',
      actionType: 'qualify_lead',
    });
    await set({ scope: 'agent', tenantId: 'acme', agentId: 'outreach' });
    await set({ scope: 'tenant', tenantId: 'globex' });
    await set({ scope: 'agent', tenantId: 'globex', agentId: 'lead-qualification' });
    await set({ scope: 'agent', tenantId: 'globex', agentId: 'globex-only-bot' });

    const view = await t.oversight.forTenant(ACME, NOW);
    const keys = (
      list: readonly { scope: string; tenantId?: string; agentId?: string; actionType?: string }[],
    ) => list.map((s) => [s.scope, s.tenantId, s.agentId, s.actionType].join('|'));
    expect(keys(view.killSwitches).sort()).toEqual(
      ['action|acme|lead-qualification|qualify_lead', 'agent|acme|outreach|', 'global|||'].sort(),
    );
    expect(view.killSwitches.find((s) => s.scope === 'global')).toEqual({
      scope: 'global',
      mode: 'require_approval',
      reason: 'stop global',
      setBy: 'pa-1',
      setAt: NOW.toISOString(),
      version: 1,
    });
    expect(view.agents.map((a) => a.agentId)).not.toContain('globex-only-bot');

    const lead = agent(view, 'lead-qualification');
    expect(keys(lead.killSwitches).sort()).toEqual(
      ['action|acme|lead-qualification|qualify_lead', 'global|||'].sort(),
    );
    expect(keys(agent(view, 'outreach').killSwitches).sort()).toEqual(
      ['agent|acme|outreach|', 'global|||'].sort(),
    );
    expect(keys(agent(view, 'deal-desk').killSwitches)).toEqual(['global|||']);

    // The deny switch on qualify_lead denies it; the global require_approval holds the rest to APPROVE_1.
    const byType = Object.fromEntries(lead.actionTypes.map((a) => [a.actionType, a]));
    expect(Object.values(byType['qualify_lead'].autonomy.effective)).toEqual([
      'DENY',
      'DENY',
      'DENY',
      'DENY',
    ]);
    expect(byType['assign_owner'].autonomy.effective).toEqual({
      low: 'APPROVE_1',
      medium: 'APPROVE_1',
      high: 'APPROVE_1',
      critical: 'APPROVE_2',
    });

    // Globex sees its own switches and the global one, none of acme's.
    const globex = await t.oversight.forTenant(GLOBEX, NOW);
    expect(keys(globex.killSwitches).sort()).toEqual(
      [
        'agent|globex|globex-only-bot|',
        'agent|globex|lead-qualification|',
        'global|||',
        'tenant|globex||',
      ].sort(),
    );
  });

  it("never shows another tenant's trust", async () => {
    const t = await setup();
    await t.earn(GLOBEX, 'lead-qualification', 'qualify_lead', 10);
    await t.earn(GLOBEX, 'globex-bot', 'close_case', 3);
    const view = await t.oversight.forTenant(ACME, NOW);
    expect(view.agents.map((a) => a.agentId)).toEqual([
      'deal-desk',
      'lead-qualification',
      'outreach',
      'service-triage',
    ]);
    expect(view.agents.flatMap((a) => a.actionTypes)).toEqual([]);
    const globex = await t.oversight.forTenant(GLOBEX, NOW);
    expect(agent(globex, 'globex-bot').actionTypes.map((a) => a.actionType)).toEqual([
      'close_case',
    ]);
  });

  it('only lists bundle agents deployed in the tenant', async () => {
    const t = await setup();
    const active = t.registry.active();
    if (!active) throw new Error('no bundle');
    active.bundle.agents.push({
      id: 'globex-pilot',
      purpose: 'service',
      allowedFields: [],
      ceiling: Verdict.VERDICT_APPROVE_2,
      tenants: ['globex'],
    });
    expect((await t.oversight.forTenant(ACME, NOW)).agents.map((a) => a.agentId)).not.toContain(
      'globex-pilot',
    );
    expect(agent(await t.oversight.forTenant(GLOBEX, NOW), 'globex-pilot')).toMatchObject({
      deployed: true,
      purpose: 'service',
      ceiling: 'APPROVE_2',
    });
  });

  it("answers one agent's view when asked for an agent, reading only its trust documents", async () => {
    const t = await setup();
    await t.earn(ACME, 'lead-qualification', 'qualify_lead', 3);
    await t.earn(ACME, 'deal-desk', 'apply_discount', 2);
    await t.earn(ACME, 'deal-desk', 'log_activity', 1);
    t.trip('acme', 'lead-qualification', 'error_spike');
    await t.admin.setKillSwitch(
      ADMIN,
      { scope: 'agent', tenantId: 'acme', agentId: 'outreach' },
      'deny',
      'incident',
    );
    const list = jest.spyOn(t.trust, 'list');
    const full = await t.oversight.forTenant(ACME, NOW);
    const view = await t.oversight.forTenant(ACME, NOW, { agentId: 'deal-desk' });
    expect(list.mock.calls[1][2]).toEqual({ agentId: 'deal-desk' });
    expect(view.agents.map((a) => a.agentId)).toEqual(['deal-desk']);
    expect(view.agents[0]).toEqual(agent(full, 'deal-desk'));
    expect(view.agents[0].actionTypes.map((a) => a.actionType)).toEqual([
      'apply_discount',
      'log_activity',
    ]);
    // The tenant's switches are listed whole; another agent's breaker is not this agent's.
    expect(view.killSwitches).toEqual(full.killSwitches);
    expect(view.agents[0].breakers).toEqual([]);
    // An agent with a breaker only, and one the tenant knows nothing of.
    expect(
      (await t.oversight.forTenant(ACME, NOW, { agentId: 'lead-qualification' })).agents.map(
        (a) => [a.agentId, a.breakers.length, a.actionTypes.length],
      ),
    ).toEqual([['lead-qualification', 1, 1]]);
    expect((await t.oversight.forTenant(ACME, NOW, { agentId: 'nobody' })).agents).toEqual([]);
    // Not another tenant's agent of the same id.
    await t.earn(GLOBEX, 'deal-desk', 'apply_discount', 1);
    const globex = await t.oversight.forTenant(GLOBEX, NOW, { agentId: 'deal-desk' });
    expect(globex.agents[0].actionTypes.map((a) => a.actionType)).toEqual(['apply_discount']);
    expect(globex.killSwitches).toEqual([]);
  });

  it('without a bundle: trust only, no matrix, nothing allowed', async () => {
    const t = await setup({ bundle: false });
    await t.earn(ACME, 'lead-qualification', 'qualify_lead', 40);
    const view = await t.oversight.forTenant(ACME, NOW);
    expect(view.bundleVersion).toBeUndefined();
    expect(view.matrixVersion).toBeUndefined();
    expect(view.agents.map((a) => [a.agentId, a.deployed, a.ceiling])).toEqual([
      ['lead-qualification', false, undefined],
    ]);
    expect(view.agents[0].actionTypes[0].autonomy).toEqual({
      byRiskBand: {},
      effective: { low: 'DENY', medium: 'DENY', high: 'DENY', critical: 'DENY' },
    });
  });

  it('reads an unusable matrix as no matrix (everything DENY)', async () => {
    const t = await setup();
    await t.earn(ACME, 'lead-qualification', 'qualify_lead', 40);
    const active = t.registry.active();
    if (!active) throw new Error('no bundle');
    active.bundle.files['matrix.json'] = { version: 'broken' };
    const fresh = new PolicyOversight({
      trust: t.trust,
      breakers: t.breakers,
      controls: t.admin,
      registry: t.registry,
    });
    const view = await fresh.forTenant(ACME, NOW);
    expect(view.matrixVersion).toBeUndefined();
    expect(view.bundleVersion).toBe(active.identity.version);
    expect(agent(view, 'lead-qualification').actionTypes[0].autonomy.effective.low).toBe('DENY');
  });
});

describe('consoleControlPrincipal', () => {
  const controls = () =>
    new ControlAdmin(
      new KillSwitchBoard(),
      new InMemoryDocumentStore<ControlDoc>(POLICY_CONTROLS),
      () => NOW,
    );

  it('makes a console admin a supervisor of their own tenant only', async () => {
    const admin = controls();
    const p = consoleControlPrincipal({ id: 'adm-acme', roles: ['admin'], tenantId: 'acme' });
    expect(p).toEqual({ id: 'adm-acme', roles: ['supervisor'], tenantId: 'acme' });
    const allowed = [
      { scope: 'tenant', tenantId: 'acme' },
      { scope: 'agent', tenantId: 'acme', agentId: 'outreach' },
      { scope: 'action', tenantId: 'acme', agentId: 'outreach', actionType: 'send_email' },
    ] as const;
    for (const target of allowed)
      expect((await admin.setKillSwitch(p, target, 'deny', 'incident 7')).ok).toBe(true);
    const refused = [
      { scope: 'global' },
      { scope: 'tenant', tenantId: 'globex' },
      { scope: 'agent', tenantId: 'globex', agentId: 'outreach' },
      { scope: 'agent', agentId: 'outreach' },
      { scope: 'action', actionType: 'send_email' },
    ] as const;
    for (const target of refused)
      expect(await admin.setKillSwitch(p, target, 'deny', 'incident 7')).toMatchObject({
        ok: false,
        status: 'forbidden',
      });
  });

  it('gives every other console role, and policy roles the caller asserts, no control', async () => {
    const admin = controls();
    const actors = [
      { id: 'rev', roles: ['reviewer'], tenantId: 'acme' },
      { id: 'sup', roles: ['supervisor'], tenantId: 'acme' },
      { id: 'aud', roles: ['auditor'], tenantId: 'acme' },
      { id: 'sneaky', roles: ['policy-admin', 'supervisor'], tenantId: 'acme' },
      { id: 'adm-nowhere', roles: ['admin'] },
    ];
    for (const actor of actors) {
      const p = consoleControlPrincipal(actor);
      expect(p.roles).toEqual([]);
      expect(
        await admin.setKillSwitch(p, { scope: 'tenant', tenantId: 'acme' }, 'deny', 'x'),
      ).toMatchObject({ ok: false, status: 'forbidden' });
    }
    expect(consoleControlPrincipal(undefined)).toEqual({ id: '', roles: [] });
  });
});
