import { status } from '@grpc/grpc-js';
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
import { GrpcError, GrpcServerHost } from '@mandate/platform';
import {
  InvalidOversightRequestError,
  PolicyOversightApi,
  type OversightControlResult,
} from './oversight.adapter';

/**
 * gRPC face of policy, on the same engine as the event flow. Decide decides a proposal on the
 * CRM's current facts without recording it (the event flow records); Preview returns the verdict
 * and explanation only; Recheck re-decides after human review and issues a token once the
 * required approvals are present.
 *
 * GetOversight, SetKillSwitch and ClearKillSwitch serve the review console's "Agents" view
 * through `PolicyOversightApi`. Policy trusts the actor its gRPC callers state (only the services
 * the mesh / NetworkPolicy admits can reach this port); ControlAdmin still authorises and audits
 * every change as for the operator API, with the console roles mapped by
 * `consoleControlPrincipal`. A refusal is an answer (ok=false), malformed input INVALID_ARGUMENT.
 *
 * Give it the Nest application holding PolicyServiceModule (its PolicyDecider and
 * PolicyOversightApi, which kicks the policy module's own outbox relay), or a decider and
 * optionally the oversight API (without it, the oversight rpcs answer UNIMPLEMENTED).
 */
export function registerPolicyGrpc(
  host: GrpcServerHost,
  app: Pick<INestApplicationContext, 'get'>,
): void;
export function registerPolicyGrpc(
  host: GrpcServerHost,
  decider: PolicyDecider,
  oversight?: PolicyOversightApi,
): void;
export function registerPolicyGrpc(
  host: GrpcServerHost,
  source: PolicyDecider | Pick<INestApplicationContext, 'get'>,
  oversightApi?: PolicyOversightApi,
): void {
  const decider = source instanceof PolicyDecider ? source : source.get(PolicyDecider);
  const given = source instanceof PolicyDecider ? oversightApi : source.get(PolicyOversightApi);
  const oversight = (): PolicyOversightApi => {
    if (!given) throw new GrpcError(status.UNIMPLEMENTED, 'oversight is not served here');
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
    recheck: async (req) => {
      const { decision, reviews } = req as RecheckRequest;
      if (!decision?.proposal)
        throw new GrpcError(status.INVALID_ARGUMENT, 'decision with its proposal is required');
      return RecheckResponse.fromPartial({ decision: await decider.recheck(decision, reviews) });
    },
    getOversight: async (req) => {
      const { tenantId } = req as GetOversightRequest;
      try {
        return oversightResponse(await oversight().tenantOversight(tenantId));
      } catch (err) {
        if (err instanceof InvalidOversightRequestError)
          throw new GrpcError(status.INVALID_ARGUMENT, err.message);
        throw err;
      }
    },
    setKillSwitch: async (req) => {
      const { actor, target, mode, reason } = req as SetKillSwitchRequest;
      if (!target) throw new GrpcError(status.INVALID_ARGUMENT, 'target is required');
      const result = await oversight().setKillSwitch(actorOf(actor), target, mode, reason);
      return SetKillSwitchResponse.fromPartial({ result: controlResult(result) });
    },
    clearKillSwitch: async (req) => {
      const { actor, target, reason } = req as ClearKillSwitchRequest;
      if (!target) throw new GrpcError(status.INVALID_ARGUMENT, 'target is required');
      const result = await oversight().clearKillSwitch(actorOf(actor), target, reason);
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
