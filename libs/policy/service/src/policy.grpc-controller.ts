import { status, type Metadata } from '@grpc/grpc-js';
import type { INestApplicationContext } from '@nestjs/common';
import {
  ClearKillSwitchRequest,
  ClearKillSwitchResponse,
  ControlResult,
  DecideRequest,
  DecideResponse,
  GetOversightRequest,
  GetOversightResponse,
  PolicyServiceService,
  PreviewRequest,
  PreviewResponse,
  RecheckRequest,
  RecheckResponse,
  SetKillSwitchRequest,
  SetKillSwitchResponse,
  Verdict,
  type Actor,
  type KillSwitchInForce as KillSwitchInForceMessage,
} from '@mandate/contracts';
import {
  PolicyDecider,
  verdictOfName,
  type ConsoleActor,
  type KillSwitchInForce,
  type TenantOversight,
} from '@mandate/policy-domain';
import { GrpcError, GrpcServerHost, ServiceTokenVerifier, serviceTokenOf } from '@mandate/platform';
import {
  InvalidOversightRequestError,
  PolicyOversightApi,
  type OversightControlResult,
} from './oversight.adapter';

export interface PolicyGrpcOptions {
  /**
   * sha256 (hex) of each service credential accepted on Recheck, GetOversight, SetKillSwitch and
   * ClearKillSwitch (`POLICY_CONTROL_TOKENS`; human-review's `POLICY_CONTROL_TOKEN`). None: those
   * four rpcs answer PERMISSION_DENIED (disabled; fail closed).
   */
  readonly controlTokens?: readonly string[];
}

/**
 * gRPC face of policy, on the same engine as the event flow. Decide decides a proposal on the
 * CRM's current facts without recording it (the event flow records); Preview returns the verdict
 * and explanation only; Recheck re-decides after human review and issues a token once the
 * required approvals are present.
 *
 * GetOversight, SetKillSwitch and ClearKillSwitch serve the review console's "Agents" view
 * through `PolicyOversightApi`. Every pod that reaches this port (the orchestrator running the
 * agents included) could otherwise state any actor — or, on Recheck, any reviewer's approval, and
 * get a signed decision token for it — so these four need a service credential first: metadata `authorization: Bearer <token>` whose sha256 is one of `controlTokens`
 * (compared in constant time) — UNAUTHENTICATED without a valid one, PERMISSION_DENIED when none
 * is configured. Past it, policy trusts the console actor the caller (human-review) states;
 * ControlAdmin still authorises and audits every change as for the operator API, with the
 * console roles mapped by `consoleControlPrincipal`. A refusal is an answer (ok=false),
 * malformed input INVALID_ARGUMENT.
 *
 * Give it the Nest application holding PolicyServiceModule (its PolicyDecider and
 * PolicyOversightApi, which kicks the policy module's own outbox relay), or a decider and
 * optionally the oversight API (without it, the oversight rpcs answer UNIMPLEMENTED).
 */
export function registerPolicyGrpc(
  host: GrpcServerHost,
  app: Pick<INestApplicationContext, 'get'>,
  options?: PolicyGrpcOptions,
): void;
export function registerPolicyGrpc(
  host: GrpcServerHost,
  decider: PolicyDecider,
  oversight?: PolicyOversightApi,
  options?: PolicyGrpcOptions,
): void;
export function registerPolicyGrpc(
  host: GrpcServerHost,
  source: PolicyDecider | Pick<INestApplicationContext, 'get'>,
  third?: PolicyOversightApi | PolicyGrpcOptions,
  fourth?: PolicyGrpcOptions,
): void {
  const byDecider = source instanceof PolicyDecider;
  const decider = byDecider ? source : source.get(PolicyDecider);
  const given = byDecider
    ? (third as PolicyOversightApi | undefined)
    : source.get(PolicyOversightApi);
  const options = (byDecider ? fourth : (third as PolicyGrpcOptions | undefined)) ?? {};
  const control = new ServiceTokenVerifier(options.controlTokens ?? []);
  /** Refuses a caller without a valid service credential (or when none is configured). */
  const authenticate = (metadata: Metadata, what: string): void => {
    if (!control.configured)
      throw new GrpcError(
        status.PERMISSION_DENIED,
        `${what} over gRPC is disabled: set POLICY_CONTROL_TOKENS`,
      );
    if (!control.verify(serviceTokenOf(metadata)))
      throw new GrpcError(
        status.UNAUTHENTICATED,
        'a valid service credential is required (authorization: Bearer <token>)',
      );
  };
  /** The oversight API, for a caller that presents a valid control credential. */
  const oversight = (metadata: Metadata): PolicyOversightApi => {
    if (!given) throw new GrpcError(status.UNIMPLEMENTED, 'oversight is not served here');
    authenticate(metadata, 'oversight (agents view, kill switches)');
    return given;
  };
  host.addUnaryService(PolicyServiceService, {
    decide: async (req) => {
      const { proposal } = req as DecideRequest;
      if (!proposal) throw new GrpcError(status.INVALID_ARGUMENT, 'proposal is required');
      return DecideResponse.fromPartial({ decision: await decider.preview(proposal) });
    },
    preview: async (req) => {
      const { proposal } = req as PreviewRequest;
      if (!proposal) throw new GrpcError(status.INVALID_ARGUMENT, 'proposal is required');
      const decision = await decider.preview(proposal);
      return PreviewResponse.fromPartial({
        verdict: decision.verdict,
        explanation: decision.explanation,
      });
    },
    recheck: async (req, metadata) => {
      // The reviews are the caller's word: only human-review, with its credential, may state them.
      authenticate(metadata, 'Recheck (approvals after human review)');
      const { decision, reviews } = req as RecheckRequest;
      if (!decision?.proposal)
        throw new GrpcError(status.INVALID_ARGUMENT, 'decision with its proposal is required');
      return RecheckResponse.fromPartial({ decision: await decider.recheck(decision, reviews) });
    },
    getOversight: async (req, metadata) => {
      const api = oversight(metadata);
      const { tenantId, agentId } = req as GetOversightRequest;
      try {
        return oversightResponse(await api.tenantOversight(tenantId, { agentId }));
      } catch (err) {
        if (err instanceof InvalidOversightRequestError)
          throw new GrpcError(status.INVALID_ARGUMENT, err.message);
        throw err;
      }
    },
    setKillSwitch: async (req, metadata) => {
      const api = oversight(metadata);
      const { actor, target, mode, reason } = req as SetKillSwitchRequest;
      if (!target) throw new GrpcError(status.INVALID_ARGUMENT, 'target is required');
      const result = await api.setKillSwitch(actorOf(actor), target, mode, reason);
      return SetKillSwitchResponse.fromPartial({ result: controlResult(result) });
    },
    clearKillSwitch: async (req, metadata) => {
      const api = oversight(metadata);
      const { actor, target, reason } = req as ClearKillSwitchRequest;
      if (!target) throw new GrpcError(status.INVALID_ARGUMENT, 'target is required');
      const result = await api.clearKillSwitch(actorOf(actor), target, reason);
      return ClearKillSwitchResponse.fromPartial({ result: controlResult(result) });
    },
  });
}

function actorOf(actor: Actor | undefined): ConsoleActor {
  if (!actor?.id) throw new GrpcError(status.INVALID_ARGUMENT, 'actor with an id is required');
  return {
    id: actor.id,
    roles: actor.roles ?? [],
    ...(actor.tenantId ? { tenantId: actor.tenantId } : {}),
  };
}

/** Refusals are answers; malformed input is INVALID_ARGUMENT. */
function controlResult(result: OversightControlResult): ControlResult {
  if (result.ok)
    return ControlResult.fromPartial({
      ok: true,
      status: result.status,
      eventId: result.eventId,
      version: String(result.version),
    });
  if (result.status === 'invalid') throw new GrpcError(status.INVALID_ARGUMENT, result.problem);
  return ControlResult.fromPartial({ ok: false, status: result.status, problem: result.problem });
}

const verdict = (name: string | undefined): Verdict =>
  (name === undefined ? undefined : verdictOfName(name)) ?? Verdict.VERDICT_UNSPECIFIED;

function verdictMap(byBand: Readonly<Partial<Record<string, string>>>): Record<string, Verdict> {
  return Object.fromEntries(
    Object.entries(byBand).flatMap(([band, name]) =>
      name === undefined ? [] : [[band, verdictOfName(name) ?? Verdict.VERDICT_DENY]],
    ),
  );
}

function killSwitchMessage(s: KillSwitchInForce): KillSwitchInForceMessage {
  return {
    scope: s.scope,
    tenantId: s.tenantId ?? '',
    agentId: s.agentId ?? '',
    actionType: s.actionType ?? '',
    mode: s.mode,
    reason: s.reason,
    setBy: s.setBy,
    setAt: s.setAt,
    version: String(s.version),
  };
}

function oversightResponse(v: TenantOversight): GetOversightResponse {
  return GetOversightResponse.fromPartial({
    tenantId: v.tenantId,
    asOf: v.asOf,
    bundleVersion: v.bundleVersion ?? '',
    bundleHash: v.bundleHash ?? '',
    matrixVersion: v.matrixVersion ?? '',
    riskBands: [...v.riskBands],
    killSwitches: v.killSwitches.map(killSwitchMessage),
    agents: v.agents.map((a) => ({
      agentId: a.agentId,
      deployed: a.deployed,
      purpose: a.purpose ?? '',
      ceiling: verdict(a.ceiling),
      breakers: a.breakers.map((b) => ({
        kind: b.kind,
        agentId: b.agentId,
        reason: b.reason,
        trippedAt: b.trippedAt,
        demoteTo: verdict(b.demoteTo),
      })),
      killSwitches: a.killSwitches.map(killSwitchMessage),
      actionTypes: a.actionTypes.map((t) => ({
        actionType: t.actionType,
        trust: { ...t.trust, evidence: { ...t.trust.evidence } },
        history: t.history.map((p) => ({ at: p.at, score: p.score, band: p.band })),
        autonomy: {
          byRiskBand: verdictMap(t.autonomy.byRiskBand),
          effective: verdictMap(t.autonomy.effective),
          ceiling: verdict(t.autonomy.ceiling),
        },
      })),
    })),
  });
}
