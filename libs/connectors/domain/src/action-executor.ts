import {
  AuditKind,
  CrmAction,
  ErrorClass,
  ExecutionOutcome,
  ExecutionStatus,
  PolicyDecision,
  Verdict,
} from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { requiredApprovals, type DecisionTokenVerifier } from '@mandate/decision-token';
import { outboxMessage, Topics } from '@mandate/messaging';
import {
  ConcurrencyError,
  DuplicateKeyError,
  tenantId,
  type DocumentStore,
  type OutboxMessage,
  type TenantId,
} from '@mandate/storage';
import { PermanentActionError, planCrmChange, type CrmRecord } from './crm-action.applier';

/** Durable record of one execution, keyed by idempotency key: the at-most-once guard. */
export interface ExecutionDoc {
  id: string;
  status: 'executing' | 'executed' | 'refused' | 'failed';
  proposalId: string;
  decisionId: string;
  correlationId: string;
  attempts: number;
  outcomeId?: string;
  errorCode?: string;
  updatedAt: Date;
}

export type CrmRecordDoc = CrmRecord & { updatedAt: Date };

/** Test-only crash points ("failpoints"): the process dies there, as if killed. */
export interface Failpoints {
  hit(name: 'connector.after-crm-write' | 'connector.before-crm-write'): void;
}
export const NO_FAILPOINTS: Failpoints = { hit: () => undefined };

export type ExecutionResult =
  | { kind: 'executed' | 'duplicate' | 'refused' | 'failed'; outcome?: ExecutionOutcome }
  | { kind: 'skipped'; reason: string };

const SOURCE = 'crm-connectors';
const CONNECTOR = 'embedded';
const EXECUTABLE_NOW = new Set([
  Verdict.VERDICT_AUTO,
  Verdict.VERDICT_AUTO_WITH_NOTICE,
  Verdict.VERDICT_APPROVE_1,
  Verdict.VERDICT_APPROVE_2,
]);

/**
 * Executes approved actions against the embedded CRM, at most once per idempotency key.
 *
 * Every step is one single-document atomic write (FerretDB has no multi-document transactions):
 * 1. claim the key (insert the execution doc; a redelivery finds it),
 * 2. apply the change to the CRM record guarded by `appliedActions` and the record version,
 * 3. mark the execution done with its outcome and audit record in the same write's outbox.
 * A crash between any two steps is completed by the redelivered decision: step 2 sees the key
 * already applied and does not apply it again.
 */
export class ActionExecutor {
  constructor(
    private readonly records: DocumentStore<CrmRecordDoc>,
    private readonly executions: DocumentStore<ExecutionDoc>,
    private readonly verifier: DecisionTokenVerifier,
    private readonly failpoints: Failpoints = NO_FAILPOINTS,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(decision: PolicyDecision): Promise<ExecutionResult> {
    const proposal = decision.proposal;
    if (!proposal || !EXECUTABLE_NOW.has(decision.verdict)) {
      return {
        kind: 'skipped',
        reason: `verdict ${Verdict[decision.verdict]} is not executable by the connector`,
      };
    }
    if (requiredApprovals(decision.verdict) > 0 && !decision.token)
      return { kind: 'skipped', reason: 'waiting for human review' };
    const tenant = tenantId(proposal.tenantId);
    const key = proposal.idempotencyKey;

    const check = this.verifier.verify(decision.token, proposal);
    if (!check.ok) {
      return this.refuse(tenant, decision, check.reason, check.detail);
    }

    let execution = await this.executions.get(tenant, key);
    if (!execution) {
      try {
        execution = await this.executions.insert(tenant, {
          id: key,
          status: 'executing',
          proposalId: proposal.proposalId,
          decisionId: decision.decisionId,
          correlationId: proposal.correlationId,
          attempts: 1,
          updatedAt: this.now(),
        });
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
        execution = await this.executions.get(tenant, key);
      }
    } else if (execution.status === 'executing') {
      execution = await this.executions.update(tenant, key, {
        inc: { attempts: 1 },
        set: { updatedAt: this.now() },
      });
    }
    if (!execution) throw new Error(`execution ${key} vanished`);
    if (execution.status !== 'executing') return { kind: 'duplicate' };

    try {
      this.failpoints.hit('connector.before-crm-write');
      await this.applyOnce(tenant, proposal.target?.recordId ?? '', proposal.action, key);
      this.failpoints.hit('connector.after-crm-write');
    } catch (err) {
      if (err instanceof PermanentActionError)
        return this.finish(tenant, decision, execution.attempts, 'failed', err.code, err.message);
      throw err; // retryable: the bus retries, then dead-letters
    }
    return this.finish(tenant, decision, execution.attempts, 'executed');
  }

  /** Applies the action to its record unless this key was already applied. Retries version races. */
  private async applyOnce(
    tenant: TenantId,
    recordId: string,
    action: CrmAction | undefined,
    key: string,
  ): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await this.records.get(tenant, recordId);
      if (!record) throw new PermanentActionError('RECORD_NOT_FOUND', `no ${recordId} in the CRM`);
      if (record.appliedActions.includes(key)) return;
      if (!action) throw new PermanentActionError('UNKNOWN_ACTION', 'no action');
      const change = planCrmChange(record, action);
      try {
        await this.records.update(
          tenant,
          recordId,
          {
            set: { fields: { ...record.fields, ...change.set }, updatedAt: this.now() },
            push: {
              appliedActions: [key],
              ...(change.activity
                ? {
                    activities: [
                      { ...change.activity, at: this.now().toISOString(), idempotencyKey: key },
                    ],
                  }
                : {}),
            },
          },
          { expectVersion: record.version },
        );
        return;
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
    throw new Error(`record ${recordId} kept changing; giving up this attempt`);
  }

  private async finish(
    tenant: TenantId,
    decision: PolicyDecision,
    attempt: number,
    status: 'executed' | 'failed',
    errorCode?: string,
    message?: string,
  ): Promise<ExecutionResult> {
    const proposal = decision.proposal!;
    const outcome = this.outcome(
      decision,
      status === 'executed'
        ? ExecutionStatus.EXECUTION_STATUS_EXECUTED
        : ExecutionStatus.EXECUTION_STATUS_FAILED,
      {
        errorClass:
          status === 'executed' ? ErrorClass.ERROR_CLASS_NONE : ErrorClass.ERROR_CLASS_PERMANENT,
        message:
          message ??
          `${proposal.action?.kind?.$case} applied to ${proposal.target?.objectType}/${proposal.target?.recordId}`,
        attempt,
      },
    );
    await this.executions.update(tenant, proposal.idempotencyKey, {
      set: {
        status,
        outcomeId: outcome.outcomeId,
        updatedAt: this.now(),
        ...(errorCode ? { errorCode } : {}),
      },
      outbox: this.outcomeMessages(
        outcome,
        AuditKind.AUDIT_KIND_EXECUTION,
        `execution ${status}: ${outcome.message}`,
      ),
    });
    return { kind: status, outcome };
  }

  private async refuse(
    tenant: TenantId,
    decision: PolicyDecision,
    reason: string,
    detail: string,
  ): Promise<ExecutionResult> {
    const outcome = this.outcome(decision, ExecutionStatus.EXECUTION_STATUS_REFUSED, {
      errorClass: ErrorClass.ERROR_CLASS_TOKEN_INVALID,
      message: `${reason}: ${detail}`,
      attempt: 1,
    });
    // Keyed by decision id: a forged token must not block the genuine decision for the same key.
    const id = `refused:${decision.decisionId}`;
    try {
      await this.executions.insert(
        tenant,
        {
          id,
          status: 'refused',
          proposalId: decision.proposal!.proposalId,
          decisionId: decision.decisionId,
          correlationId: decision.correlationId,
          attempts: 1,
          outcomeId: outcome.outcomeId,
          errorCode: reason,
          updatedAt: this.now(),
        },
        {
          outbox: this.outcomeMessages(
            outcome,
            AuditKind.AUDIT_KIND_TOKEN_REFUSED,
            `token refused: ${reason}`,
          ),
        },
      );
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
    }
    return { kind: 'refused', outcome };
  }

  private outcome(
    decision: PolicyDecision,
    status: ExecutionStatus,
    extra: { errorClass: ErrorClass; message: string; attempt: number },
  ): ExecutionOutcome {
    const p = decision.proposal!;
    return ExecutionOutcome.fromPartial({
      outcomeId: `${decision.decisionId}:${ExecutionStatus[status]}`,
      tenantId: p.tenantId,
      correlationId: p.correlationId,
      proposalId: p.proposalId,
      idempotencyKey: p.idempotencyKey,
      status,
      errorClass: extra.errorClass,
      message: extra.message,
      connector: CONNECTOR,
      target: p.target,
      executedAt: this.now().toISOString(),
      decisionId: decision.decisionId,
      tokenId: decision.token?.tokenId ?? '',
      attempt: extra.attempt,
    });
  }

  private outcomeMessages(
    outcome: ExecutionOutcome,
    kind: AuditKind,
    summary: string,
  ): OutboxMessage[] {
    const meta = {
      tenantId: outcome.tenantId,
      correlationId: outcome.correlationId,
      source: SOURCE,
      id: outcome.outcomeId,
    };
    return [
      outboxMessage(Topics.executionOutcomes, outcome, meta),
      auditOutboxMessage(
        {
          kind,
          tenantId: outcome.tenantId,
          correlationId: outcome.correlationId,
          actor: SOURCE,
          subject: outcome.target,
          summary,
          dedupeKey: outcome.outcomeId,
          payloadType: 'mandate.v1.ExecutionOutcome',
          payload: ExecutionOutcome.encode(outcome).finish(),
          attributes: {
            status: ExecutionStatus[outcome.status],
            idempotencyKey: outcome.idempotencyKey,
          },
        },
        SOURCE,
      ),
    ];
  }
}
