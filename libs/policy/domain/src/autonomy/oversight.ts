/**
 * The oversight read model: what the review console's "Agents" view shows for one tenant. Per
 * agent and action type, trust now and over time and the autonomy the matrix grants at that
 * trust; per agent, its ceiling, open breakers and the kill switches that apply to it.
 *
 * Everything is JSON-friendly (ISO 8601 instants, verdict names as in matrix.json), so the
 * policy service can hand it over gRPC or in process without another mapping.
 *
 * Tenant isolation: trust comes from the tenant's own documents, breakers are filtered by tenant,
 * and a kill switch appears only when it applies to the tenant (global ones and those not pinned
 * to a tenant apply to every tenant). The active bundle is shared by all tenants; only agents it
 * deploys in this tenant are listed from it.
 */
import { Verdict } from '@mandate/contracts';
import type { TenantId } from '@mandate/storage';
import type { BundleRegistry } from '../cedar/bundle.registry';
import type { ControlAdmin, ListedKillSwitch } from '../control/control-admin';
import type { AgentProfile } from '../engine/decision-input';
import { RISK_BANDS, type RiskBand } from '../risk/risk-model.config';
import type { TrustEvidenceKind, TrustBand } from '../trust/trust-model';
import type { TrustListing, TrustRepository } from '../trust/trust.repository';
import { parseAutonomyMatrix, matrixVerdict, type AutonomyMatrix } from './autonomy-matrix';
import type { BreakerKind, CircuitBreakers, OpenBreaker } from './circuit-breakers';
import { SUPERVISOR_ROLE, type Principal } from './control-authorizer';
import { decideAutonomy } from './decide-autonomy';
import type { KillSwitchMode, KillSwitchScope } from './kill-switch.board';
import { verdictName, type VerdictName } from './verdict-order';

/** One point of trust over time. */
export interface TrustPointView {
  /** ISO 8601. */
  readonly at: string;
  readonly score: number;
  readonly band: TrustBand;
}

/** Trust of one agent × action type as of the read. */
export interface TrustView {
  /** Lower credible bound (what decisions use). */
  readonly score: number;
  readonly band: TrustBand;
  /** Posterior mean, for display. */
  readonly mean: number;
  /** 0 familiar .. 1 never seen. */
  readonly novelty: number;
  readonly alpha: number;
  readonly beta: number;
  /** Outcomes recorded per kind (raw counts). */
  readonly evidence: Readonly<Record<TrustEvidenceKind, number>>;
  /** ISO 8601: the instant the assessment is for. */
  readonly asOf: string;
  /** Trust model version. */
  readonly modelVersion: string;
}

/** Autonomy of one agent × action type at its current trust band. */
export interface AutonomyView {
  /** The matrix cell per risk band for the current trust band; empty without a usable matrix. */
  readonly byRiskBand: Readonly<Partial<Record<RiskBand, VerdictName>>>;
  /**
   * The most autonomous verdict a proposal can get now, per risk band: the cell, restricted by
   * open breakers, kill switches and the agent's ceiling (DENY without a usable bundle or
   * profile). Cedar forbids and obligations can only restrict further.
   */
  readonly effective: Readonly<Record<RiskBand, VerdictName>>;
  /** The agent's ceiling, when the active bundle has a profile for it. */
  readonly ceiling?: VerdictName;
}

export interface ActionTypeOversight {
  readonly actionType: string;
  readonly trust: TrustView;
  /** Oldest first, at most TRUST_HISTORY_LIMIT points (one per applied outcome). */
  readonly history: readonly TrustPointView[];
  readonly autonomy: AutonomyView;
}

/** An open circuit breaker of an agent in the tenant. */
export interface OpenBreakerView {
  readonly kind: BreakerKind;
  readonly agentId: string;
  readonly reason: string;
  /** ISO 8601. */
  readonly trippedAt: string;
  /** The most autonomous verdict allowed while it is open. */
  readonly demoteTo: VerdictName;
}

/** A kill switch in force that applies to the tenant. */
export interface KillSwitchInForce {
  readonly scope: KillSwitchScope;
  /** Absent: every tenant (global, or an agent/action switch not pinned to a tenant). */
  readonly tenantId?: string;
  readonly agentId?: string;
  readonly actionType?: string;
  readonly mode: KillSwitchMode;
  readonly reason: string;
  /** Principal id. */
  readonly setBy: string;
  /** ISO 8601. */
  readonly setAt: string;
  /** Version of the switch's document (monotonic per target). */
  readonly version: number;
}

export interface AgentOversight {
  readonly agentId: string;
  /** The active bundle deploys the agent in this tenant. */
  readonly deployed: boolean;
  /** From the agent's profile in the active bundle. */
  readonly purpose?: string;
  /** From the agent's profile in the active bundle: the most autonomous verdict it may get. */
  readonly ceiling?: VerdictName;
  /** Action types it has trust for, by name. */
  readonly actionTypes: readonly ActionTypeOversight[];
  /** Its open breakers in this tenant. */
  readonly breakers: readonly OpenBreakerView[];
  /** Kill switches in force that apply to it (global, tenant, agent and action scopes). */
  readonly killSwitches: readonly KillSwitchInForce[];
}

export interface TenantOversight {
  readonly tenantId: string;
  /** ISO 8601: the instant trust was assessed for. */
  readonly asOf: string;
  /** The active bundle; absent when none serves. */
  readonly bundleVersion?: string;
  readonly bundleHash?: string;
  /** The active bundle's autonomy matrix; absent when none (or it is unusable). */
  readonly matrixVersion?: string;
  /** Risk bands, least to most risky (the keys of `autonomy.byRiskBand`/`effective`). */
  readonly riskBands: readonly RiskBand[];
  /** By agent id. */
  readonly agents: readonly AgentOversight[];
  /** Every kill switch in force that applies to the tenant, global ones included. */
  readonly killSwitches: readonly KillSwitchInForce[];
}

export interface PolicyOversightDeps {
  readonly trust: Pick<TrustRepository, 'list'>;
  readonly breakers: Pick<CircuitBreakers, 'openBreakers'>;
  /** Kill switches in force, from the control documents (the source of truth). */
  readonly controls: Pick<ControlAdmin, 'list'>;
  readonly registry: Pick<BundleRegistry, 'active'>;
}

export interface OversightQuery {
  /**
   * Only this agent (e.g. the console's item view drawing one agent's trust trend): its trust
   * documents alone are read, and `agents` holds at most this agent. The tenant's kill switches
   * are listed whole either way.
   */
  readonly agentId?: string;
}

export class PolicyOversight {
  private parsed?: { hash: string; matrix?: AutonomyMatrix };

  constructor(private readonly deps: PolicyOversightDeps) {}

  /**
   * The tenant's view as of `now`; with `agentId`, that agent's only. Trust covers at most
   * TRUST_LIST_LIMIT documents (agent × action type) of the tenant: ask per agent past that.
   */
  async forTenant(
    tenant: TenantId,
    now: Date,
    query: OversightQuery = {},
  ): Promise<TenantOversight> {
    const only = query.agentId;
    const [trust, listed] = await Promise.all([
      this.deps.trust.list(tenant, now, only === undefined ? {} : { agentId: only }),
      this.deps.controls.list(),
    ]);
    const killSwitches = listed.filter((s) => !s.tenantId || s.tenantId === tenant).map(inForce);
    const breakers = this.deps.breakers.openBreakers().filter((b) => b.tenantId === tenant);
    const active = this.deps.registry.active();
    const matrix = active
      ? this.matrixOf(active.identity.contentHash, active.bundle.files)
      : undefined;
    const profiles = new Map((active?.bundle.agents ?? []).map((a) => [a.id, a]));

    const agentIds = new Set<string>();
    for (const t of trust) agentIds.add(t.agentId);
    for (const a of profiles.values()) if (deployedIn(a, tenant)) agentIds.add(a.id);
    for (const b of breakers) agentIds.add(b.agentId);
    for (const s of killSwitches) if (s.tenantId && s.agentId) agentIds.add(s.agentId);
    if (only !== undefined) for (const id of agentIds) if (id !== only) agentIds.delete(id);

    const agents = [...agentIds].sort(compare).map((agentId): AgentOversight => {
      const profile = profiles.get(agentId);
      const own = breakers.filter((b) => b.agentId === agentId);
      return {
        agentId,
        deployed: !!profile && deployedIn(profile, tenant),
        ...(profile ? { purpose: profile.purpose, ceiling: verdictName(profile.ceiling) } : {}),
        actionTypes: trust
          .filter((t) => t.agentId === agentId)
          .map((t) => actionTypeOversight(t, matrix, profile, own, killSwitches)),
        breakers: own.map(breakerView),
        killSwitches: killSwitches.filter((s) => !s.agentId || s.agentId === agentId),
      };
    });
    return {
      tenantId: tenant,
      asOf: now.toISOString(),
      ...(active
        ? { bundleVersion: active.identity.version, bundleHash: active.identity.contentHash }
        : {}),
      ...(matrix ? { matrixVersion: matrix.version } : {}),
      riskBands: [...RISK_BANDS],
      agents,
      killSwitches,
    };
  }

  /** The bundle's matrix, parsed once per bundle; undefined when it is unusable. */
  private matrixOf(hash: string, files: Record<string, unknown>): AutonomyMatrix | undefined {
    if (this.parsed?.hash !== hash) {
      let matrix: AutonomyMatrix | undefined;
      try {
        matrix = parseAutonomyMatrix(files['matrix.json']);
      } catch {
        matrix = undefined;
      }
      this.parsed = { hash, matrix };
    }
    return this.parsed.matrix;
  }
}

function actionTypeOversight(
  t: TrustListing,
  matrix: AutonomyMatrix | undefined,
  profile: AgentProfile | undefined,
  breakers: readonly OpenBreaker[],
  killSwitches: readonly KillSwitchInForce[],
): ActionTypeOversight {
  const a = t.assessment;
  const applicable = killSwitches.filter(
    (s) =>
      (!s.agentId || s.agentId === t.agentId) && (!s.actionType || s.actionType === t.actionType),
  );
  // The strongest switch decides (a deny before a require_approval), as KillSwitchBoard.check.
  const killSwitch = applicable.find((s) => s.mode === 'deny') ?? applicable[0];
  const byRiskBand: Partial<Record<RiskBand, VerdictName>> = {};
  const effective = {} as Record<RiskBand, VerdictName>;
  for (const risk of RISK_BANDS) {
    const cell = matrix ? matrixVerdict(matrix, risk, a.band) : undefined;
    if (cell !== undefined) byRiskBand[risk] = verdictName(cell);
    effective[risk] =
      matrix && profile
        ? verdictName(
            decideAutonomy({
              cedar: 'allow',
              obligations: [],
              risk: { band: risk },
              trust: { band: a.band },
              matrix,
              ceiling: profile.ceiling,
              killSwitch,
              breakers,
            }).verdict,
          )
        : verdictName(Verdict.VERDICT_DENY);
  }
  return {
    actionType: t.actionType,
    trust: {
      score: a.score,
      band: a.band,
      mean: a.mean,
      novelty: a.novelty,
      alpha: a.alpha,
      beta: a.beta,
      evidence: { ...a.evidence },
      asOf: a.asOf.toISOString(),
      modelVersion: a.version,
    },
    history: t.history.map((p) => ({ at: p.at.toISOString(), score: p.score, band: p.band })),
    autonomy: {
      byRiskBand,
      effective,
      ...(profile ? { ceiling: verdictName(profile.ceiling) } : {}),
    },
  };
}

function deployedIn(profile: AgentProfile, tenant: string): boolean {
  return profile.tenants.includes('*') || profile.tenants.includes(tenant);
}

function inForce(s: ListedKillSwitch): KillSwitchInForce {
  return {
    scope: s.scope,
    ...(s.tenantId ? { tenantId: s.tenantId } : {}),
    ...(s.agentId ? { agentId: s.agentId } : {}),
    ...(s.actionType ? { actionType: s.actionType } : {}),
    mode: s.mode,
    reason: s.reason,
    setBy: s.setBy,
    setAt: s.setAt,
    version: s.version,
  };
}

function breakerView(b: OpenBreaker): OpenBreakerView {
  return {
    kind: b.kind,
    agentId: b.agentId,
    reason: b.reason,
    trippedAt: b.trippedAt,
    demoteTo: verdictName(b.demoteTo),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The review console's administrator role (its identity model: reviewer, supervisor, auditor, admin). */
export const CONSOLE_ADMIN_ROLE = 'admin';

/** A console user as the review service authenticated them (OIDC), in the console's roles. */
export interface ConsoleActor {
  readonly id: string;
  readonly roles: readonly string[];
  /** The one tenant they work for. */
  readonly tenantId?: string;
}

/**
 * The principal a console user changes kill switches as. A console `admin` of tenant T acts as a
 * policy `supervisor` of T, so `RoleAuthorizer` lets them control only what is pinned to T (the
 * tenant switch, and agent/action switches with tenantId T): never a global switch, never another
 * tenant, never a switch spanning tenants. No other console role confers any control, and policy
 * roles the caller asserts (`policy-admin`, `supervisor`) are dropped: a policy admin uses the
 * operator API. An admin without a tenant controls nothing.
 */
export function consoleControlPrincipal(actor: ConsoleActor | undefined): Principal {
  const id = typeof actor?.id === 'string' ? actor.id : '';
  const roles = Array.isArray(actor?.roles) ? actor.roles : [];
  const tenantId = typeof actor?.tenantId === 'string' ? actor.tenantId : '';
  const admin = roles.includes(CONSOLE_ADMIN_ROLE) && tenantId !== '';
  return {
    id,
    roles: admin ? [SUPERVISOR_ROLE] : [],
    ...(tenantId ? { tenantId } : {}),
  };
}
