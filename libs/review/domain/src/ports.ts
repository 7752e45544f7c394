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
