import {
  ActionProposal,
  CrmAction,
  PolicyDecision,
  ReviewDecision,
  ReviewOutcome,
  Verdict,
} from '@mandate/contracts';
import { InMemoryDocumentStore } from '@mandate/storage';
import type { TrustAssessment } from '../trust/trust-model';
import { DECISIONS, PolicyDecider, SHADOW_DIVERGENCES } from './policy-decider';
import { engineFixture, FIXTURE_NOW, trustAfter } from './engine.fixtures';
import { PolicyEngine } from './policy-engine';
import type { FactsResult, RecordReader } from './record-reader';

const NOW = FIXTURE_NOW;
const LEAD_AGENT = 'lead-qualification';

const qualify = (score: number): CrmAction => ({
  kind: { $case: 'qualifyLead', value: { score, reason: 'fit' } },
});

const leadProposal = ActionProposal.fromPartial({
  proposalId: 'p-1',
  tenantId: 'acme',
  correlationId: 'c-1',
  agentId: LEAD_AGENT,
  idempotencyKey: 'k-1',
  confidence: 0.95,
  target: { objectType: 'lead', recordId: 'lead-1' },
  action: qualify(90),
});
const leadFacts: FactsResult = {
  facts: {
    objectType: 'lead',
    recordId: 'lead-1',
    tenantId: 'acme',
    attributes: { industry: 'logistics', status: 'New', customerTier: 'smb' },
  },
};

/** A 10 % discount on a large deal by the (untrusted) deal desk: high risk, APPROVE_2. */
const discountProposal = ActionProposal.fromPartial({
  proposalId: 'p-2',
  tenantId: 'acme',
  correlationId: 'c-2',
  agentId: 'deal-desk',
  idempotencyKey: 'k-2',
  confidence: 0.6,
  target: { objectType: 'opportunity', recordId: 'opp-1' },
  action: {
    kind: {
      $case: 'applyDiscount',
      value: {
        discountPercent: 10,
        reason: 'multi-year',
        listAmount: { currencyCode: 'EUR', amountMinor: '25000000' },
      },
    },
  },
});
const discountFacts: FactsResult = {
  facts: {
    objectType: 'opportunity',
    recordId: 'opp-1',
    tenantId: 'acme',
    attributes: { industry: 'manufacturing', amountMinor: 25_000_000, customerTier: 'smb' },
  },
};

let reviewSeq = 0;
function review(
  reviewerId: string,
  outcome: ReviewOutcome = ReviewOutcome.REVIEW_OUTCOME_APPROVE,
  editedAction?: CrmAction,
): ReviewDecision {
  reviewSeq += 1;
  return ReviewDecision.fromPartial({
    reviewDecisionId: `rd-${reviewSeq}`,
    taskId: 't-1',
    tenantId: 'acme',
    correlationId: 'c-1',
    reviewerId,
    outcome,
    editedAction,
    decidedAt: NOW.toISOString(),
    proposalId: 'p-1',
  });
}

async function setup(trust: TrustAssessment = trustAfter(0)) {
  return engineFixture({ trust: trust });
}

/** The first decision on the untrusted lead agent's proposal: APPROVE_1. */
async function leadDecision(engine: PolicyEngine): Promise<PolicyDecision> {
  const d = await engine.decide(leadProposal, leadFacts, NOW);
  expect(d.verdict).toBe(Verdict.VERDICT_APPROVE_1);
  expect(d.token).toBeUndefined();
  return d;
}

async function discountDecision(engine: PolicyEngine): Promise<PolicyDecision> {
  const d = await engine.decide(discountProposal, discountFacts, NOW);
  expect(d.verdict).toBe(Verdict.VERDICT_APPROVE_2);
  expect(d.token).toBeUndefined();
  return d;
}

const codesOf = (d: PolicyDecision) => d.explanation?.reasonCodes ?? [];

describe('PolicyEngine.recheck (after human review)', () => {
  describe('rejections', () => {
    it('denies, without a token, when any reviewer rejects', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(
        d,
        [review('alice'), review('bob', ReviewOutcome.REVIEW_OUTCOME_REJECT)],
        leadFacts,
        NOW,
      );
      expect(r.verdict).toBe(Verdict.VERDICT_DENY);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('REVIEW_REJECTED');
      expect(r.proposal?.proposalId).toBe('p-1');
      expect(r.tenantId).toBe('acme');
    });

    it('denies on a rejection even when the rejection comes first and approvals follow', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(
        d,
        [review('bob', ReviewOutcome.REVIEW_OUTCOME_REJECT), review('alice'), review('carol')],
        leadFacts,
        NOW,
      );
      expect(r.verdict).toBe(Verdict.VERDICT_DENY);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('REVIEW_REJECTED');
    });

    it('denies a decision that carries no proposal', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(
        { ...d, proposal: undefined },
        [review('alice')],
        leadFacts,
        NOW,
      );
      expect(r.verdict).toBe(Verdict.VERDICT_DENY);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('MALFORMED_PROPOSAL');
    });
  });

  describe('APPROVE_1', () => {
    it('issues a verifiable token binding the approval and the bundle once one reviewer approves', async () => {
      const { engine, verifier } = await setup();
      const d = await leadDecision(engine);
      const alice = review('alice');
      const r = await engine.recheck(d, [alice], leadFacts, NOW);
      expect(r.verdict).toBe(Verdict.VERDICT_APPROVE_1);
      expect(r.token).toBeDefined();
      expect(verifier.verify(r.token, leadProposal)).toEqual({ ok: true });
      expect(r.token?.verdict).toBe(Verdict.VERDICT_APPROVE_1);
      expect(r.token?.approvals).toEqual([
        {
          reviewerId: 'alice',
          decidedAt: alice.decidedAt,
          reviewDecisionId: alice.reviewDecisionId,
        },
      ]);
      expect(r.token?.bundleVersion).toBe(r.explanation?.bundleVersion);
      expect(r.token?.bundleVersion).toBe('1.0.0');
      expect(r.token?.proposalId).toBe('p-1');
      expect(codesOf(r)).toContain('APPROVALS_1_OF_1');
      expect(r.decisionId).not.toBe(d.decisionId);
    });

    it('issues no token without approvals', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(d, [], leadFacts, NOW);
      expect(r.verdict).toBe(Verdict.VERDICT_APPROVE_1);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('APPROVALS_0_OF_1');
    });

    it('does not count the agent approving its own action', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(d, [review(LEAD_AGENT)], leadFacts, NOW);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('APPROVALS_0_OF_1');
    });

    it('does not count an approval without a reviewer or with an unspecified outcome', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(
        d,
        [review(''), review('bob', ReviewOutcome.REVIEW_OUTCOME_UNSPECIFIED)],
        leadFacts,
        NOW,
      );
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('APPROVALS_0_OF_1');
    });

    it('decides again on the fresh facts: a kill switch engaged since denies', async () => {
      const { engine, killSwitches } = await setup();
      const d = await leadDecision(engine);
      expect(
        killSwitches.apply({
          type: 'set',
          eventId: 'ks1',
          version: 1,
          target: { scope: 'agent', agentId: LEAD_AGENT },
          mode: 'deny',
          reason: 'incident',
          by: { id: 'admin', roles: ['policy-admin'] },
          at: NOW.toISOString(),
        }).status,
      ).toBe('applied');
      const r = await engine.recheck(d, [review('alice')], leadFacts, NOW);
      expect(r.verdict).toBe(Verdict.VERDICT_DENY);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('KILL_SWITCH_AGENT');
    });

    it('denies when the fresh facts cannot be read', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(
        d,
        [review('alice')],
        { facts: undefined, reason: 'FACTS_UNAVAILABLE', detail: 'timeout' },
        NOW,
      );
      expect(r.verdict).toBe(Verdict.VERDICT_DENY);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('FACTS_UNAVAILABLE');
    });

    it('keeps the approvals of the stricter verdict: an APPROVE_2 decision still needs two when fresh says APPROVE_1', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const stricter = { ...d, verdict: Verdict.VERDICT_APPROVE_2 };
      const one = await engine.recheck(stricter, [review('alice')], leadFacts, NOW);
      expect(one.verdict).toBe(Verdict.VERDICT_APPROVE_2);
      expect(one.token).toBeUndefined();
      expect(codesOf(one)).toContain('APPROVALS_1_OF_2');
      const two = await engine.recheck(stricter, [review('alice'), review('bob')], leadFacts, NOW);
      expect(two.token?.verdict).toBe(Verdict.VERDICT_APPROVE_2);
    });
  });

  describe('APPROVE_2 (four eyes)', () => {
    it('issues no token when the same reviewer approves twice', async () => {
      const { engine } = await setup();
      const d = await discountDecision(engine);
      const r = await engine.recheck(d, [review('alice'), review('alice')], discountFacts, NOW);
      expect(r.verdict).toBe(Verdict.VERDICT_APPROVE_2);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('APPROVALS_1_OF_2');
    });

    it('issues no token when the second approval is the agent itself', async () => {
      const { engine } = await setup();
      const d = await discountDecision(engine);
      const r = await engine.recheck(d, [review('alice'), review('deal-desk')], discountFacts, NOW);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('APPROVALS_1_OF_2');
    });

    it('issues a verifiable token carrying both approvals once two distinct reviewers approve', async () => {
      const { engine, verifier } = await setup();
      const d = await discountDecision(engine);
      const r = await engine.recheck(
        d,
        [review('alice'), review('alice'), review('bob')],
        discountFacts,
        NOW,
      );
      expect(r.verdict).toBe(Verdict.VERDICT_APPROVE_2);
      expect(r.token?.verdict).toBe(Verdict.VERDICT_APPROVE_2);
      expect(r.token?.approvals.map((a) => a.reviewerId)).toEqual(['alice', 'bob']);
      expect(verifier.verify(r.token, discountProposal)).toEqual({ ok: true });
      expect(codesOf(r)).toContain('APPROVALS_2_OF_2');
    });
  });

  describe('EDIT_APPROVE', () => {
    it('decides the edited action and binds the token to the edited payload', async () => {
      const { engine, verifier } = await setup();
      const d = await leadDecision(engine);
      const edited = qualify(60);
      const r = await engine.recheck(
        d,
        [review('alice', ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE, edited)],
        leadFacts,
        NOW,
      );
      expect(r.verdict).toBe(Verdict.VERDICT_APPROVE_1);
      expect(r.token).toBeDefined();
      expect(r.proposal?.action).toEqual(edited);
      expect(verifier.verify(r.token, leadProposal)).toMatchObject({
        ok: false,
        reason: 'PAYLOAD_MISMATCH',
      });
      expect(verifier.verify(r.token, { ...leadProposal, action: edited })).toEqual({ ok: true });
    });

    it('uses the last edit when there are several, and counts only approvals of that final action', async () => {
      const { engine, verifier } = await setup();
      const d = await discountDecision(engine);
      const first: CrmAction = {
        kind: {
          $case: 'applyDiscount',
          value: { discountPercent: 8, reason: 'r', listAmount: undefined },
        },
      };
      const last: CrmAction = {
        kind: {
          $case: 'applyDiscount',
          value: { discountPercent: 5, reason: 'r', listAmount: undefined },
        },
      };
      const edits = [
        review('alice', ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE, first),
        review('bob', ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE, last),
      ];
      // alice approved the 8% version, not the 5% one: only bob's approval counts so far.
      const pending = await engine.recheck(d, edits, discountFacts, NOW);
      expect(pending.proposal?.action).toEqual(last);
      expect(pending.token).toBeUndefined();
      expect(codesOf(pending)).toContain('APPROVALS_1_OF_2');

      const r = await engine.recheck(d, [...edits, review('carol')], discountFacts, NOW);
      expect(r.token?.approvals.map((a) => a.reviewerId)).toEqual(['bob', 'carol']);
      expect(verifier.verify(r.token, { ...discountProposal, action: last })).toEqual({ ok: true });
      expect(verifier.verify(r.token, { ...discountProposal, action: first }).ok).toBe(false);
    });

    it('does not count an approval given before the action was edited', async () => {
      const { engine } = await setup();
      const d = await discountDecision(engine);
      const edited: CrmAction = {
        kind: {
          $case: 'applyDiscount',
          value: { discountPercent: 5, reason: 'r', listAmount: undefined },
        },
      };
      const r = await engine.recheck(
        d,
        [review('alice'), review('bob', ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE, edited)],
        discountFacts,
        NOW,
      );
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('APPROVALS_1_OF_2');
    });

    it('keeps a DENY denied whatever the reviewers say', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(
        { ...d, verdict: Verdict.VERDICT_DENY },
        [review('alice'), review('bob')],
        leadFacts,
        NOW,
      );
      expect(r.verdict).toBe(Verdict.VERDICT_DENY);
      expect(codesOf(r)).toContain('ORIGINAL_DENIED');
      expect(r.token).toBeUndefined();
    });

    it('ignores an edited action on a review that is not an EDIT_APPROVE', async () => {
      const { engine, verifier } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(
        d,
        [review('alice', ReviewOutcome.REVIEW_OUTCOME_APPROVE, qualify(10))],
        leadFacts,
        NOW,
      );
      expect(r.proposal?.action).toEqual(leadProposal.action);
      expect(verifier.verify(r.token, leadProposal)).toEqual({ ok: true });
    });

    it.each([
      [
        'a soft delete',
        {
          kind: {
            $case: 'updateField',
            value: { field: 'isDeleted', value: 'true', previousValue: 'false' },
          },
        } as CrmAction,
        'NO_DELETES',
      ],
      [
        'an action that does not apply to the record (closing a case, on a lead)',
        {
          kind: {
            $case: 'closeCase',
            value: { resolutionCode: 'FIXED', summary: 'done' },
          },
        } as CrmAction,
        'ACTION_NOT_APPLICABLE',
      ],
      ['an action with no kind', { kind: undefined } as CrmAction, 'UNKNOWN_ACTION'],
    ])('denies an edit to %s', async (_name, edited, code) => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(
        d,
        [review('alice', ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE, edited)],
        leadFacts,
        NOW,
      );
      expect(r.verdict).toBe(Verdict.VERDICT_DENY);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain(code);
    });

    it('denies when the fresh facts put the record in another tenant', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const r = await engine.recheck(
        d,
        [review('alice', ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE, qualify(60))],
        { facts: { ...leadFacts.facts!, tenantId: 'globex' } },
        NOW,
      );
      expect(r.verdict).toBe(Verdict.VERDICT_DENY);
      expect(r.token).toBeUndefined();
      expect(codesOf(r)).toContain('CROSS_TENANT');
    });
  });

  describe('decision ids', () => {
    it('are deterministic for the same decision and reviews, and differ otherwise', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const reviews = [review('alice')];
      const a = await engine.recheck(d, reviews, leadFacts, NOW);
      const b = await engine.recheck(d, reviews, leadFacts, new Date(NOW.getTime() + 1000));
      expect(a.decisionId).toBe(b.decisionId);
      expect(a.decisionId).toMatch(/^[0-9a-f]{32}$/);
      expect(a.decisionId).not.toBe(d.decisionId);
      const c = await engine.recheck(d, [...reviews, review('bob')], leadFacts, NOW);
      expect(c.decisionId).not.toBe(a.decisionId);
    });

    it('are deterministic for a denial too, and distinct from the approval id', async () => {
      const { engine } = await setup();
      const d = await leadDecision(engine);
      const reviews = [review('alice', ReviewOutcome.REVIEW_OUTCOME_REJECT)];
      const a = await engine.recheck(d, reviews, leadFacts, NOW);
      const b = await engine.recheck(d, reviews, leadFacts, NOW);
      expect(a.decisionId).toBe(b.decisionId);
      expect(a.decisionId).not.toBe(d.decisionId);
    });
  });
});

describe('PolicyDecider.recheck', () => {
  class Reader implements RecordReader {
    readonly calls: string[] = [];
    fields: Record<string, unknown> | undefined = { industry: 'logistics', status: 'New' };
    async read(tenant: string, objectType: string, recordId: string) {
      this.calls.push(`${tenant}/${objectType}/${recordId}`);
      return this.fields;
    }
  }

  async function deciderSetup() {
    const { engine, verifier, breakers } = await setup();
    const reader = new Reader();
    const decisions = new InMemoryDocumentStore(DECISIONS);
    const divergences = new InMemoryDocumentStore(SHADOW_DIVERGENCES);
    const decider = new PolicyDecider({
      engine,
      reader,
      decisions,
      divergences,
      breakers,
      clock: () => NOW,
    });
    /** A decision policy decided and recorded, as the event flow does. */
    const recorded = async () => {
      const { decision } = await decider.decideAndRecord(leadProposal);
      expect(decision.verdict).toBe(Verdict.VERDICT_APPROVE_1);
      return decision;
    };
    return { decider, engine, verifier, reader, decisions, recorded };
  }

  it('re-checks only decisions policy recorded, from the verdict it recorded', async () => {
    const { decider, engine, recorded } = await deciderSetup();
    // Never recorded: DENY, whatever the caller claims.
    const unknown = await leadDecision(engine);
    const r1 = await decider.recheck({ ...unknown, verdict: Verdict.VERDICT_AUTO }, [
      review('alice'),
    ]);
    expect(r1.verdict).toBe(Verdict.VERDICT_DENY);
    expect(r1.token).toBeUndefined();
    // Recorded as APPROVE_1: a caller claiming AUTO still needs the approval.
    const d = await recorded();
    const r2 = await decider.recheck({ ...d, verdict: Verdict.VERDICT_AUTO }, []);
    expect(r2.token).toBeUndefined();
    expect(codesOf(r2)).toContain('APPROVALS_0_OF_1');
  });

  it('re-reads the record from the CRM and records nothing', async () => {
    const { decider, reader, decisions, verifier, recorded } = await deciderSetup();
    const d = await recorded();
    const outboxBefore = await decisions.pendingOutbox({ limit: 10 });
    reader.calls.length = 0;
    const r = await decider.recheck(d, [review('alice')]);
    expect(reader.calls).toEqual(['acme/lead/lead-1']);
    expect(verifier.verify(r.token, leadProposal)).toEqual({ ok: true });
    expect(await decisions.pendingOutbox({ limit: 10 })).toEqual(outboxBefore);
  });

  it('denies when the record has gone from the CRM since the first decision', async () => {
    const { decider, reader, recorded } = await deciderSetup();
    const d = await recorded();
    reader.fields = undefined;
    const r = await decider.recheck(d, [review('alice')]);
    expect(r.verdict).toBe(Verdict.VERDICT_DENY);
    expect(r.token).toBeUndefined();
    expect(codesOf(r)).toContain('RECORD_NOT_FOUND');
  });

  it('decides the edited action on the fresh facts', async () => {
    const { decider, verifier, recorded } = await deciderSetup();
    const d = await recorded();
    const edited = qualify(55);
    const r = await decider.recheck(d, [
      review('alice', ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE, edited),
    ]);
    expect(verifier.verify(r.token, { ...leadProposal, action: edited })).toEqual({ ok: true });
  });
});
