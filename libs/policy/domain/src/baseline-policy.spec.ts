import { ActionProposal, Verdict } from '@mandate/contracts';
import { BaselinePolicy } from './baseline-policy';

const base = ActionProposal.fromPartial({
  proposalId: 'p-1',
  tenantId: 'acme',
  agentId: 'lead-qualification',
  idempotencyKey: 'k',
  confidence: 0.9,
  target: { objectType: 'lead', recordId: 'lead-1' },
  action: { kind: { $case: 'qualifyLead', value: { score: 80, reason: 'fit' } } },
});

describe('BaselinePolicy', () => {
  const policy = new BaselinePolicy();

  it('lets a confident lead qualification run autonomously, with its reasons', () => {
    const d = policy.decide(base);
    expect(d.verdict).toBe(Verdict.VERDICT_AUTO);
    expect(d.explanation.policiesMatched).toEqual(['baseline.qualifyLead']);
  });

  it('asks a human when the agent is unsure', () => {
    expect(policy.decide({ ...base, confidence: 0.3 }).verdict).toBe(Verdict.VERDICT_APPROVE_1);
  });

  it('sends outbound email and discounts to review', () => {
    const email = {
      ...base,
      action: {
        kind: {
          $case: 'sendEmail' as const,
          value: { toContactId: 'c', subject: 's', body: 'b', templateId: '' },
        },
      },
    };
    expect(policy.decide(email).verdict).toBe(Verdict.VERDICT_APPROVE_1);
  });

  it.each([
    ['no proposal', undefined, 'MALFORMED_PROPOSAL'],
    ['a missing tenant', { ...base, tenantId: '' }, 'MISSING_ATTRIBUTE'],
    ['a missing target', { ...base, target: undefined }, 'MISSING_ATTRIBUTE'],
    [
      'an action with no kind (unknown to this reader)',
      { ...base, action: { kind: undefined } },
      'UNKNOWN_ACTION',
    ],
    [
      'an action type it has no rule for',
      {
        ...base,
        action: { kind: { $case: 'deleteEverything', value: {} } },
      } as unknown as ActionProposal,
      'UNKNOWN_ACTION',
    ],
    ['an out-of-range confidence', { ...base, confidence: Number.NaN }, 'MALFORMED_PROPOSAL'],
  ])('fails closed on %s', (_name, proposal, code) => {
    const d = policy.decide(proposal as ActionProposal | undefined);
    expect(d.verdict).toBe(Verdict.VERDICT_DENY);
    expect(d.explanation.reasonCodes).toContain(code);
  });
});
