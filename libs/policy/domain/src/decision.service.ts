import { createHash } from 'node:crypto';
import {
  ActionProposal,
  Approval,
  AuditKind,
  DecisionExplanation,
  PolicyDecision,
  ReviewDecision,
  ReviewOutcome,
  Verdict,
} from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { requiredApprovals, type DecisionTokenIssuer } from '@mandate/decision-token';
import { outboxMessage, Topics } from '@mandate/messaging';
import { DuplicateKeyError, isTenantId, type DocumentStore } from '@mandate/storage';
import { BaselinePolicy } from './baseline-policy';
import { decisionIdFor } from './engine/decision-id';

const SOURCE = 'policy';

/** One decision per proposal, kept so a redelivered proposal gets the same answer. */
export interface DecisionDoc {
  id: string;
  decisionId: string;
  verdict: string;
  correlationId: string;
  decidedAt: Date;
}

/** Verdicts the connector may execute without a human: only these get a token at decide time. */
const AUTONOMOUS = new Set([Verdict.VERDICT_AUTO, Verdict.VERDICT_AUTO_WITH_NOTICE]);

export class DecisionService {
  constructor(
    private readonly policy: BaselinePolicy,
    private readonly issuer: DecisionTokenIssuer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Evaluates a proposal (no side effects): preview, re-check and the Kafka path all use it. */
  evaluate(proposal: ActionProposal): PolicyDecision {
    const { verdict, explanation } = this.policy.decide(proposal);
    return PolicyDecision.fromPartial({
      decisionId: decisionIdFor(proposal),
      tenantId: proposal.tenantId,
      correlationId: proposal.correlationId,
      proposal,
      verdict,
      explanation,
      token: AUTONOMOUS.has(verdict) ? this.issuer.issue(proposal, verdict) : undefined,
      decidedAt: this.now().toISOString(),
    });
  }

  /**
   * Re-checks a decision after human review: any rejection denies; the last edit replaces the
   * action and is evaluated again (a changed verdict is honoured, DENY wins); a token is issued
   * only when enough distinct reviewers approved for the stricter of the two verdicts.
   */
  recheck(decision: PolicyDecision, reviews: ReviewDecision[]): PolicyDecision {
    const original = decision.proposal;
    if (!original)
      return this.denied(decision, 'MALFORMED_PROPOSAL', 'decision carries no proposal');
    if (reviews.some((r) => r.outcome === ReviewOutcome.REVIEW_OUTCOME_REJECT)) {
      return this.denied(decision, 'REVIEW_REJECTED', 'a reviewer rejected the action');
    }
    const edits = reviews.filter(
      (r) => r.outcome === ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE && r.editedAction,
    );
    const proposal = edits.length
      ? { ...original, action: edits[edits.length - 1].editedAction }
      : original;
    const fresh = this.policy.decide(proposal);
    if (fresh.verdict === Verdict.VERDICT_DENY)
      return { ...this.evaluate(proposal), decidedAt: this.now().toISOString() };
    const needed = Math.max(requiredApprovals(decision.verdict), requiredApprovals(fresh.verdict));
    const approvals: Approval[] = [];
    for (const r of reviews) {
      const approved =
        r.outcome === ReviewOutcome.REVIEW_OUTCOME_APPROVE ||
        r.outcome === ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE;
      if (approved && r.reviewerId && !approvals.some((a) => a.reviewerId === r.reviewerId)) {
        approvals.push({
          reviewerId: r.reviewerId,
          decidedAt: r.decidedAt,
          reviewDecisionId: r.reviewDecisionId,
        });
      }
    }
    const verdict =
      needed >= 2
        ? Verdict.VERDICT_APPROVE_2
        : needed === 1
          ? Verdict.VERDICT_APPROVE_1
          : fresh.verdict;
    return PolicyDecision.fromPartial({
      decisionId: createHash('sha256')
        .update(
          `recheck/${decision.decisionId}/${reviews.map((r) => r.reviewDecisionId).join(',')}`,
        )
        .digest('hex')
        .slice(0, 32),
      tenantId: proposal.tenantId,
      correlationId: proposal.correlationId,
      proposal,
      verdict,
      explanation: {
        ...fresh.explanation,
        reasonCodes: [
          ...fresh.explanation.reasonCodes,
          `APPROVALS_${approvals.length}_OF_${needed}`,
        ],
      },
      token:
        approvals.length >= needed ? this.issuer.issue(proposal, verdict, approvals) : undefined,
      decidedAt: this.now().toISOString(),
    });
  }

  private denied(decision: PolicyDecision, code: string, summary: string): PolicyDecision {
    return PolicyDecision.fromPartial({
      ...decision,
      decisionId: createHash('sha256')
        .update(`recheck-deny/${decision.decisionId}`)
        .digest('hex')
        .slice(0, 32),
      verdict: Verdict.VERDICT_DENY,
      explanation: DecisionExplanation.fromPartial({
        ...decision.explanation,
        reasonCodes: [code],
        summary: `denied: ${summary}`,
      }),
      token: undefined,
      decidedAt: this.now().toISOString(),
    });
  }

  /**
   * Decides a proposal from the event flow and records it with its announcement (decision event
   * and audit record) in one atomic write. A redelivered proposal finds its decision and adds
   * nothing. Returns undefined when the proposal was already decided.
   */
  async decideAndRecord(
    store: DocumentStore<DecisionDoc>,
    proposal: ActionProposal,
  ): Promise<PolicyDecision | undefined> {
    if (!isTenantId(proposal.tenantId))
      throw new MalformedProposalError(`invalid tenant id "${proposal.tenantId}"`);
    if (!proposal.proposalId) throw new MalformedProposalError('proposal has no id');
    const decision = this.evaluate(proposal);
    const meta = {
      tenantId: proposal.tenantId,
      correlationId: proposal.correlationId,
      source: SOURCE,
      id: decision.decisionId,
    };
    try {
      await store.insert(
        proposal.tenantId,
        {
          id: proposal.proposalId,
          decisionId: decision.decisionId,
          verdict: Verdict[decision.verdict],
          correlationId: proposal.correlationId,
          decidedAt: this.now(),
        },
        {
          outbox: [
            outboxMessage(Topics.policyDecisions, decision, meta),
            auditOutboxMessage(
              {
                kind: AuditKind.AUDIT_KIND_DECISION,
                tenantId: proposal.tenantId,
                correlationId: proposal.correlationId,
                actor: SOURCE,
                subject: proposal.target,
                summary: decision.explanation?.summary ?? Verdict[decision.verdict],
                dedupeKey: decision.decisionId,
                payloadType: 'mandate.v1.PolicyDecision',
                payload: PolicyDecision.encode(decision).finish(),
                attributes: {
                  verdict: Verdict[decision.verdict],
                  bundleVersion: decision.explanation?.bundleVersion ?? '',
                },
              },
              SOURCE,
            ),
          ],
        },
      );
      return decision;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return undefined;
      throw err;
    }
  }
}

export class MalformedProposalError extends Error {
  override readonly name = 'MalformedProposalError';
}
