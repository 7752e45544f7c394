import { createHash } from 'node:crypto';
import {
  ActionProposal,
  AuditRecord,
  CrmAction,
  DecisionToken,
  PolicyDecision,
  ReviewDecision,
  ReviewOutcome,
  ReviewTask,
  Verdict,
  type Approval,
} from '@mandate/contracts';
import { requiredApprovals } from '@mandate/decision-token';
import { Topics } from '@mandate/messaging';
import {
  InMemoryDocumentStore,
  tenantId,
  type InMemoryDocumentStoreOptions,
  type OutboxEntry,
  type TenantId,
} from '@mandate/storage';
import { REVIEW_TASKS } from '../collections';
import type { ReviewDomainDeps } from '../deps';
import type { AgentOwnerLookup, PolicyRecheckPort, Reviewer, ReviewerDirectory } from '../ports';
import type { ReviewConfigInput } from '../review-config';
import { ReviewDecisions } from '../review-decisions';
import { ReviewQueue } from '../review-queue';
import type { ReviewTaskDoc } from '../review-task.doc';
import { ReviewTaskOpener } from '../review-task.opener';
import { SlaSweeper } from '../sla';

export const ACME: TenantId = tenantId('acme');
export const GLOBEX: TenantId = tenantId('globex');
export const START = new Date('2025-01-15T09:00:00.000Z');
export const MIN = 60_000;
export const HOUR = 60 * MIN;

export class TestClock {
  private t: number;
  constructor(start: Date = START) {
    this.t = start.getTime();
  }
  readonly now = (): Date => new Date(this.t);
  advance(ms: number): Date {
    this.t += ms;
    return this.now();
  }
  set(at: Date): void {
    this.t = at.getTime();
  }
}

export const discount = (percent: number, reason = 'multi-year renewal') =>
  CrmAction.fromPartial({
    kind: { $case: 'applyDiscount', value: { discountPercent: percent, reason } },
  });
export const qualify = (score = 80) =>
  CrmAction.fromPartial({ kind: { $case: 'qualifyLead', value: { score, reason: 'fits ICP' } } });
export const email = (body: string) =>
  CrmAction.fromPartial({
    kind: { $case: 'sendEmail', value: { toContactId: 'c-1', subject: 'Hello', body } },
  });

export interface DecisionOptions {
  readonly verdict?: Verdict;
  readonly tenant?: string;
  readonly agentId?: string;
  readonly action?: CrmAction;
  readonly riskBand?: string;
  readonly rationale?: string;
}

/** A policy decision that needs review (APPROVE_1 by default). */
export function decisionFor(id: string, o: DecisionOptions = {}): PolicyDecision {
  const tenant = o.tenant ?? ACME;
  return PolicyDecision.fromPartial({
    decisionId: id,
    tenantId: tenant,
    correlationId: `corr-${id}`,
    verdict: o.verdict ?? Verdict.VERDICT_APPROVE_1,
    proposal: ActionProposal.fromPartial({
      proposalId: `p-${id}`,
      tenantId: tenant,
      correlationId: `corr-${id}`,
      agentId: o.agentId ?? 'deal-agent',
      idempotencyKey: `k-${id}`,
      target: { objectType: 'opportunity', recordId: `opp-${id}` },
      action: o.action ?? discount(12),
      rationale: o.rationale ?? 'Customer asked for a renewal discount within guidelines.',
    }),
    explanation: { riskBand: o.riskBand ?? 'medium', reasonCodes: ['PERMIT'] },
    decidedAt: START.toISOString(),
  });
}

const reviewer = (id: string, over: Partial<Reviewer> = {}): Reviewer => ({
  id,
  tenantId: ACME,
  teams: ['general', 'deal-desk'],
  skills: ['pricing'],
  roles: ['reviewer'],
  active: true,
  ...over,
});

export const REVIEWERS: Reviewer[] = [
  reviewer('alice'),
  reviewer('bob'),
  reviewer('bea'),
  reviewer('carol', { roles: ['supervisor'], teams: ['supervisors'], skills: [] }),
  reviewer('dave', { teams: ['general'], skills: [] }),
  reviewer('erin', { roles: ['reviewer', 'auditor'] }),
  reviewer('aud', { roles: ['auditor'] }),
  reviewer('adm', { roles: ['admin'] }),
  reviewer('olga'), // owns deal-agent
  reviewer('ivan', { active: false }),
  reviewer('greta', { tenantId: GLOBEX }),
];

export class StaticDirectory implements ReviewerDirectory {
  constructor(private readonly list: readonly Reviewer[] = REVIEWERS) {}
  async reviewer(_tenant: TenantId, id: string): Promise<Reviewer | undefined> {
    return this.list.find((r) => r.id === id);
  }
  async reviewers(tenant: TenantId): Promise<readonly Reviewer[]> {
    return this.list.filter((r) => r.tenantId === tenant);
  }
}

export const OWNERS: AgentOwnerLookup = {
  ownerOf: async (agentId) => (agentId === 'deal-agent' ? 'olga' : undefined),
};

/** What policy would answer for an action: by discount size (> 30 % DENY, > 15 % APPROVE_2). */
export function discountVerdict(action: CrmAction | undefined): Verdict {
  if (action?.kind?.$case !== 'applyDiscount') return Verdict.VERDICT_APPROVE_1;
  const pct = action.kind.value.discountPercent;
  return pct > 30
    ? Verdict.VERDICT_DENY
    : pct > 15
      ? Verdict.VERDICT_APPROVE_2
      : Verdict.VERDICT_APPROVE_1;
}

/**
 * A policy re-check with the semantics of `PolicyEngine.recheck`: a rejection denies; the last
 * edit replaces the action, which is decided afresh (`verdictFor`); the approvals needed are those
 * of the stricter verdict; only approvals since the last edit count, distinct, never the agent's;
 * a token is issued once there are enough.
 */
export class FakePolicy implements PolicyRecheckPort {
  readonly calls: { decision: PolicyDecision; reviews: ReviewDecision[] }[] = [];
  failWith?: Error;
  verdictFor: (action: CrmAction | undefined, original: PolicyDecision) => Verdict = (a, o) =>
    a?.kind?.$case === 'applyDiscount' ? discountVerdict(a) : o.verdict;
  /** Rewrites the answer (to test defensive checks). */
  tamper?: (d: PolicyDecision) => PolicyDecision;

  async recheck(decision: PolicyDecision, reviews: ReviewDecision[]): Promise<PolicyDecision> {
    this.calls.push({ decision, reviews });
    if (this.failWith) throw this.failWith;
    const id = createHash('sha256')
      .update(`${decision.decisionId}/${reviews.map((r) => r.reviewDecisionId).join(',')}`)
      .digest('hex')
      .slice(0, 32);
    const deny = (codes: string[]) =>
      PolicyDecision.fromPartial({
        decisionId: `recheck-${id}`,
        tenantId: decision.tenantId,
        correlationId: decision.correlationId,
        proposal: decision.proposal,
        verdict: Verdict.VERDICT_DENY,
        explanation: { reasonCodes: codes, summary: 'denied' },
      });
    const answer = (d: PolicyDecision) => (this.tamper ? this.tamper(d) : d);
    if (reviews.some((r) => r.outcome === ReviewOutcome.REVIEW_OUTCOME_REJECT))
      return answer(deny(['REVIEW_REJECTED']));
    let lastEdit = -1;
    reviews.forEach((r, i) => {
      if (r.outcome === ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE && r.editedAction) lastEdit = i;
    });
    const proposal = ActionProposal.fromPartial({
      ...decision.proposal,
      action: lastEdit >= 0 ? reviews[lastEdit].editedAction : decision.proposal?.action,
    });
    const fresh = this.verdictFor(proposal.action, decision);
    if (fresh === Verdict.VERDICT_DENY) return answer(deny(['DISCOUNT_ABOVE_CEILING']));
    const needed = Math.max(requiredApprovals(decision.verdict), requiredApprovals(fresh));
    const approvals: Approval[] = [];
    for (const r of reviews.slice(Math.max(lastEdit, 0)))
      if (
        r.outcome !== ReviewOutcome.REVIEW_OUTCOME_REJECT &&
        r.reviewerId !== proposal.agentId &&
        !approvals.some((a) => a.reviewerId === r.reviewerId)
      )
        approvals.push({
          reviewerId: r.reviewerId,
          decidedAt: r.decidedAt,
          reviewDecisionId: r.reviewDecisionId,
        });
    const verdict = needed >= 2 ? Verdict.VERDICT_APPROVE_2 : Verdict.VERDICT_APPROVE_1;
    return answer(
      PolicyDecision.fromPartial({
        decisionId: `recheck-${id}`,
        tenantId: decision.tenantId,
        correlationId: decision.correlationId,
        proposal,
        verdict,
        explanation: {
          riskBand: decision.explanation?.riskBand,
          reasonCodes: [`APPROVALS_${approvals.length}_OF_${needed}`],
        },
        token:
          approvals.length >= needed
            ? DecisionToken.fromPartial({
                tokenId: `token-${id}`,
                tenantId: decision.tenantId,
                proposalId: proposal.proposalId,
                verdict,
                approvals,
                requiredApprovals: needed,
              })
            : undefined,
      }),
    );
  }
}

export interface Events {
  readonly reviewDecisions: ReviewDecision[];
  readonly policyDecisions: PolicyDecision[];
  readonly audits: AuditRecord[];
  readonly tasks: ReviewTask[];
  readonly entries: OutboxEntry[];
}

/** Every pending outbox entry of the store, decoded by topic. */
export async function eventsOf(store: InMemoryDocumentStore<ReviewTaskDoc>): Promise<Events> {
  const entries = (await store.pendingOutbox({ limit: 10_000 })).flatMap((p) => p.entries);
  const on = (name: string) => entries.filter((e) => e.topic === name).map((e) => e.payload);
  return {
    reviewDecisions: on(Topics.reviewDecisions.name).map((p) => ReviewDecision.decode(p)),
    policyDecisions: on(Topics.policyDecisions.name).map((p) => PolicyDecision.decode(p)),
    audits: on(Topics.auditRecords.name).map((p) => AuditRecord.decode(p)),
    tasks: on(Topics.reviewTasks.name).map((p) => ReviewTask.decode(p)),
    entries,
  };
}

export interface HarnessOptions {
  readonly config?: ReviewConfigInput;
  readonly reviewers?: readonly Reviewer[];
  readonly store?: InMemoryDocumentStoreOptions;
  readonly clock?: TestClock;
  readonly requesterOf?: ReviewDomainDeps['requesterOf'];
}

export const DEFAULT_TEST_CONFIG: ReviewConfigInput = {
  routing: { rules: [{ actionType: 'apply_discount', team: 'deal-desk', skill: 'pricing' }] },
};

export function harness(o: HarnessOptions = {}) {
  const clock = o.clock ?? new TestClock();
  const config = o.config ?? DEFAULT_TEST_CONFIG;
  const store = new InMemoryDocumentStore<ReviewTaskDoc>(REVIEW_TASKS, {
    clock: clock.now,
    ...o.store,
  });
  const policy = new FakePolicy();
  const deps: ReviewDomainDeps = {
    tasks: store,
    reviewers: new StaticDirectory(o.reviewers ?? REVIEWERS),
    owners: OWNERS,
    policy,
    now: clock.now,
    config,
    requesterOf: o.requesterOf,
  };
  const opener = new ReviewTaskOpener({ now: clock.now, noticeSampleRate: 0, config });
  let ids = 0;
  return {
    clock,
    store,
    policy,
    deps,
    opener,
    queue: new ReviewQueue({ ...deps, newId: () => `id-${++ids}` }),
    decisions: new ReviewDecisions(deps),
    sla: new SlaSweeper({ tasks: store, now: clock.now, config }),
    /** Opens the task of a decision; returns its id. */
    async open(id: string, d: DecisionOptions = {}): Promise<string> {
      const decision = decisionFor(id, d);
      const task = await opener.open(store, decision);
      if (!task) throw new Error(`no task opened for ${id}`);
      return task.taskId;
    },
    async doc(taskId: string, tenant: TenantId = ACME) {
      const d = await store.get(tenant, taskId);
      if (!d) throw new Error(`no task ${taskId}`);
      return d;
    },
    events: () => eventsOf(store),
  };
}
