import { status, type Metadata } from '@grpc/grpc-js';
import {
  ClearKillSwitchRequest,
  ClearKillSwitchResponse,
  GetOversightRequest,
  GetOversightResponse,
  PolicyServiceService,
  SetKillSwitchRequest,
  SetKillSwitchResponse,
  Verdict,
} from '@mandate/contracts';
import {
  GrpcError,
  GrpcServerHost,
  ProcessMetrics,
  ServiceTokenVerifier,
  createLogger,
  generateApiToken,
  serviceTokenOf,
} from '@mandate/platform';
import { PolicyUnavailableError, type OversightActor } from '@mandate/review-domain';
import { tenantId } from '@mandate/storage';
import {
  GrpcAgentOversight,
  OversightIntegrityError,
  PolicyCredentialError,
} from './policy-oversight.grpc';

const ACME = tenantId('acme');
const GLOBEX = tenantId('globex');
const ADMIN: OversightActor = { id: 'adm-acme', roles: ['admin'], tenantId: 'acme' };
const AT = '2025-03-01T12:00:00.000Z';
/** The control credential human-review holds; the fake policy accepts its sha256 only. */
const CONTROL = generateApiToken();

/** A policy service as the real one answers: per tenant, its own agents; console admins act in their tenant. */
function viewOf(tenant: string): GetOversightResponse {
  const global = {
    scope: 'global',
    tenantId: '',
    agentId: '',
    actionType: '',
    mode: 'require_approval',
    reason: 'drill',
    setBy: 'pa-1',
    setAt: AT,
    version: '3',
  };
  const own = {
    ...global,
    scope: 'agent',
    tenantId: tenant,
    agentId: `${tenant}-bot`,
    mode: 'deny',
    reason: 'incident',
    setBy: `adm-${tenant}`,
    version: '1',
  };
  return GetOversightResponse.fromPartial({
    tenantId: tenant,
    asOf: AT,
    bundleVersion: '1.2.0',
    bundleHash: 'sha256:abc',
    matrixVersion: 'matrix-1',
    riskBands: ['low', 'medium', 'high', 'critical'],
    killSwitches: [global, own],
    agents: [
      {
        agentId: `${tenant}-bot`,
        deployed: true,
        purpose: 'lead-qualification',
        ceiling: Verdict.VERDICT_AUTO,
        killSwitches: [global, own],
        breakers: [
          {
            kind: 'rejection_rate',
            agentId: `${tenant}-bot`,
            reason: '4 of 6 reviews rejected within 60 min',
            trippedAt: AT,
            demoteTo: Verdict.VERDICT_APPROVE_1,
          },
        ],
        actionTypes: [
          {
            actionType: 'qualify_lead',
            trust: {
              score: 0.91,
              band: 'medium',
              mean: 0.97,
              novelty: 0.02,
              alpha: 41,
              beta: 1,
              evidence: { review_approve: 40, incident: 0 },
              asOf: AT,
              modelVersion: 'trust-1',
            },
            history: [
              { at: '2025-03-01T10:00:00.000Z', score: 0.5, band: 'untrusted' },
              { at: '2025-03-01T11:00:00.000Z', score: 0.91, band: 'medium' },
            ],
            autonomy: {
              byRiskBand: {
                low: Verdict.VERDICT_AUTO,
                medium: Verdict.VERDICT_AUTO_WITH_NOTICE,
                high: Verdict.VERDICT_APPROVE_1,
                critical: Verdict.VERDICT_APPROVE_2,
              },
              effective: {
                low: Verdict.VERDICT_DENY,
                medium: Verdict.VERDICT_DENY,
                high: Verdict.VERDICT_DENY,
                critical: Verdict.VERDICT_DENY,
              },
              ceiling: Verdict.VERDICT_AUTO,
            },
          },
        ],
      },
      {
        agentId: 'retired-bot',
        deployed: false,
        ceiling: Verdict.VERDICT_UNSPECIFIED,
        actionTypes: [],
        breakers: [],
        killSwitches: [global],
      },
    ],
  });
}

describe('GrpcAgentOversight (PolicyService over gRPC)', () => {
  const host = new GrpcServerHost(
    createLogger('test', 'silent'),
    new ProcessMetrics(false).forService('test'),
  );
  const received: unknown[] = [];
  /** The `authorization` metadata of every call, in order. */
  const authorizations: (string | undefined)[] = [];
  /** The control credentials the fake policy accepts (none: PERMISSION_DENIED, as policy). */
  let accepted = new ServiceTokenVerifier([CONTROL.sha256]);
  /** Replaces the server's answer to GetOversight for one test. */
  let override: ((req: GetOversightRequest) => Promise<GetOversightResponse>) | undefined;
  let client: GrpcAgentOversight;
  let port: number;

  /** Console admins may act on targets pinned to their own tenant, nothing else (as policy maps them). */
  const control = (req: SetKillSwitchRequest | ClearKillSwitchRequest) => {
    received.push(req);
    const { actor, target } = req;
    if (!actor?.id || !target?.scope)
      throw new GrpcError(status.INVALID_ARGUMENT, 'actor and target are required');
    if (!req.reason.trim())
      throw new GrpcError(status.INVALID_ARGUMENT, 'a reason is required (it is audited)');
    const allowed =
      actor.roles.includes('admin') && !!target.tenantId && target.tenantId === actor.tenantId;
    return allowed
      ? { ok: true, status: 'accepted', eventId: 'ev-1', version: '7', problem: '' }
      : {
          ok: false,
          status: 'forbidden',
          eventId: '',
          version: '0',
          problem: `${actor.id} may not change this control`,
        };
  };

  /** Policy's check of the caller's control credential, as registerPolicyGrpc does it. */
  const checkCredential = (metadata: Metadata) => {
    const token = serviceTokenOf(metadata);
    authorizations.push(token);
    if (!accepted.configured)
      throw new GrpcError(
        status.PERMISSION_DENIED,
        'oversight and kill switches over gRPC are disabled: set POLICY_CONTROL_TOKENS',
      );
    if (!accepted.verify(token))
      throw new GrpcError(status.UNAUTHENTICATED, 'a valid control credential is required');
  };

  beforeAll(async () => {
    host.addUnaryService(PolicyServiceService, {
      decide: async () => {
        throw new GrpcError(status.UNIMPLEMENTED, 'not here');
      },
      preview: async () => {
        throw new GrpcError(status.UNIMPLEMENTED, 'not here');
      },
      recheck: async () => {
        throw new GrpcError(status.UNIMPLEMENTED, 'not here');
      },
      getOversight: async (req, metadata) => {
        checkCredential(metadata);
        const r = req as GetOversightRequest;
        received.push(r);
        if (override) return override(r);
        if (!r.tenantId) throw new GrpcError(status.INVALID_ARGUMENT, 'invalid tenant id');
        return viewOf(r.tenantId);
      },
      setKillSwitch: async (req, metadata) => {
        checkCredential(metadata);
        return SetKillSwitchResponse.fromPartial({ result: control(req as SetKillSwitchRequest) });
      },
      clearKillSwitch: async (req, metadata) => {
        checkCredential(metadata);
        return ClearKillSwitchResponse.fromPartial({
          result: control(req as ClearKillSwitchRequest),
        });
      },
    });
    port = await host.start('127.0.0.1', 0);
    client = new GrpcAgentOversight({
      address: `127.0.0.1:${port}`,
      deadlineMs: 2_000,
      controlToken: CONTROL.token,
    });
  });
  afterAll(async () => {
    client.close();
    await host.stop();
  });
  beforeEach(() => {
    received.length = 0;
    authorizations.length = 0;
    accepted = new ServiceTokenVerifier([CONTROL.sha256]);
    override = undefined;
  });

  it("maps the tenant's view to plain JSON: ISO instants, verdict names, numbers", async () => {
    const view = await client.oversight(ACME);
    expect(received).toEqual([{ tenantId: 'acme', agentId: '' }]);
    expect(view).toEqual({
      tenantId: 'acme',
      asOf: AT,
      bundleVersion: '1.2.0',
      bundleHash: 'sha256:abc',
      matrixVersion: 'matrix-1',
      riskBands: ['low', 'medium', 'high', 'critical'],
      killSwitches: [
        {
          scope: 'global',
          mode: 'require_approval',
          reason: 'drill',
          setBy: 'pa-1',
          setAt: AT,
          version: 3,
        },
        {
          scope: 'agent',
          tenantId: 'acme',
          agentId: 'acme-bot',
          mode: 'deny',
          reason: 'incident',
          setBy: 'adm-acme',
          setAt: AT,
          version: 1,
        },
      ],
      agents: [
        {
          agentId: 'acme-bot',
          deployed: true,
          purpose: 'lead-qualification',
          ceiling: 'AUTO',
          killSwitches: view.killSwitches,
          breakers: [
            {
              kind: 'rejection_rate',
              agentId: 'acme-bot',
              reason: '4 of 6 reviews rejected within 60 min',
              trippedAt: AT,
              demoteTo: 'APPROVE_1',
            },
          ],
          actionTypes: [
            {
              actionType: 'qualify_lead',
              trust: {
                score: 0.91,
                band: 'medium',
                mean: 0.97,
                novelty: 0.02,
                alpha: 41,
                beta: 1,
                evidence: { review_approve: 40, incident: 0 },
                asOf: AT,
                modelVersion: 'trust-1',
              },
              history: [
                { at: '2025-03-01T10:00:00.000Z', score: 0.5, band: 'untrusted' },
                { at: '2025-03-01T11:00:00.000Z', score: 0.91, band: 'medium' },
              ],
              autonomy: {
                byRiskBand: {
                  low: 'AUTO',
                  medium: 'AUTO_WITH_NOTICE',
                  high: 'APPROVE_1',
                  critical: 'APPROVE_2',
                },
                effective: { low: 'DENY', medium: 'DENY', high: 'DENY', critical: 'DENY' },
                ceiling: 'AUTO',
              },
            },
          ],
        },
        {
          agentId: 'retired-bot',
          deployed: false,
          actionTypes: [],
          breakers: [],
          killSwitches: [view.killSwitches[0]],
        },
      ],
    });
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });

  it("asks for the caller's tenant and refuses a view that carries another tenant's data", async () => {
    expect((await client.oversight(GLOBEX)).agents[0].agentId).toBe('globex-bot');
    expect(received).toEqual([{ tenantId: 'globex', agentId: '' }]);

    // A misrouted answer: globex's view for an acme request.
    override = async () => viewOf('globex');
    await expect(client.oversight(ACME)).rejects.toBeInstanceOf(OversightIntegrityError);

    // acme's view with a switch pinned to globex slipped into an agent's list.
    override = async () => {
      const v = viewOf('acme');
      v.agents[1].killSwitches.push({ ...viewOf('globex').killSwitches[1] });
      return v;
    };
    await expect(client.oversight(ACME)).rejects.toThrow("not tenant acme's alone");
  });

  it('sends its control credential with every call (authorization: Bearer <token>)', async () => {
    await client.oversight(ACME);
    const target = { scope: 'tenant' as const, tenantId: 'acme' };
    await client.setKillSwitch(ADMIN, target, 'deny', 'incident');
    await client.clearKillSwitch(ADMIN, target, 'fixed');
    expect(authorizations).toEqual([CONTROL.token, CONTROL.token, CONTROL.token]);
  });

  it("asks for one agent's view when given an agent id, and refuses an answer with another agent", async () => {
    override = async (r) => {
      const v = viewOf(r.tenantId);
      return GetOversightResponse.fromPartial({
        ...v,
        agents: v.agents.filter((a) => a.agentId === r.agentId),
      });
    };
    const view = await client.oversight(ACME, { agentId: 'acme-bot' });
    expect(received).toEqual([{ tenantId: 'acme', agentId: 'acme-bot' }]);
    expect(view.agents.map((a) => a.agentId)).toEqual(['acme-bot']);
    // A policy that ignores the filter (an older one) answers every agent: not this agent's view.
    override = async (r) => viewOf(r.tenantId);
    await expect(client.oversight(ACME, { agentId: 'acme-bot' })).rejects.toBeInstanceOf(
      OversightIntegrityError,
    );
  });

  it('makes a refused credential a PolicyCredentialError (503) that says so, and sends nothing without one', async () => {
    const target = { scope: 'tenant' as const, tenantId: 'acme' };
    // A credential policy does not accept: UNAUTHENTICATED.
    const stranger = new GrpcAgentOversight({
      address: `127.0.0.1:${port}`,
      controlToken: generateApiToken().token,
    });
    try {
      await expect(stranger.oversight(ACME)).rejects.toThrow(
        new PolicyCredentialError(
          "policy refused this service's control credential (GetOversight): check that the " +
            'sha256 of POLICY_CONTROL_TOKEN is in policy’s POLICY_CONTROL_TOKENS',
        ),
      );
      const set = stranger.setKillSwitch(ADMIN, target, 'deny', 'r');
      await expect(set).rejects.toBeInstanceOf(PolicyCredentialError);
      await expect(set).rejects.toBeInstanceOf(PolicyUnavailableError); // so: 503
    } finally {
      stranger.close();
    }
    // Policy with no credentials configured: PERMISSION_DENIED, its reason passed on.
    accepted = new ServiceTokenVerifier([]);
    await expect(client.oversight(ACME)).rejects.toThrow(/set POLICY_CONTROL_TOKENS/);
    await expect(client.clearKillSwitch(ADMIN, target, 'r')).rejects.toBeInstanceOf(
      PolicyCredentialError,
    );
    // No credential here: refused before anything is sent.
    authorizations.length = 0;
    received.length = 0;
    const none = new GrpcAgentOversight({ address: `127.0.0.1:${port}` });
    try {
      await expect(none.oversight(ACME)).rejects.toThrow(/set POLICY_CONTROL_TOKEN/);
      await expect(none.setKillSwitch(ADMIN, target, 'deny', 'r')).rejects.toBeInstanceOf(
        PolicyCredentialError,
      );
    } finally {
      none.close();
    }
    expect(authorizations).toEqual([]);
    expect(received).toEqual([]);
  });

  it("engages a switch in the admin's tenant, sending the actor, target, mode and reason", async () => {
    const target = { scope: 'agent' as const, tenantId: 'acme', agentId: 'acme-bot' };
    expect(await client.setKillSwitch(ADMIN, target, 'deny', 'incident 42')).toEqual({
      ok: true,
      status: 'accepted',
      eventId: 'ev-1',
      version: 7,
    });
    expect(received).toEqual([
      SetKillSwitchRequest.fromPartial({
        actor: { id: 'adm-acme', roles: ['admin'], tenantId: 'acme' },
        target: { scope: 'agent', tenantId: 'acme', agentId: 'acme-bot', actionType: '' },
        mode: 'deny',
        reason: 'incident 42',
      }),
    ]);
    expect(await client.clearKillSwitch(ADMIN, target, 'fixed')).toMatchObject({
      ok: true,
      version: 7,
    });
  });

  it('answers a refusal (another tenant, global) as ok=false, not an exception', async () => {
    for (const target of [
      { scope: 'tenant' as const, tenantId: 'globex' },
      { scope: 'global' as const },
    ]) {
      expect(await client.setKillSwitch(ADMIN, target, 'deny', 'overreach')).toEqual({
        ok: false,
        status: 'forbidden',
        problem: 'adm-acme may not change this control',
      });
      expect(await client.clearKillSwitch(ADMIN, target, 'overreach')).toMatchObject({
        ok: false,
        status: 'forbidden',
      });
    }
  });

  it('answers INVALID_ARGUMENT as ok=false, status invalid', async () => {
    expect(
      await client.setKillSwitch(ADMIN, { scope: 'tenant', tenantId: 'acme' }, 'deny', ' '),
    ).toEqual({
      ok: false,
      status: 'invalid',
      problem: 'a reason is required (it is audited)',
    });
  });

  it('makes a policy failure, a deadline or an unreachable policy PolicyUnavailableError', async () => {
    override = async () => {
      throw new Error('storage down');
    };
    await expect(client.oversight(ACME)).rejects.toThrow(PolicyUnavailableError);
    await expect(client.oversight(ACME)).rejects.toThrow('INTERNAL');

    override = () => new Promise((resolve) => setTimeout(() => resolve(viewOf('acme')), 500));
    const impatient = new GrpcAgentOversight({
      address: `127.0.0.1:${port}`,
      deadlineMs: 50,
      controlToken: CONTROL.token,
    });
    try {
      await expect(impatient.oversight(ACME)).rejects.toThrow('DEADLINE_EXCEEDED');
    } finally {
      impatient.close();
    }

    const gone = new GrpcServerHost(
      createLogger('test', 'silent'),
      new ProcessMetrics(false).forService('gone'),
    );
    const freePort = await gone.start('127.0.0.1', 0);
    await gone.stop();
    const nowhere = new GrpcAgentOversight({
      address: `127.0.0.1:${freePort}`,
      deadlineMs: 1_000,
      controlToken: CONTROL.token,
    });
    try {
      await expect(nowhere.oversight(ACME)).rejects.toBeInstanceOf(PolicyUnavailableError);
      await expect(
        nowhere.setKillSwitch(ADMIN, { scope: 'tenant', tenantId: 'acme' }, 'deny', 'r'),
      ).rejects.toBeInstanceOf(PolicyUnavailableError);
    } finally {
      nowhere.close();
    }
  });
});
