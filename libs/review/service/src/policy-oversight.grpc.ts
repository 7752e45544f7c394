import { credentials, status } from '@grpc/grpc-js';
import { isServiceError, serviceTokenMetadata, unaryCall } from '@mandate/platform';
import {
  GetOversightRequest,
  PolicyServiceClient,
  Verdict,
  type ActionTypeOversight as ActionTypeMessage,
  type AgentOversight as AgentMessage,
  type ClearKillSwitchResponse,
  type ControlResult as ControlResultMessage,
  type GetOversightResponse,
  type KillSwitchInForce as KillSwitchMessage,
  type SetKillSwitchResponse,
} from '@mandate/contracts';
import {
  PolicyUnavailableError,
  type ActionTypeOversight,
  type AgentOversight,
  type AgentOversightPort,
  type ControlResult,
  type KillSwitchInForce,
  type KillSwitchMode,
  type KillSwitchScope,
  type KillSwitchTarget,
  type OversightActor,
  type OversightVerdict,
  type TenantOversight,
} from '@mandate/review-domain';
import type { TenantId } from '@mandate/storage';

export interface GrpcAgentOversightOptions {
  /** host:port of the policy service's gRPC server (`POLICY_GRPC_ADDRESS`). */
  readonly address: string;
  /** Per-call deadline (default 5 s). */
  readonly deadlineMs?: number;
  /**
   * This service's control credential (`POLICY_CONTROL_TOKEN`, from a Secret), sent as
   * `authorization: Bearer <token>` on every call; policy accepts it when its sha256 is in
   * `POLICY_CONTROL_TOKENS`. Absent: nothing is sent to policy and every call is
   * `PolicyCredentialError` (503).
   */
  readonly controlToken?: string;
}

/**
 * Policy refused (or would refuse) this service's control credential: none configured here,
 * one policy does not accept (UNAUTHENTICATED), or policy has none configured (PERMISSION_DENIED).
 * A `PolicyUnavailableError`, so the review API answers 503, with a message saying which.
 */
export class PolicyCredentialError extends PolicyUnavailableError {}

/**
 * Policy answered a view that is not the tenant's own (another tenant id, or a kill switch pinned
 * to another tenant). Nothing of it is shown: a bug or a misrouted answer, never a view to trust.
 */
export class OversightIntegrityError extends Error {
  override readonly name = 'OversightIntegrityError';
}

const VERDICT_NAMES: Readonly<Partial<Record<Verdict, OversightVerdict>>> = {
  [Verdict.VERDICT_AUTO]: 'AUTO',
  [Verdict.VERDICT_AUTO_WITH_NOTICE]: 'AUTO_WITH_NOTICE',
  [Verdict.VERDICT_APPROVE_1]: 'APPROVE_1',
  [Verdict.VERDICT_APPROVE_2]: 'APPROVE_2',
  [Verdict.VERDICT_DENY]: 'DENY',
};

/** A verdict's name; anything unknown or unset reads as DENY (fail closed). */
function verdictName(v: Verdict | undefined): OversightVerdict {
  return (v !== undefined && VERDICT_NAMES[v]) || 'DENY';
}

/** A ceiling's name; unset means the bundle has no profile for the agent. */
function ceilingName(v: Verdict | undefined): OversightVerdict | undefined {
  return v === undefined || v === Verdict.VERDICT_UNSPECIFIED ? undefined : verdictName(v);
}

/**
 * Policy's oversight of a tenant's agents over gRPC (`PolicyService.GetOversight`,
 * `SetKillSwitch`, `ClearKillSwitch`) for the distributed human-review app, each call carrying
 * the service's control credential. Any failure to get an answer (unreachable, deadline, policy
 * failing) is `PolicyUnavailableError` (503); a refused credential `PolicyCredentialError` (503,
 * saying so); a refused change is a result (`ok: false, status: 'forbidden'`), and malformed
 * input policy rejects with INVALID_ARGUMENT is `ok: false, status: 'invalid'`, as in process.
 */
export class GrpcAgentOversight implements AgentOversightPort {
  private readonly client: InstanceType<typeof PolicyServiceClient>;
  private readonly deadlineMs: number;
  private readonly controlToken?: string;

  constructor(o: GrpcAgentOversightOptions) {
    this.client = new PolicyServiceClient(o.address, credentials.createInsecure());
    this.deadlineMs = o.deadlineMs ?? 5_000;
    this.controlToken = o.controlToken || undefined;
  }

  async oversight(
    tenant: TenantId,
    query: { readonly agentId?: string } = {},
  ): Promise<TenantOversight> {
    let res: GetOversightResponse;
    try {
      res = await this.call<GetOversightResponse>(
        'getOversight',
        GetOversightRequest.fromPartial({ tenantId: tenant, agentId: query.agentId ?? '' }),
      );
    } catch (err) {
      throw unavailable('GetOversight', err);
    }
    const view = checkedView(tenant, res);
    if (query.agentId && view.agents.some((a) => a.agentId !== query.agentId))
      throw new OversightIntegrityError(
        `policy answered agents other than ${query.agentId} for a view of that agent`,
      );
    return view;
  }

  setKillSwitch(
    actor: OversightActor,
    target: KillSwitchTarget,
    mode: KillSwitchMode,
    reason: string,
  ): Promise<ControlResult> {
    return this.control('SetKillSwitch', () =>
      this.call<SetKillSwitchResponse>('setKillSwitch', {
        actor: actorMessage(actor),
        target: targetMessage(target),
        mode,
        reason,
      }),
    );
  }

  clearKillSwitch(
    actor: OversightActor,
    target: KillSwitchTarget,
    reason: string,
  ): Promise<ControlResult> {
    return this.control('ClearKillSwitch', () =>
      this.call<ClearKillSwitchResponse>('clearKillSwitch', {
        actor: actorMessage(actor),
        target: targetMessage(target),
        reason,
      }),
    );
  }

  close(): void {
    this.client.close();
  }

  private async control(
    what: string,
    send: () => Promise<{ result?: ControlResultMessage | undefined }>,
  ): Promise<ControlResult> {
    let res: { result?: ControlResultMessage | undefined };
    try {
      res = await send();
    } catch (err) {
      if (isServiceError(err) && err.code === status.INVALID_ARGUMENT)
        return { ok: false, status: 'invalid', problem: err.details || err.message };
      throw unavailable(what, err);
    }
    const r = res.result;
    if (r?.ok) {
      const version = Number(r.version);
      if (!r.eventId || !Number.isSafeInteger(version))
        throw new PolicyUnavailableError(`policy ${what} answered ok without an event or version`);
      return { ok: true, status: 'accepted', eventId: r.eventId, version };
    }
    if (r && r.status === 'forbidden')
      return { ok: false, status: 'forbidden', problem: r.problem || 'forbidden' };
    throw new PolicyUnavailableError(
      `policy ${what} answered no result it could be understood by (${r?.status || 'empty'})`,
    );
  }

  private call<Res>(
    method: 'getOversight' | 'setKillSwitch' | 'clearKillSwitch',
    request: object,
  ): Promise<Res> {
    if (!this.controlToken)
      return Promise.reject(
        new PolicyCredentialError(
          'this review service has no control credential for policy: set POLICY_CONTROL_TOKEN ' +
            '(and its sha256 in policy’s POLICY_CONTROL_TOKENS)',
        ),
      );
    return unaryCall<PolicyServiceClient, object, Res>(
      this.client,
      this.client[method] as never,
      request,
      this.deadlineMs,
      serviceTokenMetadata(this.controlToken),
    );
  }
}

function unavailable(what: string, err: unknown): PolicyUnavailableError {
  if (err instanceof PolicyUnavailableError) return err;
  if (isServiceError(err) && err.code === status.UNAUTHENTICATED)
    return new PolicyCredentialError(
      `policy refused this service's control credential (${what}): check that the sha256 of ` +
        'POLICY_CONTROL_TOKEN is in policy’s POLICY_CONTROL_TOKENS',
    );
  if (isServiceError(err) && err.code === status.PERMISSION_DENIED)
    return new PolicyCredentialError(
      `policy refused this service's control credential (${what}): ${err.details || 'denied'}`,
    );
  const detail = isServiceError(err)
    ? `${status[err.code] ?? err.code}: ${err.details || err.message}`
    : err instanceof Error
      ? err.message
      : String(err);
  return new PolicyUnavailableError(`policy ${what} failed: ${detail}`);
}

function actorMessage(a: OversightActor) {
  return { id: a.id, roles: [...a.roles], tenantId: a.tenantId };
}

function targetMessage(t: KillSwitchTarget) {
  return {
    scope: t.scope,
    tenantId: t.tenantId ?? '',
    agentId: t.agentId ?? '',
    actionType: t.actionType ?? '',
  };
}

/** The view, refused whole when anything in it names another tenant. */
function checkedView(tenant: TenantId, res: GetOversightResponse): TenantOversight {
  const foreign = (s: KillSwitchMessage) => s.tenantId !== '' && s.tenantId !== tenant;
  if (
    res.tenantId !== tenant ||
    res.killSwitches.some(foreign) ||
    res.agents.some((a) => a.killSwitches.some(foreign))
  )
    throw new OversightIntegrityError(
      `policy answered an oversight view that is not tenant ${tenant}'s alone`,
    );
  return {
    tenantId: res.tenantId,
    asOf: res.asOf ?? '',
    ...(res.bundleVersion ? { bundleVersion: res.bundleVersion } : {}),
    ...(res.bundleHash ? { bundleHash: res.bundleHash } : {}),
    ...(res.matrixVersion ? { matrixVersion: res.matrixVersion } : {}),
    riskBands: [...res.riskBands],
    agents: res.agents.map(agentOf),
    killSwitches: res.killSwitches.map(killSwitchOf),
  };
}

function agentOf(a: AgentMessage): AgentOversight {
  const ceiling = ceilingName(a.ceiling);
  return {
    agentId: a.agentId,
    deployed: a.deployed,
    ...(a.purpose ? { purpose: a.purpose } : {}),
    ...(ceiling ? { ceiling } : {}),
    actionTypes: a.actionTypes.map(actionTypeOf),
    breakers: a.breakers.map((b) => ({
      kind: b.kind,
      agentId: b.agentId,
      reason: b.reason,
      trippedAt: b.trippedAt ?? '',
      demoteTo: verdictName(b.demoteTo),
    })),
    killSwitches: a.killSwitches.map(killSwitchOf),
  };
}

function verdictsOf(map: { [band: string]: Verdict }): Record<string, OversightVerdict> {
  return Object.fromEntries(Object.entries(map).map(([band, v]) => [band, verdictName(v)]));
}

function actionTypeOf(t: ActionTypeMessage): ActionTypeOversight {
  const trust = t.trust;
  const ceiling = ceilingName(t.autonomy?.ceiling);
  return {
    actionType: t.actionType,
    trust: {
      score: trust?.score ?? 0,
      band: trust?.band || 'untrusted',
      mean: trust?.mean ?? 0,
      novelty: trust?.novelty ?? 1,
      alpha: trust?.alpha ?? 0,
      beta: trust?.beta ?? 0,
      evidence: { ...(trust?.evidence ?? {}) },
      asOf: trust?.asOf ?? '',
      modelVersion: trust?.modelVersion ?? '',
    },
    history: t.history.map((p) => ({ at: p.at ?? '', score: p.score, band: p.band })),
    autonomy: {
      byRiskBand: verdictsOf(t.autonomy?.byRiskBand ?? {}),
      effective: verdictsOf(t.autonomy?.effective ?? {}),
      ...(ceiling ? { ceiling } : {}),
    },
  };
}

function killSwitchOf(s: KillSwitchMessage): KillSwitchInForce {
  return {
    scope: s.scope as KillSwitchScope,
    ...(s.tenantId ? { tenantId: s.tenantId } : {}),
    ...(s.agentId ? { agentId: s.agentId } : {}),
    ...(s.actionType ? { actionType: s.actionType } : {}),
    mode: s.mode === 'require_approval' ? 'require_approval' : 'deny',
    reason: s.reason,
    setBy: s.setBy,
    setAt: s.setAt ?? '',
    version: Number(s.version),
  };
}
