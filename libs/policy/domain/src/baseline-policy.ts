import { ActionProposal, DecisionExplanation, Verdict } from '@mandate/contracts';

/**
 * The foundation's policy: a small, explicit rule table that fails closed. The Cedar bundle, risk
 * and trust models replace it (see the policy issue); what stays is the contract: every proposal
 * gets exactly one verdict with reasons, and anything unexpected means DENY, never AUTO.
 */
export const BASELINE_BUNDLE_VERSION = 'baseline-0';

type ActionCase = NonNullable<NonNullable<ActionProposal['action']>['kind']>['$case'];

/** Verdict per action type; an action type missing here is unknown and denied. */
const RULES: Record<ActionCase, Verdict> = {
  qualifyLead: Verdict.VERDICT_AUTO,
  disqualifyLead: Verdict.VERDICT_APPROVE_1,
  assignOwner: Verdict.VERDICT_AUTO,
  createTask: Verdict.VERDICT_AUTO,
  updateField: Verdict.VERDICT_APPROVE_1,
  sendEmail: Verdict.VERDICT_APPROVE_1,
  applyDiscount: Verdict.VERDICT_APPROVE_1,
  moveOpportunityStage: Verdict.VERDICT_APPROVE_1,
  replyToCase: Verdict.VERDICT_APPROVE_1,
  closeCase: Verdict.VERDICT_APPROVE_1,
};

export interface PolicyVerdict {
  verdict: Verdict;
  explanation: DecisionExplanation;
}

export class BaselinePolicy {
  decide(proposal: ActionProposal | undefined): PolicyVerdict {
    const problem = malformed(proposal);
    if (problem) return deny(problem.code, problem.detail);
    const p = proposal as ActionProposal;
    const kind = p.action?.kind?.$case as ActionCase;
    const verdict = RULES[kind];
    if (verdict === undefined)
      return deny('UNKNOWN_ACTION', `action type "${kind}" is not known to policy`);
    if (!(p.confidence >= 0 && p.confidence <= 1))
      return deny('MALFORMED_PROPOSAL', 'confidence must be within 0..1');
    const finalVerdict =
      verdict === Verdict.VERDICT_AUTO && p.confidence < 0.5 ? Verdict.VERDICT_APPROVE_1 : verdict;
    return {
      verdict: finalVerdict,
      explanation: DecisionExplanation.fromPartial({
        policiesMatched: [`baseline.${kind}`],
        reasonCodes:
          finalVerdict === verdict ? ['RULE_MATCHED'] : ['RULE_MATCHED', 'LOW_CONFIDENCE'],
        bundleVersion: BASELINE_BUNDLE_VERSION,
        summary: `${kind} → ${Verdict[finalVerdict].replace('VERDICT_', '')} by the baseline rule table`,
      }),
    };
  }
}

function malformed(p: ActionProposal | undefined): { code: string; detail: string } | undefined {
  if (!p) return { code: 'MALFORMED_PROPOSAL', detail: 'no proposal' };
  const missing = (
    [
      ['proposal_id', p.proposalId],
      ['tenant_id', p.tenantId],
      ['agent_id', p.agentId],
      ['idempotency_key', p.idempotencyKey],
      ['target.record_id', p.target?.recordId],
      ['target.object_type', p.target?.objectType],
    ] as const
  )
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length) return { code: 'MISSING_ATTRIBUTE', detail: `missing ${missing.join(', ')}` };
  if (!p.action?.kind)
    return { code: 'UNKNOWN_ACTION', detail: 'the action has no kind (unknown or unset)' };
  return undefined;
}

function deny(code: string, detail: string): PolicyVerdict {
  return {
    verdict: Verdict.VERDICT_DENY,
    explanation: DecisionExplanation.fromPartial({
      reasonCodes: [code],
      bundleVersion: BASELINE_BUNDLE_VERSION,
      summary: `denied: ${detail}`,
    }),
  };
}
