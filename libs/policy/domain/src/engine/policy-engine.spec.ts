import { ActionProposal, Verdict } from '@mandate/contracts';
import type { TrustAssessment } from '../trust/trust-model';
import type { FactsResult } from './record-reader';
import { engineFixture, FIXTURE_NOW, trustAfter } from './engine.fixtures';
import type { TrustSource } from './policy-engine';

const NOW = FIXTURE_NOW;

const proposal = ActionProposal.fromPartial({
  proposalId: 'p-1',
  tenantId: 'acme',
  correlationId: 'c-1',
  agentId: 'lead-qualification',
  idempotencyKey: 'k-1',
  confidence: 0.95,
  target: { objectType: 'lead', recordId: 'lead-1' },
  action: { kind: { $case: 'qualifyLead', value: { score: 90, reason: 'fit' } } },
});
const facts: FactsResult = {
  facts: {
    objectType: 'lead',
    recordId: 'lead-1',
    tenantId: 'acme',
    attributes: { industry: 'logistics', status: 'New', customerTier: 'smb' },
  },
};

async function setup(trust: TrustAssessment) {
  return engineFixture({ trust: trust });
}

describe('PolicyEngine (Cedar ▸ risk ▸ trust ▸ matrix ▸ switches ▸ ceiling)', () => {
  it('lets a trusted agent act autonomously on a low-risk action, with a verifiable token and a full explanation', async () => {
    const { engine, verifier } = await setup(trustAfter(40));
    const d = await engine.decide(proposal, facts, NOW);
    expect([Verdict.VERDICT_AUTO, Verdict.VERDICT_AUTO_WITH_NOTICE]).toContain(d.verdict);
    expect(verifier.verify(d.token, proposal)).toEqual({ ok: true });
    expect(d.token?.bundleVersion).toBe(d.explanation?.bundleVersion);
    expect(d.explanation?.policiesMatched).toContain('permit.own-tenant');
    expect(d.explanation?.riskContributions.map((c) => c.factor)).toEqual(
      expect.arrayContaining(['model_confidence', 'novelty']),
    );
    expect(d.explanation?.trustBand).toBe('high');
    expect(d.explanation?.bundleHash).toMatch(/^sha256:/);
    expect(d.explanation?.trustEvidence['review_approve']).toBeGreaterThan(0);
  });

  it('starts a new agent untrusted: a human approves, and no token is issued', async () => {
    const { engine } = await setup(trustAfter(0));
    const d = await engine.decide(proposal, facts, NOW);
    expect(d.verdict).toBe(Verdict.VERDICT_APPROVE_1);
    expect(d.token).toBeUndefined();
    expect(d.explanation?.trustBand).toBe('untrusted');
  });

  it('lets a Cedar forbid win over any trust', async () => {
    const { engine } = await setup(trustAfter(40));
    const d = await engine.decide(
      proposal,
      { facts: { ...facts.facts!, tenantId: 'globex' } },
      NOW,
    );
    expect(d.verdict).toBe(Verdict.VERDICT_DENY);
    expect(d.explanation?.reasonCodes).toContain('CROSS_TENANT');
  });

  it('requires a human for regulated industries even with high trust', async () => {
    const { engine } = await setup(trustAfter(40));
    const d = await engine.decide(
      proposal,
      { facts: { ...facts.facts!, attributes: { industry: 'finance', status: 'New' } } },
      NOW,
    );
    expect(d.verdict).toBe(Verdict.VERDICT_APPROVE_1);
  });

  it.each([
    [
      'no facts (CRM unreadable)',
      proposal,
      { facts: undefined, reason: 'FACTS_UNAVAILABLE', detail: 'timeout' } as FactsResult,
      'FACTS_UNAVAILABLE',
    ],
    [
      'an action with no kind',
      { ...proposal, action: { kind: undefined } },
      facts,
      'UNKNOWN_ACTION',
    ],
    ['an invalid tenant', { ...proposal, tenantId: 'Not A Tenant' }, facts, 'MALFORMED_PROPOSAL'],
    ['an unknown agent', { ...proposal, agentId: 'rogue' }, facts, 'FORBID_MATCHED'],
  ])('fails closed on %s', async (_name, p, f, code) => {
    const { engine } = await setup(trustAfter(40));
    const d = await engine.decide(p as ActionProposal, f as FactsResult, NOW);
    expect(d.verdict).toBe(Verdict.VERDICT_DENY);
    expect(d.token).toBeUndefined();
    expect(d.explanation?.reasonCodes).toContain(code);
  });

  it('denies on a stale bundle', async () => {
    const { engine } = await setup(trustAfter(40));
    const d = await engine.decide(proposal, facts, new Date(NOW.getTime() + 2 * 3_600_000));
    expect(d.verdict).toBe(Verdict.VERDICT_DENY);
    expect(d.explanation?.reasonCodes).toContain('STALE_BUNDLE');
  });

  it('demotes at once when a kill switch is engaged, and restores when an authorised person clears it', async () => {
    const { engine, killSwitches } = await setup(trustAfter(40));
    const target = { scope: 'agent' as const, agentId: 'lead-qualification' };
    const by = { id: 'admin', roles: ['policy-admin'] };
    expect(
      killSwitches.apply({
        type: 'set',
        eventId: 'ks1',
        version: 1,
        target,
        mode: 'deny',
        reason: 'incident',
        by,
        at: NOW.toISOString(),
      }).status,
    ).toBe('applied');
    const denied = await engine.decide(proposal, facts, NOW);
    expect(denied.verdict).toBe(Verdict.VERDICT_DENY);
    expect(denied.explanation?.reasonCodes).toContain('KILL_SWITCH_AGENT');
    const reviewer = { id: 'r', roles: ['reviewer'], tenantId: 'acme' };
    expect(
      killSwitches.apply({
        type: 'clear',
        eventId: 'ks2',
        version: 2,
        target,
        reason: 'x',
        by: reviewer,
        at: NOW.toISOString(),
      }).status,
    ).toBe('refused');
    expect((await engine.decide(proposal, facts, NOW)).verdict).toBe(Verdict.VERDICT_DENY);
    expect(
      killSwitches.apply({
        type: 'clear',
        eventId: 'ks3',
        version: 3,
        target,
        reason: 'fixed',
        by,
        at: NOW.toISOString(),
      }).status,
    ).toBe('applied');
    expect((await engine.decide(proposal, facts, NOW)).verdict).not.toBe(Verdict.VERDICT_DENY);
  });

  it('denies while the error-spike breaker is open', async () => {
    const { engine, breakers } = await setup(trustAfter(40));
    for (let i = 0; i < 3; i++) {
      breakers.observe({
        type: 'execution',
        eventId: `f${i}`,
        tenantId: 'acme',
        agentId: 'lead-qualification',
        at: NOW,
        failed: true,
      });
    }
    const d = await engine.decide(proposal, facts, NOW);
    expect(d.verdict).toBe(Verdict.VERDICT_DENY);
    expect(d.explanation?.reasonCodes.join(',')).toMatch(/BREAKER/);
  });

  it('never crashes: a failing trust source becomes a DENY', async () => {
    const { engine } = await setup(trustAfter(40));
    (engine as unknown as { deps: { trust: TrustSource } }).deps.trust = {
      get: async () => Promise.reject(new Error('db down')),
    };
    const d = await engine.decide(proposal, facts, NOW);
    expect(d.verdict).toBe(Verdict.VERDICT_DENY);
    expect(d.explanation?.reasonCodes).toContain('INTERNAL_ERROR');
  });
});
