import { AuditKind, Verdict } from '@mandate/contracts';
import { FourEyesViolationError, NotEligibleError } from './errors';
import { checkApprover, qualifyingApprovals } from './four-eyes';
import type { StoredReview } from './review-task.doc';
import { ACME, discount, harness, REVIEWERS, START } from './testing/fixtures';

const review = (
  reviewerId: string,
  outcome: StoredReview['outcome'] = 'APPROVE',
): StoredReview => ({
  id: `r-${reviewerId}-${outcome}`,
  reviewerId,
  outcome,
  reasonCode: 'APPROVED',
  decidedAt: START,
  startedAt: START,
  startedFrom: 'open',
  effect: 'pending-approvals',
  decision: '',
});

describe('four-eyes rules', () => {
  const parties = { agentId: 'deal-agent', ownerId: 'olga', requesterId: 'rita' };
  const code = (f: () => void) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return (e as FourEyesViolationError).reason;
    }
  };

  it('never lets the agent approve, nor anyone approve the same version twice', () => {
    expect(
      code(() => checkApprover('deal-agent', { requiredApprovals: 1, reviews: [] }, parties)),
    ).toBe('AGENT_ITSELF');
    const once = { requiredApprovals: 2, reviews: [review('alice')] };
    expect(code(() => checkApprover('alice', once, parties))).toBe('SAME_APPROVER');
    expect(code(() => checkApprover('alice', once, parties, true))).toBe('ok'); // an edit is a new version
  });

  it('excludes the agent owner and the requester from four-eyes approvals only', () => {
    const two = { requiredApprovals: 2, reviews: [] };
    expect(code(() => checkApprover('olga', two, parties))).toBe('AGENT_OWNER');
    expect(code(() => checkApprover('rita', two, parties))).toBe('REQUESTER');
    expect(code(() => checkApprover('olga', { requiredApprovals: 1, reviews: [] }, parties))).toBe(
      'ok',
    );
  });

  it("counts only current, distinct approvals, and not the owner's once four eyes are needed", () => {
    const reviews = [review('alice'), review('bob', 'EDIT_APPROVE'), review('olga'), review('bob')];
    expect(qualifyingApprovals(reviews, 1, parties).map((r) => r.reviewerId)).toEqual([
      'bob',
      'olga',
    ]);
    expect(qualifyingApprovals(reviews, 2, parties).map((r) => r.reviewerId)).toEqual(['bob']);
  });
});

describe('four-eyes on APPROVE_2 tasks', () => {
  it('needs two distinct approvers; the same person twice, the owner and the requester are refused', async () => {
    const h = harness({ requesterOf: () => 'bea' });
    const id = await h.open('fe1', { action: discount(20), verdict: Verdict.VERDICT_APPROVE_2 });
    const first = await h.decisions.decide(ACME, id, 'alice', {
      outcome: 'APPROVE',
      reviewDecisionId: 'fe-a',
    });
    expect(first).toEqual(
      expect.objectContaining({
        status: 'OPEN',
        effect: 'pending-approvals',
        approvedBy: ['alice'],
      }),
    );
    expect((await h.events()).policyDecisions).toHaveLength(0);
    const refused = async (who: string) =>
      h.decisions.decide(ACME, id, who, { outcome: 'APPROVE' }).then(
        () => 'approved',
        (e) => `${e.code}:${e.reason}`,
      );
    expect(await refused('alice')).toBe('FOUR_EYES_VIOLATION:SAME_APPROVER');
    expect(await refused('olga')).toBe('FOUR_EYES_VIOLATION:AGENT_OWNER');
    expect(await refused('bea')).toBe('FOUR_EYES_VIOLATION:REQUESTER');
    // none of the refusals reached policy or the task
    expect(h.policy.calls).toHaveLength(1);
    expect((await h.doc(id)).reviews).toHaveLength(1);
    // they cannot even claim it
    await expect(h.queue.claim(ACME, id, 'alice')).rejects.toMatchObject({
      reason: 'ALREADY_APPROVED',
    });
    await expect(h.queue.claim(ACME, id, 'olga')).rejects.toThrow(NotEligibleError);
    const second = await h.decisions.decide(ACME, id, 'bob', {
      outcome: 'APPROVE',
      reviewDecisionId: 'fe-b',
    });
    expect(second).toEqual(
      expect.objectContaining({ status: 'APPROVED', approvedBy: ['alice', 'bob'] }),
    );
    const e = await h.events();
    expect(e.reviewDecisions.map((r) => r.reviewerId)).toEqual(['alice', 'bob']);
    expect(e.policyDecisions).toHaveLength(1);
    expect(
      e.policyDecisions[0].token?.approvals.map((a) => [a.reviewerId, a.reviewDecisionId]),
    ).toEqual([
      ['alice', 'fe-a'],
      ['bob', 'fe-b'],
    ]);
    const audits = e.audits.filter((a) => a.kind === AuditKind.AUDIT_KIND_REVIEW_DECISION);
    expect(audits.map((a) => a.actor)).toEqual(['alice', 'bob']);
    expect(audits[0].summary).toContain('2 approval(s) needed, waiting for another approver');
  });

  it('two approvers at the same moment: both recorded, approved once, executed once', async () => {
    const h = harness();
    const id = await h.open('fe5', { action: discount(20), verdict: Verdict.VERDICT_APPROVE_2 });
    const [a, b] = await Promise.all([
      h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' }),
      h.decisions.decide(ACME, id, 'bob', { outcome: 'APPROVE' }),
    ]);
    expect([a.effect, b.effect].sort()).toEqual(['approved', 'pending-approvals']);
    expect((await h.doc(id)).status).toBe('APPROVED');
    const e = await h.events();
    expect(e.reviewDecisions).toHaveLength(2);
    expect(e.policyDecisions).toHaveLength(1);
    expect(e.policyDecisions[0].token?.approvals).toHaveLength(2);
  });

  it('the agent itself can never approve, even when listed as a reviewer', async () => {
    const h = harness({
      reviewers: [...REVIEWERS, { ...REVIEWERS[0], id: 'deal-agent' }],
    });
    const id = await h.open('fe2', { action: discount(12) });
    await expect(
      h.decisions.decide(ACME, id, 'deal-agent', { outcome: 'APPROVE' }),
    ).rejects.toMatchObject({
      reason: 'AGENT_ITSELF',
    });
  });

  it('the owner may still reject a four-eyes task (rejecting is always safe)', async () => {
    const h = harness();
    const id = await h.open('fe3', { action: discount(20), verdict: Verdict.VERDICT_APPROVE_2 });
    const r = await h.decisions.decide(ACME, id, 'olga', {
      outcome: 'REJECT',
      reasonCode: 'TOO_GENEROUS',
    });
    expect(r.status).toBe('REJECTED');
  });

  it('an owner approval given while one approval sufficed does not count once policy asks for two', async () => {
    const h = harness();
    const id = await h.open('fe4', { action: discount(12) }); // APPROVE_1: the owner may approve…
    const owner = await h.decisions.decide(ACME, id, 'olga', {
      outcome: 'EDIT_APPROVE',
      editedAction: discount(18),
    });
    expect(owner).toEqual(
      expect.objectContaining({
        effect: 'pending-approvals',
        requiredApprovals: 2,
        approvedBy: [],
      }),
    );
    // …but the edit made it four-eyes: policy would issue a token on olga + bob; the domain does not
    const bob = await h.decisions.decide(ACME, id, 'bob', { outcome: 'APPROVE' });
    expect(bob).toEqual(
      expect.objectContaining({ status: 'OPEN', effect: 'pending-approvals', approvedBy: ['bob'] }),
    );
    expect((await h.events()).policyDecisions).toHaveLength(0);
    const alice = await h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' });
    expect(alice).toEqual(
      expect.objectContaining({ status: 'APPROVED', approvedBy: ['bob', 'alice'] }),
    );
    expect((await h.events()).policyDecisions).toHaveLength(1);
  });
});
