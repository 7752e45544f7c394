import {
  ActionProposal,
  CrmAction,
  PolicyDecision,
  Verdict,
  type ReviewDecision,
} from '@mandate/contracts';
import {
  FourEyesViolationError,
  REVIEW_TASKS,
  ReviewDecisions,
  ReviewQueue,
  ReviewTaskOpener,
  type PolicyRecheckPort,
  type ReviewTaskDoc,
} from '@mandate/review-domain';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { AgentOwnersConfigError, parseAgentOwners, StaticAgentOwners } from './agent-owners';
import { StaticReviewerDirectory } from './reviewer-directory';

const ACME = tenantId('acme');
const GLOBEX = tenantId('globex');

function problemsOf(input: unknown): string {
  try {
    parseAgentOwners(input);
  } catch (err) {
    expect(err).toBeInstanceOf(AgentOwnersConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('AGENT_OWNERS configuration', () => {
  it('accepts a valid list (JSON text or parsed)', () => {
    const list = [
      { tenantId: 'acme', agentId: 'deal-desk', ownerId: 'own-eve' },
      { tenantId: 'globex', agentId: 'deal-desk', ownerId: 'own-gil@globex.example' },
    ];
    expect(parseAgentOwners(JSON.stringify(list))).toEqual(list);
    expect(parseAgentOwners(list)).toEqual(list);
    expect(parseAgentOwners('[]')).toEqual([]);
  });

  it('refuses text that is not a JSON array', () => {
    expect(problemsOf('[{')).toBe('agent owners: not valid JSON');
    expect(problemsOf('{"tenantId":"acme"}')).toBe('agent owners: expected a JSON array');
  });

  it('reports every bad entry at once, naming it', () => {
    const message = problemsOf([
      'own-eve',
      { tenantId: 'Not A Tenant', agentId: 'deal-desk', ownerId: 'own-eve' },
      { tenantId: 'acme', agentId: 'deal desk!', ownerId: 'own-eve' },
      { tenantId: 'acme', agentId: 'outreach', ownerId: '' },
      { tenantId: 'acme', agentId: 'triage', ownerId: 'own-eve', owner: 'x' },
      { tenantId: 'acme', agentId: 'lead-qualification', ownerId: 'own-eve' },
      { tenantId: 'acme', agentId: 'lead-qualification', ownerId: 'own-fay' },
      { agentId: 'deal-desk', ownerId: 'own-eve' },
    ]);
    expect(message).toContain('agentOwners[0]: expected an object');
    expect(message).toContain('agentOwners[1]: tenantId must be a valid tenant id');
    expect(message).toContain('agentOwners[2]: agentId must be');
    expect(message).toContain('agentOwners[3] (acme/outreach): ownerId must be');
    expect(message).toContain('agentOwners[4] (acme/triage): unknown field "owner"');
    expect(message).toContain(
      'agentOwners[6] (acme/lead-qualification): duplicate tenant and agent (agentOwners[5])',
    );
    expect(message).toContain('agentOwners[7]: tenantId must be a valid tenant id');
    expect(message).not.toContain('agentOwners[5] ');
  });

  it('validates in the constructor too', () => {
    expect(
      () =>
        new StaticAgentOwners([
          { tenantId: 'acme', agentId: 'deal-desk', ownerId: 'own-eve' },
          { tenantId: 'acme', agentId: 'deal-desk', ownerId: 'own-fay' },
        ]),
    ).toThrow(AgentOwnersConfigError);
  });
});

describe('StaticAgentOwners lookup', () => {
  const owners = new StaticAgentOwners([
    { tenantId: 'acme', agentId: 'deal-desk', ownerId: 'own-eve' },
    { tenantId: 'globex', agentId: 'deal-desk', ownerId: 'own-gil' },
    { tenantId: 'globex', agentId: 'outreach', ownerId: 'own-gil' },
  ]);

  it("answers each tenant's own owner of an agent, never another tenant's", async () => {
    expect(await owners.ownerOf('deal-desk', ACME)).toBe('own-eve');
    expect(await owners.ownerOf('deal-desk', GLOBEX)).toBe('own-gil');
    // globex's outreach agent has an owner; acme's (same id) has none.
    expect(await owners.ownerOf('outreach', GLOBEX)).toBe('own-gil');
    expect(await owners.ownerOf('outreach', ACME)).toBeUndefined();
    expect(await owners.ownerOf('deal-desk', tenantId('initech'))).toBeUndefined();
    expect(owners.size).toBe(3);
  });
});

describe('StaticAgentOwners in the four-eyes flow (ReviewDecisions)', () => {
  const member = (id: string) => ({
    id,
    tenantId: 'acme',
    teams: ['general'],
    skills: [],
    roles: ['reviewer' as const],
    active: true,
  });
  // own-gil owns globex's deal-desk agent but is an ordinary reviewer in acme.
  const reviewers = new StaticReviewerDirectory([
    member('rev-ana'),
    member('own-eve'),
    member('own-gil'),
  ]);
  const owners = new StaticAgentOwners([
    { tenantId: 'acme', agentId: 'deal-desk', ownerId: 'own-eve' },
    { tenantId: 'globex', agentId: 'deal-desk', ownerId: 'own-gil' },
  ]);

  /** Policy's re-check: still APPROVE_2, a token only once two distinct people approved. */
  class TwoApprovals implements PolicyRecheckPort {
    calls = 0;
    async recheck(decision: PolicyDecision, reviews: ReviewDecision[]): Promise<PolicyDecision> {
      this.calls++;
      const approvers = [...new Set(reviews.map((r) => r.reviewerId))];
      return PolicyDecision.fromPartial({
        decisionId: `recheck-${decision.decisionId}-${reviews.length}`,
        tenantId: decision.tenantId,
        correlationId: decision.correlationId,
        proposal: decision.proposal,
        verdict: Verdict.VERDICT_APPROVE_2,
        token:
          approvers.length >= 2
            ? {
                tokenId: `token-${decision.decisionId}`,
                tenantId: decision.tenantId,
                proposalId: decision.proposal?.proposalId,
                verdict: Verdict.VERDICT_APPROVE_2,
                requiredApprovals: 2,
                approvals: reviews.map((r) => ({
                  reviewerId: r.reviewerId,
                  reviewDecisionId: r.reviewDecisionId,
                  decidedAt: r.decidedAt,
                })),
              }
            : undefined,
      });
    }
  }

  it("refuses the agent owner's approval of an APPROVE_2 task, and counts other people's", async () => {
    const now = new Date('2025-03-03T09:00:00.000Z');
    const tasks = new InMemoryDocumentStore<ReviewTaskDoc>(REVIEW_TASKS, { clock: () => now });
    const policy = new TwoApprovals();
    const deps = { tasks, reviewers, owners, policy, now: () => now };
    const decisions = new ReviewDecisions(deps);
    const queue = new ReviewQueue(deps);
    const decision = PolicyDecision.fromPartial({
      decisionId: 'd-1',
      tenantId: ACME,
      correlationId: 'corr-1',
      verdict: Verdict.VERDICT_APPROVE_2,
      proposal: ActionProposal.fromPartial({
        proposalId: 'p-1',
        tenantId: ACME,
        correlationId: 'corr-1',
        agentId: 'deal-desk',
        idempotencyKey: 'k-1',
        target: { objectType: 'opportunity', recordId: 'opp-1' },
        action: CrmAction.fromPartial({
          kind: { $case: 'applyDiscount', value: { discountPercent: 12, reason: 'renewal' } },
        }),
      }),
      explanation: { riskBand: 'medium' },
      decidedAt: now.toISOString(),
    });
    const task = await new ReviewTaskOpener({ now: () => now, noticeSampleRate: 0 }).open(
      tasks,
      decision,
    );
    const id = task!.taskId;

    // The owner of acme's deal-desk agent: refused before policy is asked, nothing written.
    const refused = decisions.decide(ACME, id, 'own-eve', { outcome: 'APPROVE' });
    await expect(refused).rejects.toBeInstanceOf(FourEyesViolationError);
    await expect(refused).rejects.toMatchObject({ reason: 'AGENT_OWNER' });
    await expect(queue.claim(ACME, id, 'own-eve')).rejects.toMatchObject({ code: 'NOT_ELIGIBLE' });
    expect(policy.calls).toBe(0);
    expect((await tasks.get(ACME, id))?.reviews).toHaveLength(0);

    // Owning globex's agent of the same id does not make own-gil acme's owner: they count.
    const first = await decisions.decide(ACME, id, 'own-gil', { outcome: 'APPROVE' });
    expect(first).toMatchObject({ status: 'OPEN', effect: 'pending-approvals' });
    const second = await decisions.decide(ACME, id, 'rev-ana', { outcome: 'APPROVE' });
    expect(second).toMatchObject({ status: 'APPROVED', approvedBy: ['own-gil', 'rev-ana'] });
  });
});
