import { SYSTEM_TENANT } from '@mandate/messaging';
import {
  consoleControlPrincipal,
  type ConsoleActor,
  type ControlAdmin,
  type ControlAdminResult,
  type KillSwitchMode,
  type KillSwitchTarget,
  type PolicyOversight,
  type TenantOversight,
} from '@mandate/policy-domain';
import { isTenantId, tenantId } from '@mandate/storage';

/**
 * What became of a kill switch change asked for by a console user: `accepted` once durable and
 * queued for every replica; `forbidden` when the actor may not (audited); `invalid` for
 * malformed input (nothing written, nothing audited).
 */
export type OversightControlResult =
  | {
      readonly ok: true;
      readonly status: 'accepted';
      readonly eventId: string;
      readonly version: number;
    }
  | { readonly ok: false; readonly status: 'forbidden' | 'invalid'; readonly problem: string };

/** A kill switch target as a caller sends it (empty strings mean "not given"). */
export interface OversightKillSwitchTarget {
  readonly scope: string;
  readonly tenantId?: string;
  readonly agentId?: string;
  readonly actionType?: string;
}

/** The tenant id is missing, malformed or reserved, or the agent id is malformed. */
export class InvalidOversightRequestError extends Error {
  override readonly name = 'InvalidOversightRequestError';
}

/** What part of a tenant's view to answer. */
export interface OversightRequestQuery {
  /** Only this agent; empty or absent: every agent of the tenant. */
  readonly agentId?: string;
}

/** Agent ids as agent owners are configured (letters, digits and . _ : -; at most 128). */
const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Whether `id` is a well-formed agent id (what the oversight view may be filtered by). */
export function isAgentId(id: unknown): id is string {
  return typeof id === 'string' && AGENT_ID.test(id);
}

/**
 * Policy's face for the review console's "Agents" view, shared by the gRPC handlers
 * (`GetOversight`, `SetKillSwitch`, `ClearKillSwitch`) and the embedded process's in-process
 * adapter, so both answer the same. Kill switch changes act as `consoleControlPrincipal(actor)`
 * (a console admin: a supervisor of their own tenant; nobody else: nothing) and go through
 * `ControlAdmin`, which authorises and audits them as for the operator API; after a change the
 * outbox relay is kicked so the control event reaches every replica at once.
 */
export class PolicyOversightApi {
  constructor(
    private readonly oversight: PolicyOversight,
    private readonly admin: ControlAdmin,
    private readonly relay: { kick(): Promise<void> },
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * One tenant's view as of now, or one agent's of it (`agentId`; empty or absent: every agent);
   * InvalidOversightRequestError for a bad tenant or agent id.
   */
  tenantOversight(tenant: string, query: OversightRequestQuery = {}): Promise<TenantOversight> {
    if (typeof tenant !== 'string' || !isTenantId(tenant) || tenant === SYSTEM_TENANT)
      return Promise.reject(
        new InvalidOversightRequestError(`invalid tenant id ${JSON.stringify(tenant)}`),
      );
    const agentId = query.agentId;
    if (agentId !== undefined && agentId !== '' && !isAgentId(agentId))
      return Promise.reject(
        new InvalidOversightRequestError('invalid agent id (1-128 letters, digits and . _ : -)'),
      );
    return this.oversight.forTenant(tenantId(tenant), this.clock(), agentId ? { agentId } : {});
  }

  async setKillSwitch(
    actor: ConsoleActor,
    target: OversightKillSwitchTarget,
    mode: string,
    reason: string,
  ): Promise<OversightControlResult> {
    return this.done(
      await this.admin.setKillSwitch(
        consoleControlPrincipal(actor),
        targetOf(target),
        mode as KillSwitchMode,
        typeof reason === 'string' ? reason : '',
      ),
    );
  }

  async clearKillSwitch(
    actor: ConsoleActor,
    target: OversightKillSwitchTarget,
    reason: string,
  ): Promise<OversightControlResult> {
    return this.done(
      await this.admin.clearKillSwitch(
        consoleControlPrincipal(actor),
        targetOf(target),
        typeof reason === 'string' ? reason : '',
      ),
    );
  }

  private async done(result: ControlAdminResult): Promise<OversightControlResult> {
    if (!result.ok) return { ok: false, status: result.status, problem: result.problem };
    try {
      // Publish the control event now rather than at the relay's next tick.
      await this.relay.kick();
    } catch {
      // The change is durable; the relay loop publishes it on its next pass.
    }
    return {
      ok: true,
      status: 'accepted',
      eventId: result.event.eventId,
      version: Number(result.event.version),
    };
  }
}

/** The target without empty ids, as the operator API builds it. */
function targetOf(t: OversightKillSwitchTarget | undefined): KillSwitchTarget {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    scope: str(t?.scope) as KillSwitchTarget['scope'],
    ...(str(t?.tenantId) ? { tenantId: str(t?.tenantId) } : {}),
    ...(str(t?.agentId) ? { agentId: str(t?.agentId) } : {}),
    ...(str(t?.actionType) ? { actionType: str(t?.actionType) } : {}),
  };
}

/** The review service's `AgentOversightPort`, structurally (policy-service cannot import it). */
export interface InProcessOversight {
  oversight(tenant: string, query?: OversightRequestQuery): Promise<TenantOversight>;
  setKillSwitch(
    actor: ConsoleActor,
    target: OversightKillSwitchTarget,
    mode: string,
    reason: string,
  ): Promise<OversightControlResult>;
  clearKillSwitch(
    actor: ConsoleActor,
    target: OversightKillSwitchTarget,
    reason: string,
  ): Promise<OversightControlResult>;
}

export interface InProcessOversightOptions {
  /**
   * The error to throw when policy cannot answer (not started yet, storage down): pass
   * `(m) => new PolicyUnavailableError(m)` so the review API answers 503 as over gRPC.
   */
  readonly unavailable?: (message: string) => Error;
}

/**
 * The review service's oversight port in process (embedded mode), over the same
 * `PolicyOversightApi` the gRPC handlers use. `api` may be a function: the review module is
 * created before the app that holds policy's providers, so it is resolved at each call.
 */
export function inProcessOversight(
  api: PolicyOversightApi | (() => PolicyOversightApi | undefined),
  options: InProcessOversightOptions = {},
): InProcessOversight {
  const unavailable = options.unavailable ?? ((m: string) => new Error(m));
  const call = async <R>(what: string, f: (a: PolicyOversightApi) => Promise<R>): Promise<R> => {
    const resolved = typeof api === 'function' ? api() : api;
    if (!resolved) throw unavailable(`policy ${what}: policy is not started yet`);
    try {
      return await f(resolved);
    } catch (err) {
      // A bad request is the caller's bug, not policy being unavailable.
      if (err instanceof InvalidOversightRequestError) throw err;
      throw unavailable(`policy ${what} failed: ${err instanceof Error ? err.message : err}`);
    }
  };
  return {
    oversight: (tenant, query) => call('GetOversight', (a) => a.tenantOversight(tenant, query)),
    setKillSwitch: (actor, target, mode, reason) =>
      call('SetKillSwitch', (a) => a.setKillSwitch(actor, target, mode, reason)),
    clearKillSwitch: (actor, target, reason) =>
      call('ClearKillSwitch', (a) => a.clearKillSwitch(actor, target, reason)),
  };
}
