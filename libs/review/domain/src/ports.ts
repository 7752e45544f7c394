import type { PolicyDecision, ReviewDecision } from '@mandate/contracts';
import type { TenantId } from '@mandate/storage';

/** Time, injected so tests (and a restarted process) control it. */
export type Clock = () => Date;

/** Roles of the console's identity model (OIDC claims mapped by the service). */
export type ReviewerRole = 'reviewer' | 'supervisor' | 'auditor' | 'admin';

/** A person as the reviewer directory knows them. */
export interface Reviewer {
  readonly id: string;
  /** The one tenant they work for; they never see or touch another tenant's tasks. */
  readonly tenantId: string;
  /** Review teams (queues) they work in, e.g. "general", "deal-desk", "supervisors". */
  readonly teams: readonly string[];
  /** Skills, e.g. "pricing", "communications"; a task routed with a skill needs it. */
  readonly skills: readonly string[];
  readonly roles: readonly ReviewerRole[];
  /** An inactive reviewer (left, on leave) is never assigned and may not decide. */
  readonly active: boolean;
  /** Most tasks they hold claimed at once (auto-assignment skips them when full). */
  readonly capacity?: number;
}

/** Who may review in a tenant. The service backs it with configuration and OIDC claims. */
export interface ReviewerDirectory {
  /** The reviewer with this id, or undefined. Never returns a reviewer of another tenant. */
  reviewer(tenant: TenantId, reviewerId: string): Promise<Reviewer | undefined>;
  /** Everyone of the tenant (inactive included); used for least-loaded assignment. */
  reviewers(tenant: TenantId): Promise<readonly Reviewer[]>;
}

/** Who owns an agent (the person accountable for it). Four-eyes excludes them as approver. */
export interface AgentOwnerLookup {
  ownerOf(agentId: string, tenant: TenantId): Promise<string | undefined>;
}

/**
 * Policy's re-check after review (policy `Recheck`: gRPC in the distributed mode,
 * `PolicyDecider.recheck` embedded). It is given the decision that opened the task and the
 * reviews in the order they were made, and answers a fresh decision: DENY, APPROVE(n) without a
 * token (more approvals needed), or APPROVE(n) with a token carrying the approvals.
 */
export interface PolicyRecheckPort {
  recheck(decision: PolicyDecision, reviews: ReviewDecision[]): Promise<PolicyDecision>;
}

/** Tenants the SLA sweep visits (the store is tenant-scoped; there is no cross-tenant query). */
export type TenantSource = () => Promise<readonly TenantId[]>;

// ---- Agents view: policy's oversight of a tenant's agents (policy owns all of it) ----

/** A verdict by name, most autonomous first: AUTO < AUTO_WITH_NOTICE < APPROVE_1 < APPROVE_2 < DENY. */
export type OversightVerdict = 'AUTO' | 'AUTO_WITH_NOTICE' | 'APPROVE_1' | 'APPROVE_2' | 'DENY';

/** One point of trust over time: right after one outcome was counted. */
export interface TrustPoint {
  /** ISO 8601. */
  readonly at: string;
  readonly score: number;
  /** "untrusted", "low", "medium" or "high". */
  readonly band: string;
}

/** Trust of one agent × action type as of the view. */
export interface AgentTrust {
  /** Lower credible bound of the posterior (0..1): what decisions use. */
  readonly score: number;
  /** "untrusted", "low", "medium" or "high". */
  readonly band: string;
  /** Posterior mean (0..1), for display. */
  readonly mean: number;
  /** 0 familiar .. 1 never seen. */
  readonly novelty: number;
  readonly alpha: number;
  readonly beta: number;
  /** Outcomes counted per kind ("review_approve", "execution_failure", "incident", ...). */
  readonly evidence: Readonly<Record<string, number>>;
  /** ISO 8601. */
  readonly asOf: string;
  /** Trust model version. */
  readonly modelVersion: string;
}

/** What the active bundle grants one agent × action type at its current trust band. */
export interface ActionTypeAutonomy {
  /** The autonomy matrix cell per risk band; empty when no usable matrix serves. */
  readonly byRiskBand: Readonly<Record<string, OversightVerdict>>;
  /**
   * The most autonomous verdict a proposal can get now, per risk band: the cell restricted by
   * open breakers, kill switches and the ceiling (DENY without a bundle or an agent profile).
   */
  readonly effective: Readonly<Record<string, OversightVerdict>>;
  /** The agent's ceiling, when the active bundle has a profile for it. */
  readonly ceiling?: OversightVerdict;
}

export interface ActionTypeOversight {
  /** snake_case, e.g. "qualify_lead". */
  readonly actionType: string;
  readonly trust: AgentTrust;
  /** Oldest first, at most 100 points. */
  readonly history: readonly TrustPoint[];
  readonly autonomy: ActionTypeAutonomy;
}

/** A tripped circuit breaker (stays open until a person resets it). */
export interface OpenCircuitBreaker {
  /** "rejection_rate", "error_spike" or "action_rate". */
  readonly kind: string;
  readonly agentId: string;
  /** Human-readable, e.g. "4 of 6 reviews rejected within 60 min". */
  readonly reason: string;
  /** ISO 8601. */
  readonly trippedAt: string;
  /** The most autonomous verdict allowed while it is open. */
  readonly demoteTo: OversightVerdict;
}

export type KillSwitchScope = 'global' | 'tenant' | 'agent' | 'action';
/** `deny`: nothing executes. `require_approval`: nothing executes without a human (at most APPROVE_1). */
export type KillSwitchMode = 'deny' | 'require_approval';

/** Which kill switch. `global` has no ids; `tenant` needs tenantId; `agent` agentId; `action` actionType. */
export interface KillSwitchTarget {
  readonly scope: KillSwitchScope;
  readonly tenantId?: string;
  readonly agentId?: string;
  readonly actionType?: string;
}

/** A kill switch in force. */
export interface KillSwitchInForce extends KillSwitchTarget {
  /** Absent tenantId: it applies to every tenant. */
  readonly mode: KillSwitchMode;
  readonly reason: string;
  /** Who engaged it. */
  readonly setBy: string;
  /** ISO 8601. */
  readonly setAt: string;
  /** Monotonic per target. */
  readonly version: number;
}

export interface AgentOversight {
  readonly agentId: string;
  /** The active policy bundle deploys it in this tenant. */
  readonly deployed: boolean;
  readonly purpose?: string;
  /** The most autonomous verdict it may ever get; absent when the bundle has no profile for it. */
  readonly ceiling?: OversightVerdict;
  /** By action type. */
  readonly actionTypes: readonly ActionTypeOversight[];
  readonly breakers: readonly OpenCircuitBreaker[];
  /** The kill switches in force that apply to it (global, tenant, agent and action scopes). */
  readonly killSwitches: readonly KillSwitchInForce[];
}

/** One tenant's agents as policy sees them. Nothing of another tenant (global switches apply to all). */
export interface TenantOversight {
  readonly tenantId: string;
  /** ISO 8601. */
  readonly asOf: string;
  /** The active policy bundle; absent when none serves (then every action is denied). */
  readonly bundleVersion?: string;
  readonly bundleHash?: string;
  readonly matrixVersion?: string;
  /** Risk bands least to most risky: the keys of `byRiskBand` and `effective`. */
  readonly riskBands: readonly string[];
  /** By agent id. */
  readonly agents: readonly AgentOversight[];
  /** Every kill switch in force for the tenant, global ones included. */
  readonly killSwitches: readonly KillSwitchInForce[];
}

/**
 * The console user a kill switch change is made for, as the review service authenticated them.
 * Policy maps the console roles: `admin` acts as a policy supervisor of `tenantId` (switches
 * pinned to that tenant only); no other role may change anything. Policy audits every attempt.
 */
export interface OversightActor {
  readonly id: string;
  readonly roles: readonly string[];
  readonly tenantId: string;
}

/**
 * What became of a kill switch change: `accepted` once durable and on its way to every policy
 * replica; `forbidden` when the actor may not (audited by policy); `invalid` for malformed input.
 */
export type ControlResult =
  | {
      readonly ok: true;
      readonly status: 'accepted';
      readonly eventId: string;
      readonly version: number;
    }
  | { readonly ok: false; readonly status: 'forbidden' | 'invalid'; readonly problem: string };

/**
 * Policy's oversight of a tenant's agents for the console's "Agents" view (gRPC
 * `PolicyService.GetOversight` / `SetKillSwitch` / `ClearKillSwitch` in the distributed mode,
 * in process embedded). Refusals are results, never exceptions; when policy cannot be asked
 * every method rejects with `PolicyUnavailableError` (503).
 */
export interface AgentOversightPort {
  /** The tenant's view; with `agentId`, that agent's only (the tenant's kill switches whole). */
  oversight(tenant: TenantId, query?: { readonly agentId?: string }): Promise<TenantOversight>;
  setKillSwitch(
    actor: OversightActor,
    target: KillSwitchTarget,
    mode: KillSwitchMode,
    reason: string,
  ): Promise<ControlResult>;
  clearKillSwitch(
    actor: OversightActor,
    target: KillSwitchTarget,
    reason: string,
  ): Promise<ControlResult>;
}
