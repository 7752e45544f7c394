import { createHash } from 'node:crypto';
import {
  actionTypeOf,
  ActionProposal,
  Approval,
  DecisionExplanation,
  PolicyDecision,
  ReviewDecision,
  ReviewOutcome,
  Verdict,
} from '@mandate/contracts';
import { requiredApprovals, type DecisionTokenIssuer } from '@mandate/decision-token';
import { tenantId as toTenantId } from '@mandate/storage';
import { decideAutonomy } from '../autonomy/decide-autonomy';
import { normalizeVerdict } from '../autonomy/verdict-order';
import { parseAutonomyMatrix, type AutonomyMatrix } from '../autonomy/autonomy-matrix';
import type { CircuitBreakers } from '../autonomy/circuit-breakers';
import type { KillSwitchBoard } from '../autonomy/kill-switch.board';
import type { BundleRegistry } from '../cedar/bundle.registry';
import { parseRiskConfig, type RiskModelConfig } from '../risk/risk-model.config';
import { scoreRisk } from '../risk/risk-scorer';
import type { TrustAssessment } from '../trust/trust-model';
import { decisionIdFor } from './decision-id';
import type { DecisionInput } from './decision-input';
import type { FactsResult } from './record-reader';

/** Where the engine reads trust (the TrustRepository in services, a stub of numbers in the bench). */
export interface TrustSource {
  get(
    tenant: ReturnType<typeof toTenantId>,
    agentId: string,
    actionType: string,
    now: Date,
  ): Promise<TrustAssessment>;
}

export interface PolicyEngineDeps {
  registry: BundleRegistry;
  trust: TrustSource;
  killSwitches: KillSwitchBoard;
  breakers: CircuitBreakers;
  issuer: DecisionTokenIssuer;
  /** A bundle not confirmed by its source for longer than this is stale: DENY. */
  maxBundleAgeMs: number;
  tenantTimeZone?: (tenantId: string) => string | undefined;
  /** False for a shadow engine: its decisions are compared, never executed, so never signed. */
  issueTokens?: boolean;
}

const AUTONOMOUS = new Set([Verdict.VERDICT_AUTO, Verdict.VERDICT_AUTO_WITH_NOTICE]);

/**
 * The whole decision: Cedar (forbids win, any evaluation error denies) ▸ risk ▸ trust ▸ autonomy
 * matrix ▸ obligations, breakers, kill switches and the agent's ceiling. Never throws on bad
 * input: anything unexpected is DENY with a reason code. Every decision carries its explanation.
 */
export class PolicyEngine {
  private parsed?:
    | { hash: string; risk: RiskModelConfig; matrix: AutonomyMatrix }
    | { hash: string; error: string };

  constructor(private readonly deps: PolicyEngineDeps) {}

  async decide(
    proposal: ActionProposal,
    facts: FactsResult,
    now: Date = new Date(),
  ): Promise<PolicyDecision> {
    try {
      return await this.decideUnsafe(proposal, facts, now);
    } catch (err) {
      return this.deny(
        proposal,
        now,
        ['INTERNAL_ERROR'],
        `internal error: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private async decideUnsafe(
    proposal: ActionProposal,
    factsResult: FactsResult,
    now: Date,
  ): Promise<PolicyDecision> {
    const active = this.deps.registry.active();
    const actionType = actionTypeOf(proposal.action);
    if (!active) return this.deny(proposal, now, ['NO_BUNDLE'], 'no policy bundle is active');
    if (!actionType)
      return this.deny(proposal, now, ['UNKNOWN_ACTION'], 'the action type is unknown or unset');
    let tenant;
    try {
      tenant = toTenantId(proposal.tenantId);
    } catch {
      return this.deny(proposal, now, ['MALFORMED_PROPOSAL'], 'invalid tenant id');
    }
    const config = this.configFor(active.identity.contentHash, active.bundle.files);
    if ('error' in config) return this.deny(proposal, now, ['INVALID_BUNDLE_CONFIG'], config.error);
    if (!factsResult.facts)
      return this.deny(proposal, now, [factsResult.reason], factsResult.detail);

    const agent = active.bundle.agents.find((a) => a.id === proposal.agentId);
    const input: DecisionInput = {
      proposal,
      facts: factsResult.facts,
      agent,
      now,
      tenantTimeZone: this.deps.tenantTimeZone?.(proposal.tenantId),
    };
    const cedar = this.deps.registry.evaluate(input, { maxAgeMs: this.deps.maxBundleAgeMs });
    const trust = await this.deps.trust.get(tenant, proposal.agentId, actionType, now);
    const risk = scoreRisk(input, trust.novelty, config.risk);
    const autonomy = decideAutonomy({
      cedar: cedar.decision,
      obligations: cedar.obligations,
      risk,
      trust,
      matrix: config.matrix,
      ceiling: agent?.ceiling ?? Verdict.VERDICT_DENY,
      killSwitch: this.deps.killSwitches.check(proposal.tenantId, proposal.agentId, actionType),
      breakers: this.deps.breakers.state(proposal.tenantId, proposal.agentId),
    });
    const verdict = autonomy.verdict;
    const reasonCodes = [...cedar.reasonCodes, ...autonomy.reasonCodes];
    const explanation = DecisionExplanation.fromPartial({
      policiesMatched: cedar.matched.map((m) => m.id),
      matchedPolicies: cedar.matched.map((m) => ({
        id: m.id,
        effect: m.effect,
        annotations: m.annotations,
      })),
      reasonCodes,
      riskScore: risk.score,
      riskBand: risk.band,
      riskContributions: risk.contributions,
      trustScore: trust.score,
      trustBand: trust.band,
      trustEvidence: { ...trust.evidence },
      autonomyCeiling: agent?.ceiling ?? Verdict.VERDICT_DENY,
      bundleVersion: active.identity.version,
      bundleHash: active.identity.contentHash,
      matrixVersion: autonomy.matrixVersion,
      summary: summarize(actionType, verdict, reasonCodes, risk.band, trust.band),
    });
    return PolicyDecision.fromPartial({
      decisionId: decisionIdFor(proposal),
      tenantId: proposal.tenantId,
      correlationId: proposal.correlationId,
      proposal,
      verdict,
      explanation,
      token:
        AUTONOMOUS.has(verdict) && this.deps.issueTokens !== false
          ? this.deps.issuer.issue(proposal, verdict, [], active.identity.version)
          : undefined,
      decidedAt: now.toISOString(),
    });
  }

  /**
   * Re-checks a decision after human review (reviews in the order they were made). A DENY stays
   * DENY and any rejection denies. The last edit replaces the action, and the (possibly edited)
   * action is decided again on fresh facts: DENY wins, and the approvals needed are those of the
   * stricter of the original and the fresh verdict. Only approvals of the final action count (the
   * last editor's and those given after the edit: an approval of an earlier version approved
   * something else). A token is issued only when that many distinct reviewers approved — never
   * the agent itself — and it binds the approvals and the bundle that decided.
   */
  async recheck(
    decision: PolicyDecision,
    reviews: ReviewDecision[],
    facts: FactsResult,
    now: Date = new Date(),
  ): Promise<PolicyDecision> {
    const original = decision.proposal;
    const recheckId = (prefix: string) =>
      createHash('sha256')
        .update(
          `${prefix}/${decision.decisionId}/${reviews.map((r) => r.reviewDecisionId).join(',')}`,
        )
        .digest('hex')
        .slice(0, 32);
    if (!original)
      return {
        ...this.deny(
          ActionProposal.fromPartial({}),
          now,
          ['MALFORMED_PROPOSAL'],
          'decision carries no proposal',
        ),
        decisionId: recheckId('recheck-deny'),
      };
    if (normalizeVerdict(decision.verdict) === Verdict.VERDICT_DENY)
      return {
        ...this.deny(original, now, ['ORIGINAL_DENIED'], 'the decision under review was DENY'),
        decisionId: recheckId('recheck-deny'),
      };
    if (reviews.some((r) => r.outcome === ReviewOutcome.REVIEW_OUTCOME_REJECT))
      return {
        ...this.deny(original, now, ['REVIEW_REJECTED'], 'a reviewer rejected the action'),
        decisionId: recheckId('recheck-deny'),
      };
    const lastEdit = lastEditIndex(reviews);
    const proposal =
      lastEdit >= 0 ? { ...original, action: reviews[lastEdit].editedAction } : original;
    const fresh = await this.decide(proposal, facts, now);
    if (fresh.verdict === Verdict.VERDICT_DENY)
      return { ...fresh, decisionId: recheckId('recheck-deny') };
    const needed = Math.max(requiredApprovals(decision.verdict), requiredApprovals(fresh.verdict));
    const approvals: Approval[] = [];
    for (const r of reviews.slice(Math.max(lastEdit, 0))) {
      const approved =
        r.outcome === ReviewOutcome.REVIEW_OUTCOME_APPROVE ||
        r.outcome === ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE;
      if (
        approved &&
        r.reviewerId &&
        r.reviewerId !== proposal.agentId &&
        !approvals.some((a) => a.reviewerId === r.reviewerId)
      )
        approvals.push({
          reviewerId: r.reviewerId,
          decidedAt: r.decidedAt,
          reviewDecisionId: r.reviewDecisionId,
        });
    }
    const verdict =
      needed >= 2
        ? Verdict.VERDICT_APPROVE_2
        : needed === 1
          ? Verdict.VERDICT_APPROVE_1
          : fresh.verdict;
    const explanation = DecisionExplanation.fromPartial({
      ...fresh.explanation,
      reasonCodes: [
        ...(fresh.explanation?.reasonCodes ?? []),
        `APPROVALS_${approvals.length}_OF_${needed}`,
      ],
    });
    const bundleVersion = explanation.bundleVersion;
    return PolicyDecision.fromPartial({
      ...fresh,
      decisionId: recheckId('recheck'),
      verdict,
      explanation,
      token:
        approvals.length >= needed && this.deps.issueTokens !== false
          ? this.deps.issuer.issue(proposal, verdict, approvals, bundleVersion)
          : undefined,
    });
  }

  private configFor(hash: string, files: Record<string, unknown>) {
    if (this.parsed?.hash !== hash) {
      try {
        this.parsed = {
          hash,
          risk: parseRiskConfig(files['risk.json']),
          matrix: parseAutonomyMatrix(files['matrix.json']),
        };
      } catch (err) {
        this.parsed = { hash, error: err instanceof Error ? err.message : String(err) };
      }
    }
    return this.parsed;
  }

  private deny(
    proposal: ActionProposal,
    now: Date,
    reasonCodes: string[],
    detail: string,
  ): PolicyDecision {
    const active = this.deps.registry.active();
    return PolicyDecision.fromPartial({
      decisionId: decisionIdFor(proposal),
      tenantId: proposal.tenantId,
      correlationId: proposal.correlationId,
      proposal,
      verdict: Verdict.VERDICT_DENY,
      explanation: DecisionExplanation.fromPartial({
        reasonCodes,
        bundleVersion: active?.identity.version ?? '',
        bundleHash: active?.identity.contentHash ?? '',
        summary: `denied: ${detail}`,
      }),
      decidedAt: now.toISOString(),
    });
  }
}

/** Index of the last review that edited the action (-1 when none did). */
export function lastEditIndex(reviews: ReviewDecision[]): number {
  for (let i = reviews.length - 1; i >= 0; i--)
    if (reviews[i].outcome === ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE && reviews[i].editedAction)
      return i;
  return -1;
}

function summarize(
  actionType: string,
  verdict: Verdict,
  codes: string[],
  risk: string,
  trust: string,
): string {
  const v = Verdict[verdict]?.replace('VERDICT_', '') ?? 'DENY';
  return `${actionType} → ${v} (risk ${risk}, trust ${trust}; ${codes.join(', ') || 'no reason codes'})`;
}
