import * as path from 'node:path';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { INestApplicationContext } from '@nestjs/common';
import {
  ClearKillSwitchRequest,
  ClearKillSwitchResponse,
  GetOversightRequest,
  GetOversightResponse,
  PolicyControlEvent,
  PolicyServiceClient,
  RecheckRequest,
  SetKillSwitchRequest,
  SetKillSwitchResponse,
  Verdict,
} from '@mandate/contracts';
import { SYSTEM_TENANT, Topics } from '@mandate/messaging';
import {
  BundleRegistry,
  CircuitBreakers,
  ControlAdmin,
  KillSwitchBoard,
  loadBundleDirectory,
  POLICY_CONTROLS,
  PolicyDecider,
  PolicyOversight,
  TRUST_STATES,
  TrustRepository,
  type ControlDoc,
} from '@mandate/policy-domain';
import {
  GrpcServerHost,
  ProcessMetrics,
  createLogger,
  generateApiToken,
  serviceTokenMetadata,
} from '@mandate/platform';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { inProcessOversight, PolicyOversightApi } from './oversight.adapter';
import { registerPolicyGrpc } from './policy.grpc-controller';

const NOW = new Date('2025-03-01T12:00:00Z');
const BUNDLE_DIR = path.resolve(__dirname, '../../bundles/default');
const ACME_ADMIN = { id: 'adm-acme', roles: ['admin'], tenantId: 'acme' };
/** human-review's control credential: policy is configured with its sha256 only. */
const CONTROL = generateApiToken();

function newHost() {
  return new GrpcServerHost(
    createLogger('test', 'silent'),
    new ProcessMetrics(false).forService('test'),
  );
}

function unary<Req, Res>(
  client: PolicyServiceClient,
  method: 'getOversight' | 'setKillSwitch' | 'clearKillSwitch' | 'recheck',
  request: Req,
  metadata: Metadata = serviceTokenMetadata(CONTROL.token),
): Promise<Res> {
  return new Promise((resolve, reject) =>
    (
      client[method] as unknown as (
        r: Req,
        m: Metadata,
        cb: (err: ServiceError | null, res: Res) => void,
      ) => void
    ).call(client, request, metadata, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

describe('PolicyService oversight over gRPC', () => {
  const host = newHost();
  let client: PolicyServiceClient;
  let trust: TrustRepository;
  let controls: InMemoryDocumentStore<ControlDoc>;
  let kicks = 0;

  beforeAll(async () => {
    const registry = new BundleRegistry();
    const offered = registry.offer(await loadBundleDirectory(BUNDLE_DIR), NOW);
    if (!offered.ok) throw new Error(offered.errors.join('\n'));
    trust = new TrustRepository(new InMemoryDocumentStore(TRUST_STATES));
    controls = new InMemoryDocumentStore<ControlDoc>(POLICY_CONTROLS);
    const admin = new ControlAdmin(new KillSwitchBoard(), controls, () => NOW);
    const breakers = new CircuitBreakers(undefined, undefined, () => NOW);
    breakers.applyTrip({
      kind: 'error_spike',
      tenantId: 'globex',
      agentId: 'lead-qualification',
      reason: '3 execution failures within 10 min',
      trippedAt: NOW.toISOString(),
      demoteTo: Verdict.VERDICT_DENY,
    });
    breakers.applyTrip({
      kind: 'rejection_rate',
      tenantId: 'acme',
      agentId: 'lead-qualification',
      reason: '4 of 6 reviews rejected within 60 min',
      trippedAt: NOW.toISOString(),
      demoteTo: Verdict.VERDICT_APPROVE_1,
    });
    const api = new PolicyOversightApi(
      new PolicyOversight({ trust, breakers, controls: admin, registry }),
      admin,
      { kick: async () => void kicks++ },
      () => NOW,
    );
    // A global switch set by a policy admin through the operator API.
    await admin.setKillSwitch(
      { id: 'pa-1', roles: ['policy-admin'] },
      { scope: 'global' },
      'require_approval',
      'drill',
    );
    for (const [tenant, agent, n] of [
      ['acme', 'lead-qualification', 3],
      ['globex', 'globex-bot', 2],
    ] as const)
      for (let i = 0; i < n; i++)
        await trust.record(tenantId(tenant), agent, 'qualify_lead', {
          eventId: `${tenant}-${i}`,
          kind: 'review_approve',
          at: new Date(NOW.getTime() - (n - i) * 60_000),
        });
    const app = {
      get: (token: unknown) => (token === PolicyOversightApi ? api : ({} as PolicyDecider)),
    } as unknown as Pick<INestApplicationContext, 'get'>;
    registerPolicyGrpc(host, app, { controlTokens: [generateApiToken().sha256, CONTROL.sha256] });
    const port = await host.start('127.0.0.1', 0);
    client = new PolicyServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await host.stop();
  });

  const oversight = (tenant: string, agentId?: string) =>
    unary<GetOversightRequest, GetOversightResponse>(
      client,
      'getOversight',
      GetOversightRequest.fromPartial({ tenantId: tenant, agentId }),
    );
  const set = (r: Parameters<typeof SetKillSwitchRequest.fromPartial>[0]) =>
    unary<SetKillSwitchRequest, SetKillSwitchResponse>(
      client,
      'setKillSwitch',
      SetKillSwitchRequest.fromPartial(r),
    );
  const clear = (r: Parameters<typeof ClearKillSwitchRequest.fromPartial>[0]) =>
    unary<ClearKillSwitchRequest, ClearKillSwitchResponse>(
      client,
      'clearKillSwitch',
      ClearKillSwitchRequest.fromPartial(r),
    );
  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return { code: status[(err as ServiceError).code], details: (err as ServiceError).details };
    }
    throw new Error('the call succeeded');
  };
  const controlEvents = async () =>
    (await controls.pendingOutbox({ limit: 1000 }))
      .flatMap((p) => [...p.entries])
      .filter((e) => e.topic === Topics.policyControl.name)
      .map((e) => PolicyControlEvent.decode(e.payload));

  it('refuses every oversight rpc without the control credential, or with a wrong one (UNAUTHENTICATED), changing nothing', async () => {
    const before = kicks;
    const events = (await controlEvents()).length;
    const target = { scope: 'tenant', tenantId: 'acme' };
    const wrong = [
      new Metadata(), // none: e.g. the orchestrator's pod asserting an admin actor
      serviceTokenMetadata(generateApiToken().token),
      serviceTokenMetadata(CONTROL.sha256), // the configured hash is not the credential
      (() => {
        const m = new Metadata();
        m.set('authorization', `Basic ${CONTROL.token}`);
        return m;
      })(),
    ];
    for (const metadata of wrong) {
      const calls: [string, Promise<unknown>][] = [
        [
          'get',
          unary(
            client,
            'getOversight',
            GetOversightRequest.fromPartial({ tenantId: 'acme' }),
            metadata,
          ),
        ],
        [
          'set',
          unary(
            client,
            'setKillSwitch',
            SetKillSwitchRequest.fromPartial({
              actor: ACME_ADMIN,
              target,
              mode: 'deny',
              reason: 'x',
            }),
            metadata,
          ),
        ],
        [
          'clear',
          unary(
            client,
            'clearKillSwitch',
            ClearKillSwitchRequest.fromPartial({ actor: ACME_ADMIN, target, reason: 'x' }),
            metadata,
          ),
        ],
        // Recheck too: its reviews are the caller's word (a forged approval would get a token).
        ['recheck', unary(client, 'recheck', RecheckRequest.fromPartial({}), metadata)],
      ];
      for (const [what, call] of calls) {
        const refused = await codeOf(call);
        expect([what, refused.code]).toEqual([what, 'UNAUTHENTICATED']);
        expect(refused.details).toMatch(/service credential/);
      }
    }
    // With the credential, Recheck goes on to check its input.
    const checked = await codeOf(
      unary(client, 'recheck', RecheckRequest.fromPartial({}), serviceTokenMetadata(CONTROL.token)),
    );
    expect(checked.code).toBe('INVALID_ARGUMENT');
    expect(kicks).toBe(before);
    expect((await controlEvents()).length).toBe(events);
    expect((await oversight('acme')).killSwitches.map((s) => s.scope)).toEqual(['global']);
  });

  it("answers one agent's view when asked for an agent id, INVALID_ARGUMENT for a malformed one", async () => {
    const view = await oversight('acme', 'lead-qualification');
    expect(view.tenantId).toBe('acme');
    expect(view.agents.map((a) => a.agentId)).toEqual(['lead-qualification']);
    expect(view.agents[0].actionTypes.map((t) => t.history.length)).toEqual([3]);
    expect((await oversight('acme', 'nobody')).agents).toEqual([]);
    expect((await oversight('acme', '')).agents).toHaveLength(4); // empty: every agent
    for (const bad of ['a b', 'x'.repeat(129), 'lead/qualification'])
      expect((await codeOf(oversight('acme', bad))).code).toBe('INVALID_ARGUMENT');
  });

  it("answers one tenant's view as proto messages, nothing of another tenant", async () => {
    const view = await oversight('acme');
    expect(view).toMatchObject({
      tenantId: 'acme',
      asOf: NOW.toISOString(),
      matrixVersion: 'matrix-1',
      riskBands: ['low', 'medium', 'high', 'critical'],
      killSwitches: [
        {
          scope: 'global',
          tenantId: '',
          mode: 'require_approval',
          reason: 'drill',
          setBy: 'pa-1',
          setAt: NOW.toISOString(),
          version: '1',
        },
      ],
    });
    expect(view.bundleVersion).not.toBe('');
    expect(view.agents.map((a) => a.agentId)).toEqual([
      'deal-desk',
      'lead-qualification',
      'outreach',
      'service-triage',
    ]);
    const lead = view.agents[1];
    expect(lead).toMatchObject({
      deployed: true,
      purpose: 'lead-qualification',
      ceiling: Verdict.VERDICT_AUTO,
      breakers: [
        {
          kind: 'rejection_rate',
          agentId: 'lead-qualification',
          reason: '4 of 6 reviews rejected within 60 min',
          trippedAt: NOW.toISOString(),
          demoteTo: Verdict.VERDICT_APPROVE_1,
        },
      ],
    });
    const [qualify] = lead.actionTypes;
    expect(qualify.actionType).toBe('qualify_lead');
    expect(qualify.trust).toMatchObject({ band: 'untrusted', modelVersion: 'trust-1' });
    expect(qualify.trust?.evidence['review_approve']).toBe(3);
    expect(qualify.history.map((p) => p.at)).toEqual([
      new Date(NOW.getTime() - 180_000).toISOString(),
      new Date(NOW.getTime() - 120_000).toISOString(),
      new Date(NOW.getTime() - 60_000).toISOString(),
    ]);
    expect(qualify.autonomy).toEqual({
      byRiskBand: {
        low: Verdict.VERDICT_APPROVE_1,
        medium: Verdict.VERDICT_APPROVE_1,
        high: Verdict.VERDICT_APPROVE_2,
        critical: Verdict.VERDICT_DENY,
      },
      effective: {
        low: Verdict.VERDICT_APPROVE_1,
        medium: Verdict.VERDICT_APPROVE_1,
        high: Verdict.VERDICT_APPROVE_2,
        critical: Verdict.VERDICT_DENY,
      },
      ceiling: Verdict.VERDICT_AUTO,
    });
    const json = JSON.stringify(GetOversightResponse.toJSON(view));
    expect(json).not.toContain('globex');
  });

  it('refuses a missing, malformed or reserved tenant id with INVALID_ARGUMENT', async () => {
    for (const tenant of ['', 'Not A Tenant', SYSTEM_TENANT])
      expect((await codeOf(oversight(tenant))).code).toBe('INVALID_ARGUMENT');
  });

  it("lets a console admin engage and release their tenant's kill switches, kicking the relay", async () => {
    const target = { scope: 'agent', tenantId: 'acme', agentId: 'outreach' };
    const before = kicks;
    const r = await set({ actor: ACME_ADMIN, target, mode: 'deny', reason: 'incident 42' });
    expect(r.result).toEqual({
      ok: true,
      status: 'accepted',
      eventId: expect.any(String),
      version: '1',
      problem: '',
    });
    expect(kicks).toBe(before + 1);
    expect((await controlEvents()).map((e) => e.eventId)).toContain(r.result?.eventId);
    const outreach = (await oversight('acme')).agents.find((a) => a.agentId === 'outreach');
    expect(outreach?.killSwitches.map((s) => [s.scope, s.agentId, s.mode, s.setBy])).toEqual([
      ['agent', 'outreach', 'deny', 'adm-acme'],
      ['global', '', 'require_approval', 'pa-1'],
    ]);
    expect(outreach?.actionTypes).toEqual([]);
    // Not a switch of another tenant.
    expect((await oversight('globex')).killSwitches.map((s) => s.scope)).toEqual(['global']);

    const c = await clear({ actor: ACME_ADMIN, target, reason: 'fixed' });
    expect(c.result).toMatchObject({ ok: true, status: 'accepted', version: '2' });
    expect(kicks).toBe(before + 2);
    expect((await oversight('acme')).killSwitches.map((s) => s.scope)).toEqual(['global']);
  });

  it('refuses (ok=false, audited) a console admin acting on another tenant, globally or across tenants', async () => {
    const before = kicks;
    for (const target of [
      { scope: 'tenant', tenantId: 'globex' },
      { scope: 'agent', tenantId: 'globex', agentId: 'lead-qualification' },
      { scope: 'global' },
      { scope: 'agent', agentId: 'outreach' },
    ]) {
      const r = await set({ actor: ACME_ADMIN, target, mode: 'deny', reason: 'overreach' });
      expect(r.result).toMatchObject({ ok: false, status: 'forbidden', eventId: '' });
      expect(r.result?.problem).toContain('adm-acme');
    }
    const cleared = await clear({ actor: ACME_ADMIN, target: { scope: 'global' }, reason: 'x' });
    expect(cleared.result).toMatchObject({ ok: false, status: 'forbidden' });
    expect(kicks).toBe(before);
    expect((await oversight('globex')).killSwitches.map((s) => s.scope)).toEqual(['global']);
    // Each refusal is on record for the audit ledger.
    const refused = await controls.find(tenantId(SYSTEM_TENANT), { kind: 'refused' });
    expect(refused.filter((d) => d.actor === 'adm-acme')).toHaveLength(5);
  });

  it('gives no other console role, nor a policy role the caller asserts, any control', async () => {
    for (const roles of [['reviewer'], ['supervisor'], ['auditor'], ['policy-admin']]) {
      const r = await set({
        actor: { id: 'someone', roles, tenantId: 'acme' },
        target: { scope: 'tenant', tenantId: 'acme' },
        mode: 'deny',
        reason: 'try',
      });
      expect(r.result).toMatchObject({ ok: false, status: 'forbidden' });
    }
  });

  it('answers malformed input with INVALID_ARGUMENT', async () => {
    const target = { scope: 'tenant', tenantId: 'acme' };
    const cases: [string, Promise<unknown>][] = [
      ['no actor', set({ target, mode: 'deny', reason: 'r' })],
      ['no target', set({ actor: ACME_ADMIN, mode: 'deny', reason: 'r' })],
      ['bad mode', set({ actor: ACME_ADMIN, target, mode: 'maybe', reason: 'r' })],
      ['no reason', set({ actor: ACME_ADMIN, target, mode: 'deny', reason: ' ' })],
      [
        'bad scope',
        set({ actor: ACME_ADMIN, target: { scope: 'planet' }, mode: 'deny', reason: 'r' }),
      ],
      [
        'tenant scope without tenant',
        clear({ actor: ACME_ADMIN, target: { scope: 'tenant' }, reason: 'r' }),
      ],
    ];
    for (const [what, call] of cases)
      expect([what, (await codeOf(call)).code]).toEqual([what, 'INVALID_ARGUMENT']);
  });
});

describe('registerPolicyGrpc without control tokens (the embedded process, or none configured)', () => {
  it('answers the oversight rpcs PERMISSION_DENIED whatever the caller presents (fail closed)', async () => {
    const host = newHost();
    const controls = new InMemoryDocumentStore<ControlDoc>(POLICY_CONTROLS);
    const admin = new ControlAdmin(new KillSwitchBoard(), controls, () => NOW);
    const api = new PolicyOversightApi(
      new PolicyOversight({
        trust: new TrustRepository(new InMemoryDocumentStore(TRUST_STATES)),
        breakers: new CircuitBreakers(),
        controls: admin,
        registry: new BundleRegistry(),
      }),
      admin,
      { kick: async () => undefined },
      () => NOW,
    );
    registerPolicyGrpc(host, Object.create(PolicyDecider.prototype) as PolicyDecider, api);
    const port = await host.start('127.0.0.1', 0);
    const client = new PolicyServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      for (const metadata of [new Metadata(), serviceTokenMetadata(CONTROL.token)]) {
        await expect(
          unary(
            client,
            'getOversight',
            GetOversightRequest.fromPartial({ tenantId: 'acme' }),
            metadata,
          ),
        ).rejects.toMatchObject({
          code: status.PERMISSION_DENIED,
          details: expect.stringContaining('set POLICY_CONTROL_TOKENS'),
        });
        await expect(
          unary(
            client,
            'setKillSwitch',
            SetKillSwitchRequest.fromPartial({
              actor: ACME_ADMIN,
              target: { scope: 'tenant', tenantId: 'acme' },
              mode: 'deny',
              reason: 'x',
            }),
            metadata,
          ),
        ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
        await expect(
          unary(
            client,
            'clearKillSwitch',
            ClearKillSwitchRequest.fromPartial({
              actor: ACME_ADMIN,
              target: { scope: 'tenant', tenantId: 'acme' },
              reason: 'x',
            }),
            metadata,
          ),
        ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      }
      expect(await admin.list()).toEqual([]);
    } finally {
      client.close();
      await host.stop();
    }
  });
});

describe('registerPolicyGrpc with a decider only', () => {
  it('answers the oversight rpcs UNIMPLEMENTED', async () => {
    const host = newHost();
    registerPolicyGrpc(host, Object.create(PolicyDecider.prototype) as PolicyDecider);
    const port = await host.start('127.0.0.1', 0);
    const client = new PolicyServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      await expect(
        unary(client, 'getOversight', GetOversightRequest.fromPartial({ tenantId: 'acme' })),
      ).rejects.toMatchObject({
        code: status.UNIMPLEMENTED,
      });
    } finally {
      client.close();
      await host.stop();
    }
  });
});

describe('inProcessOversight', () => {
  class Unavailable extends Error {}

  it('answers as the API does, and maps "not started" and failures to the given error', async () => {
    const controls = new InMemoryDocumentStore<ControlDoc>(POLICY_CONTROLS);
    const admin = new ControlAdmin(new KillSwitchBoard(), controls, () => NOW);
    const trust = new TrustRepository(new InMemoryDocumentStore(TRUST_STATES));
    let kicked = 0;
    const api = new PolicyOversightApi(
      new PolicyOversight({
        trust,
        breakers: new CircuitBreakers(),
        controls: admin,
        registry: new BundleRegistry(),
      }),
      admin,
      { kick: async () => void kicked++ },
      () => NOW,
    );
    const ref: { current?: PolicyOversightApi } = {};
    const port = inProcessOversight(() => ref.current, { unavailable: (m) => new Unavailable(m) });

    await expect(port.oversight('acme')).rejects.toBeInstanceOf(Unavailable);
    ref.current = api;
    expect(await port.oversight('acme')).toMatchObject({ tenantId: 'acme', agents: [] });
    await expect(port.oversight('Bad Tenant')).rejects.toThrow('invalid tenant id');
    await trust.record(tenantId('acme'), 'bot-a', 'qualify_lead', {
      eventId: 'a1',
      kind: 'review_approve',
      at: NOW,
    });
    await trust.record(tenantId('acme'), 'bot-b', 'qualify_lead', {
      eventId: 'b1',
      kind: 'review_approve',
      at: NOW,
    });
    expect((await port.oversight('acme')).agents.map((a) => a.agentId)).toEqual(['bot-a', 'bot-b']);
    expect(
      (await port.oversight('acme', { agentId: 'bot-b' })).agents.map((a) => a.agentId),
    ).toEqual(['bot-b']);
    await expect(port.oversight('acme', { agentId: 'bad agent' })).rejects.toThrow(
      'invalid agent id',
    );

    expect(
      await port.setKillSwitch(ACME_ADMIN, { scope: 'tenant', tenantId: 'acme' }, 'deny', 'r'),
    ).toMatchObject({ ok: true, status: 'accepted', version: 1 });
    expect(kicked).toBe(1);
    expect(
      await port.setKillSwitch(ACME_ADMIN, { scope: 'tenant', tenantId: 'globex' }, 'deny', 'r'),
    ).toMatchObject({ ok: false, status: 'forbidden' });
    expect(
      await port.clearKillSwitch(
        ACME_ADMIN,
        { scope: 'tenant', tenantId: 'acme', agentId: '' },
        '',
      ),
    ).toEqual({ ok: false, status: 'invalid', problem: 'a reason is required (it is audited)' });
    expect(
      await port.clearKillSwitch(ACME_ADMIN, { scope: 'tenant', tenantId: 'acme' }, 'done'),
    ).toMatchObject({ ok: true, version: 2 });
    expect(kicked).toBe(2);

    jest.spyOn(trust, 'list').mockRejectedValueOnce(new Error('storage down'));
    await expect(port.oversight('acme')).rejects.toThrow(Unavailable);
  });
});
