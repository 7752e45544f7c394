import {
  ExecutionOutcome,
  ReviewDecision,
  TrustEvidence as TrustEvidenceEvent,
} from '@mandate/contracts';
import { isTenantId, tenantId as toTenantId, type DocumentStore } from '@mandate/storage';
import type { AutonomyAuditEvent } from '../autonomy/autonomy-audit';
import type { CircuitBreakers } from '../autonomy/circuit-breakers';
import type { DecisionDoc } from '../engine/policy-decider';
import {
  TRUST_EVIDENCE_KINDS,
  trustEvidenceKindOfExecution,
  trustEvidenceKindOfReview,
  type TrustAssessment,
  type TrustEvidenceKind,
} from './trust-model';
import type { TrustRepository } from './trust.repository';

/** Reason code of the rejection human-review publishes when a task's last SLA tier runs out. */
export const SLA_EXPIRED_REASON = 'SLA_EXPIRED';

/** Why an outcome moves no trust (logged and counted, never an error). */
export type NoEvidence = { skip: string };

/**
 * Turns review decisions and execution outcomes into trust evidence for the agent that proposed
 * the action. The agent and action type come from policy's own decision record (keyed by the
 * proposal id), never from the outcome's producer. Outcomes that say nothing about the agent
 * (a timeout, an expired credential, a suppressed duplicate) yield none.
 */
export class TrustEvidenceRouter {
  constructor(private readonly decisions: DocumentStore<DecisionDoc>) {}

  async fromExecution(o: ExecutionOutcome): Promise<TrustEvidenceEvent | NoEvidence> {
    const kind = trustEvidenceKindOfExecution(o.status, o.errorClass);
    if (!kind) return { skip: 'outcome says nothing about the agent' };
    return this.evidence(
      o.tenantId,
      o.proposalId,
      o.outcomeId,
      kind,
      o.executedAt,
      o.correlationId,
    );
  }

  async fromReview(r: ReviewDecision): Promise<TrustEvidenceEvent | NoEvidence> {
    const kind = trustEvidenceKindOfReview(r.outcome);
    if (!kind) return { skip: 'review outcome is unspecified' };
    if (!r.proposalId) return { skip: 'review decision names no proposal' };
    // A review that expired (the fail-safe rejection of human-review's SLA) says nothing about
    // the agent: nobody looked at it.
    if (r.reasonCode === SLA_EXPIRED_REASON)
      return { skip: 'the review expired (SLA fail-safe), no reviewer judged the action' };
    return this.evidence(
      r.tenantId,
      r.proposalId,
      r.reviewDecisionId,
      kind,
      r.decidedAt,
      r.correlationId,
    );
  }

  private async evidence(
    tenant: string,
    proposalId: string,
    eventId: string,
    kind: TrustEvidenceKind,
    occurredAt: string | undefined,
    correlationId: string,
  ): Promise<TrustEvidenceEvent | NoEvidence> {
    if (!isTenantId(tenant)) return { skip: `invalid tenant id "${tenant}"` };
    if (!eventId) return { skip: 'outcome has no id' };
    if (!proposalId) return { skip: 'outcome names no proposal' };
    const decision = await this.decisions.get(toTenantId(tenant), proposalId);
    if (!decision) return { skip: `no policy decision recorded for proposal ${proposalId}` };
    if (!decision.agentId || !decision.actionType)
      return { skip: `decision for proposal ${proposalId} has no agent or action type` };
    return TrustEvidenceEvent.fromPartial({
      eventId,
      tenantId: tenant,
      agentId: decision.agentId,
      actionType: decision.actionType,
      kind,
      occurredAt: occurredAt || new Date().toISOString(),
      correlationId,
    });
  }
}

export interface RecordedEvidence {
  applied: boolean;
  assessment: TrustAssessment;
  /** Breakers this evidence tripped (to broadcast and audit). */
  trips: AutonomyAuditEvent[];
}

/** Malformed evidence: it cannot be applied and is dead-lettered with this reason. */
export class InvalidTrustEvidenceEventError extends Error {
  override readonly name = 'InvalidTrustEvidenceEventError';
}

/**
 * Applies one piece of evidence: the agent's trust (idempotent on the event id, in the trust
 * document itself) and the breaker windows (rejection rate, error spike). The trust-evidence topic
 * is keyed by tenant/agent, so the replica that owns the key sees all of an agent's outcomes.
 */
export class TrustEvidenceRecorder {
  constructor(
    private readonly trust: TrustRepository,
    private readonly breakers: CircuitBreakers,
  ) {}

  async record(e: TrustEvidenceEvent): Promise<RecordedEvidence> {
    if (!isTenantId(e.tenantId))
      throw new InvalidTrustEvidenceEventError(`invalid tenant id "${e.tenantId}"`);
    if (!e.eventId || !e.agentId || !e.actionType)
      throw new InvalidTrustEvidenceEventError('evidence needs eventId, agentId and actionType');
    if (!(TRUST_EVIDENCE_KINDS as readonly string[]).includes(e.kind))
      throw new InvalidTrustEvidenceEventError(`unknown evidence kind "${e.kind}"`);
    const at = new Date(e.occurredAt ?? '');
    if (Number.isNaN(at.getTime()))
      throw new InvalidTrustEvidenceEventError('evidence has no valid occurred_at');
    const kind = e.kind as TrustEvidenceKind;
    const { applied, assessment } = await this.trust.record(
      toTenantId(e.tenantId),
      e.agentId,
      e.actionType,
      { eventId: e.eventId, kind, at },
    );
    const base = { eventId: e.eventId, tenantId: e.tenantId, agentId: e.agentId, at };
    const trips = kind.startsWith('review_')
      ? this.breakers.observe({ ...base, type: 'review', rejected: kind === 'review_reject' })
      : this.breakers.observe({
          ...base,
          type: 'execution',
          failed: kind === 'execution_failure' || kind === 'incident',
        });
    return { applied, assessment, trips };
  }
}
