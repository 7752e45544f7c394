import {
  actionTypeOf,
  ActionProposal,
  AuditKind,
  PolicyDecision,
  ReviewDecision,
  Verdict,
} from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { outboxMessage, Topics } from '@mandate/messaging';
import {
  defineCollection,
  DuplicateKeyError,
  isTenantId,
  tenantId as toTenantId,
  type DocumentStore,
} from '@mandate/storage';
import type { CircuitBreakers } from '../autonomy/circuit-breakers';
import type { AutonomyAuditEvent } from '../autonomy/autonomy-audit';
import { lastEditIndex, type PolicyEngine } from './policy-engine';
import { readFacts, type RecordReader } from './record-reader';

const SOURCE = 'policy';

/**
 * One decision per proposal (id = proposal id): a redelivered proposal is recognised and nothing
 * is written twice; re-checks start from the verdict recorded here; trust evidence is attributed
 * to its agent and action type.
 */
export interface DecisionDoc {
  id: string;
  decisionId: string;
  verdict: string;
  correlationId: string;
  /** Whose trust a later review or execution outcome moves. */
  agentId: string;
  /** snake_case action type ('' when unknown: such a proposal was denied). */
  actionType: string;
  bundleVersion: string;
  decidedAt: Date;
}

/** A proposal the shadow (candidate) bundle decided differently from the active one. */
export interface ShadowDivergenceDoc {
  /** The active decision's id. */
  id: string;
  proposalId: string;
  agentId: string;
  actionType: string;
  activeBundle: string;
  activeVerdict: string;
  activeReasons: string[];
  shadowBundle: string;
  shadowVerdict: string;
  shadowReasons: string[];
  decidedAt: Date;
}

export const DECISIONS = defineCollection<DecisionDoc>({ name: 'decisions', indexes: [] });

export const SHADOW_DIVERGENCES = defineCollection<ShadowDivergenceDoc>({
  name: 'shadow_divergences',
  indexes: [
    {
      name: 'shadow_bundle_time',
      keys: { shadowBundle: 1, decidedAt: -1 },
      why: 'Judging one candidate bundle: its divergences, newest first.',
    },
  ],
});

export class MalformedProposalError extends Error {
  override readonly name = 'MalformedProposalError';
}

/** A candidate bundle running beside the active one. */
export interface ShadowEngine {
  /** False while no candidate is set: nothing is evaluated. */
  active(): boolean;
  engine: PolicyEngine;
}

export interface PolicyDeciderDeps {
  engine: PolicyEngine;
  reader: RecordReader;
  decisions: DocumentStore<DecisionDoc>;
  divergences: DocumentStore<ShadowDivergenceDoc>;
  breakers: CircuitBreakers;
  shadow?: ShadowEngine;
  clock?: () => Date;
  /** Called for each breaker this proposal tripped (the service broadcasts it to every replica). */
  onBreakerTrip?: (audit: AutonomyAuditEvent) => Promise<void>;
}

export interface RecordedDecision {
  decision: PolicyDecision;
  /** False when the proposal had been decided before (a redelivery): nothing was written. */
  recorded: boolean;
  /** The shadow verdict, when a candidate bundle ran and disagreed. */
  divergence?: ShadowDivergenceDoc;
}

/**
 * The policy service's use cases on top of the engine: facts are read from the CRM (never the
 * proposal), the decision is recorded with its announcement (decision event + audit record) in
 * one atomic write, a candidate bundle runs in shadow, and proposals feed the action-rate
 * breaker. Preview and re-check have no side effects.
 */
export class PolicyDecider {
  private readonly clock: () => Date;

  constructor(private readonly deps: PolicyDeciderDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Decides without recording anything (previews, gRPC Decide). */
  async preview(proposal: ActionProposal): Promise<PolicyDecision> {
    return this.deps.engine.decide(
      proposal,
      await readFacts(this.deps.reader, proposal),
      this.clock(),
    );
  }

  /**
   * Re-check after review, on fresh facts for the (possibly edited) action. The decision under
   * review must be one policy recorded: its verdict is taken from policy's record, not from the
   * caller, so a re-check can never start from a laxer verdict than the one policy gave.
   */
  async recheck(decision: PolicyDecision, reviews: ReviewDecision[]): Promise<PolicyDecision> {
    const proposal = decision.proposal ?? ActionProposal.fromPartial({});
    const recorded =
      isTenantId(proposal.tenantId) && proposal.proposalId
        ? await this.deps.decisions.get(toTenantId(proposal.tenantId), proposal.proposalId)
        : undefined;
    const verdict =
      recorded && recorded.decisionId === decision.decisionId
        ? (Verdict[recorded.verdict as keyof typeof Verdict] as Verdict | undefined)
        : undefined;
    const checked = PolicyDecision.fromPartial({
      ...decision,
      // Unknown to policy (never decided, or another decision id): re-checked as DENY.
      verdict: verdict ?? Verdict.VERDICT_DENY,
    });
    const lastEdit = lastEditIndex(reviews);
    const facts = await readFacts(
      this.deps.reader,
      lastEdit >= 0 ? { ...proposal, action: reviews[lastEdit].editedAction } : proposal,
    );
    return this.deps.engine.recheck(checked, reviews, facts, this.clock());
  }

  /**
   * Decides a proposal from the event flow and records it. A redelivered proposal finds its
   * decision and writes nothing. A proposal without a valid tenant or id cannot be recorded at
   * all: MalformedProposalError (the bus dead-letters it, nothing is lost).
   */
  async decideAndRecord(proposal: ActionProposal): Promise<RecordedDecision> {
    if (!isTenantId(proposal.tenantId))
      throw new MalformedProposalError(`invalid tenant id "${proposal.tenantId}"`);
    if (!proposal.proposalId) throw new MalformedProposalError('proposal has no id');
    const tenant = toTenantId(proposal.tenantId);
    const now = this.clock();
    const facts = await readFacts(this.deps.reader, proposal);
    const decision = await this.deps.engine.decide(proposal, facts, now);
    const actionType = actionTypeOf(proposal.action) ?? '';
    const bundleVersion = decision.explanation?.bundleVersion ?? '';
    const meta = {
      tenantId: proposal.tenantId,
      correlationId: proposal.correlationId,
      source: SOURCE,
      id: decision.decisionId,
    };
    try {
      await this.deps.decisions.insert(
        tenant,
        {
          id: proposal.proposalId,
          decisionId: decision.decisionId,
          verdict: Verdict[decision.verdict],
          correlationId: proposal.correlationId,
          agentId: proposal.agentId,
          actionType,
          bundleVersion,
          decidedAt: now,
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
                occurredAt: now,
                attributes: {
                  verdict: Verdict[decision.verdict],
                  bundleVersion,
                  bundleHash: decision.explanation?.bundleHash ?? '',
                  matrixVersion: decision.explanation?.matrixVersion ?? '',
                },
              },
              SOURCE,
            ),
          ],
        },
      );
    } catch (err) {
      if (err instanceof DuplicateKeyError) return { decision, recorded: false };
      throw err;
    }
    if (proposal.agentId) {
      const trips = this.deps.breakers.observe({
        type: 'proposal',
        eventId: proposal.proposalId,
        tenantId: proposal.tenantId,
        agentId: proposal.agentId,
        at: now,
      });
      for (const trip of trips) await this.deps.onBreakerTrip?.(trip);
    }
    const divergence = await this.shadow(proposal, facts, decision, now);
    return { decision, recorded: true, divergence };
  }

  /** Runs the candidate bundle, and records (and audits) a verdict that differs. */
  private async shadow(
    proposal: ActionProposal,
    facts: Awaited<ReturnType<typeof readFacts>>,
    active: PolicyDecision,
    now: Date,
  ): Promise<ShadowDivergenceDoc | undefined> {
    const shadow = this.deps.shadow;
    if (!shadow?.active()) return undefined;
    const candidate = await shadow.engine.decide(proposal, facts, now);
    if (candidate.verdict === active.verdict) return undefined;
    const doc: ShadowDivergenceDoc = {
      id: active.decisionId,
      proposalId: proposal.proposalId,
      agentId: proposal.agentId,
      actionType: actionTypeOf(proposal.action) ?? '',
      activeBundle: active.explanation?.bundleVersion ?? '',
      activeVerdict: Verdict[active.verdict],
      activeReasons: active.explanation?.reasonCodes ?? [],
      shadowBundle: candidate.explanation?.bundleVersion ?? '',
      shadowVerdict: Verdict[candidate.verdict],
      shadowReasons: candidate.explanation?.reasonCodes ?? [],
      decidedAt: now,
    };
    try {
      await this.deps.divergences.insert(toTenantId(proposal.tenantId), doc, {
        outbox: [
          auditOutboxMessage(
            {
              kind: AuditKind.AUDIT_KIND_SHADOW_DIVERGENCE,
              tenantId: proposal.tenantId,
              correlationId: proposal.correlationId,
              actor: SOURCE,
              subject: proposal.target,
              summary:
                `shadow bundle ${doc.shadowBundle} would decide ${doc.shadowVerdict.replace('VERDICT_', '')}` +
                ` where ${doc.activeBundle} decided ${doc.activeVerdict.replace('VERDICT_', '')}`,
              dedupeKey: `shadow/${active.decisionId}`,
              occurredAt: now,
              attributes: {
                activeBundle: doc.activeBundle,
                activeVerdict: doc.activeVerdict,
                shadowBundle: doc.shadowBundle,
                shadowVerdict: doc.shadowVerdict,
              },
            },
            SOURCE,
          ),
        ],
      });
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
    }
    return doc;
  }
}
