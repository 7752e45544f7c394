import {
  ActionProposal,
  AuditKind,
  CrmChangeEvent,
  ExecutionOutcome,
  ExecutionStatus,
  PolicyDecision,
  Verdict,
} from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { outboxMessage, Topics } from '@mandate/messaging';
import {
  DocumentNotFoundError,
  DuplicateKeyError,
  isTenantId,
  type DocumentStore,
  type OutboxMessage,
} from '@mandate/storage';
import { LEAD_CONTEXT_FIELDS, proposeLeadQualification } from './lead-qualification.agent';

const SOURCE = 'orchestrator';

export type PlanStatus =
  'proposed' | 'executed' | 'denied' | 'awaiting-review' | 'failed' | 'refused';
const TERMINAL = new Set<PlanStatus>(['executed', 'denied', 'failed', 'refused']);

/** A one-step plan for now; multi-step plans with budgets arrive with the orchestration issue. */
export interface PlanDoc {
  id: string;
  agentId: string;
  correlationId: string;
  proposalId: string;
  idempotencyKey: string;
  status: PlanStatus;
  updatedAt: Date;
}

export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

/**
 * Turns CRM changes into proposals and follows each plan to its terminal state. Every state
 * change is one atomic write that carries its events in the plan document's outbox.
 */
export class PlanRunner {
  constructor(
    private readonly plans: DocumentStore<PlanDoc>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async onCrmChange(event: CrmChangeEvent): Promise<ActionProposal | undefined> {
    if (!isTenantId(event.tenantId))
      throw new MalformedEventError(`invalid tenant id "${event.tenantId}"`);
    const proposal = proposeLeadQualification(event, this.now());
    if (!proposal) return undefined;
    const meta = {
      tenantId: event.tenantId,
      correlationId: proposal.correlationId,
      source: SOURCE,
    };
    const used = LEAD_CONTEXT_FIELDS.filter((f) => event.snapshot && f in event.snapshot);
    try {
      await this.plans.insert(
        event.tenantId,
        {
          id: proposal.planId,
          agentId: proposal.agentId,
          correlationId: proposal.correlationId,
          proposalId: proposal.proposalId,
          idempotencyKey: proposal.idempotencyKey,
          status: 'proposed',
          updatedAt: this.now(),
        },
        {
          outbox: [
            this.audit(
              proposal,
              AuditKind.AUDIT_KIND_CONTEXT_PREPARED,
              `context for ${proposal.agentId}: fields ${used.join(', ')} (email reduced to its domain; name withheld)`,
              `context/${proposal.proposalId}`,
              {
                fields: used.join(','),
              },
            ),
            outboxMessage(Topics.actionsProposed, proposal, { ...meta, id: proposal.proposalId }),
            this.audit(
              proposal,
              AuditKind.AUDIT_KIND_PROPOSAL,
              `${proposal.agentId} proposes ${proposal.action?.kind?.$case}: ${proposal.rationale}`,
              `proposal/${proposal.proposalId}`,
              {
                model: `${proposal.model?.provider}/${proposal.model?.model}`,
                offlineModel: String(proposal.model?.offline ?? false),
                prompt: `${proposal.prompt?.promptId}@${proposal.prompt?.version}`,
              },
              ActionProposal.encode(proposal).finish(),
            ),
          ],
        },
      );
      return proposal;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return undefined; // redelivered: already proposed
      throw err;
    }
  }

  async onDecision(decision: PolicyDecision): Promise<void> {
    const p = decision.proposal;
    if (!p || !isTenantId(decision.tenantId)) return;
    if (
      decision.verdict === Verdict.VERDICT_DENY ||
      decision.verdict === Verdict.VERDICT_UNSPECIFIED
    ) {
      await this.transition(
        p,
        'denied',
        `denied by policy: ${decision.explanation?.summary ?? ''}`,
        `denied/${decision.decisionId}`,
      );
    } else if (!decision.token) {
      await this.transition(
        p,
        'awaiting-review',
        'waiting for human review',
        `review/${decision.decisionId}`,
        false,
      );
    }
  }

  async onOutcome(outcome: ExecutionOutcome): Promise<void> {
    if (!isTenantId(outcome.tenantId)) return;
    // A suppressed duplicate says nothing new about the step (its key already ended), and a
    // compensation undoes a finished step rather than ending one.
    if (
      outcome.status === ExecutionStatus.EXECUTION_STATUS_DUPLICATE_SUPPRESSED ||
      outcome.status === ExecutionStatus.EXECUTION_STATUS_COMPENSATED
    )
      return;
    const status: PlanStatus =
      outcome.status === ExecutionStatus.EXECUTION_STATUS_EXECUTED
        ? 'executed'
        : outcome.status === ExecutionStatus.EXECUTION_STATUS_REFUSED
          ? 'refused'
          : 'failed';
    const plans = await this.plans.find(
      outcome.tenantId,
      { proposalId: outcome.proposalId },
      { limit: 1 },
    );
    const plan = plans[0];
    if (!plan) return; // not ours (e.g. another agent's proposal)
    const proposal = ActionProposal.fromPartial({
      tenantId: outcome.tenantId,
      correlationId: outcome.correlationId,
      proposalId: outcome.proposalId,
      planId: plan.id,
      target: outcome.target,
      agentId: plan.agentId,
    });
    await this.transition(
      proposal,
      status,
      `plan step ${status}: ${outcome.message}`,
      `outcome/${outcome.outcomeId}`,
    );
  }

  private async transition(
    p: ActionProposal,
    status: PlanStatus,
    summary: string,
    dedupeKey: string,
    audit = true,
  ): Promise<void> {
    const tenant = p.tenantId as Parameters<DocumentStore<PlanDoc>['get']>[0];
    const plan = await this.plans.get(tenant, p.planId);
    if (!plan || TERMINAL.has(plan.status) || plan.status === status) return;
    const outbox: OutboxMessage[] = audit
      ? [this.audit(p, AuditKind.AUDIT_KIND_OUTCOME, summary, dedupeKey, { planStatus: status })]
      : [];
    try {
      await this.plans.update(
        tenant,
        plan.id,
        { set: { status, updatedAt: this.now() }, outbox },
        { expectVersion: plan.version },
      );
    } catch (err) {
      if (err instanceof DocumentNotFoundError) return;
      throw err; // ConcurrencyError: the bus retries and the next attempt re-reads
    }
  }

  private audit(
    p: ActionProposal,
    kind: AuditKind,
    summary: string,
    dedupeKey: string,
    attributes: Record<string, string> = {},
    payload?: Uint8Array,
  ): OutboxMessage {
    return auditOutboxMessage(
      {
        kind,
        tenantId: p.tenantId,
        correlationId: p.correlationId,
        actor: `${SOURCE}/${p.agentId}`,
        subject: p.target,
        summary,
        dedupeKey,
        attributes: { planId: p.planId, ...attributes },
        ...(payload ? { payload, payloadType: 'mandate.v1.ActionProposal' } : {}),
      },
      SOURCE,
    );
  }
}
