import {
  AuditKind,
  CrmAction,
  ErrorClass,
  ExecutionOutcome,
  ExecutionStatus,
  PolicyDecision,
  Verdict,
  actionTypeOf,
} from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { requiredApprovals, type DecisionTokenVerifier } from '@mandate/decision-token';
import { outboxMessage, Topics } from '@mandate/messaging';
import {
  DuplicateKeyError,
  tenantId,
  type DocumentStore,
  type OutboxMessage,
  type TenantId,
  type Versioned,
} from '@mandate/storage';
import type { ExecuteResult } from '../adapter';
import { supportsAction } from '../capabilities';
import { ConnectorError, errorClassOf, toConnectorError } from '../errors';
import type { ManagedConnector } from '../managed-connector';
import type { ExecutionDoc, ExecutionEventDoc } from './execution-record';
import { resolveMergeFields } from './merge-field-resolver';

/** Test-only crash points ("failpoints"): the process dies there, as if killed. */
export interface Failpoints {
  hit(name: 'connector.before-crm-write' | 'connector.after-crm-write'): void;
}
export const NO_FAILPOINTS: Failpoints = { hit: () => undefined };

/** The tenant's connector, or undefined when the tenant has none configured. */
export type ConnectorResolver = (tenant: TenantId) => ManagedConnector | undefined;

export type ExecutionResultKind = 'executed' | 'duplicate' | 'refused' | 'failed' | 'compensated';

export type ExecutionResult =
  | {
      kind: ExecutionResultKind;
      outcome: ExecutionOutcome;
      /** For `failed` and `refused`: why, as a stable code and an operator message. */
      reason?: string;
    }
  | { kind: 'skipped'; reason: string };

export interface ExecuteOptions {
  /**
   * This is the message's last delivery attempt: a retryable failure is then recorded as a
   * FAILED outcome (the caller dead-letters the message) instead of thrown for another try.
   */
  readonly finalAttempt?: boolean;
}

/** How long a claim is presumed in progress by the delivery that made it. */
export const CLAIM_LEASE_MS = 10_000;

const EXECUTABLE_NOW = new Set([
  Verdict.VERDICT_AUTO,
  Verdict.VERDICT_AUTO_WITH_NOTICE,
  Verdict.VERDICT_APPROVE_1,
  Verdict.VERDICT_APPROVE_2,
]);

/**
 * Executes decided actions through the tenant's adapter: only with a valid decision token for
 * that exact payload (and the approvals its verdict requires), at most once per idempotency key.
 *
 * Every step is one single-document atomic write (no multi-document transactions):
 * 1. verify the token (signature first, then expiry, tenant, proposal, payload hash, approvals);
 *    a refusal is recorded, audited and reported as a REFUSED outcome, the CRM untouched;
 * 2. claim the key: insert the execution record. A redelivery, or another decision for the same
 *    key, finds it; once the key is finished it is reported DUPLICATE_SUPPRESSED (audited) and
 *    nothing runs again;
 * 3. fill the merge fields of outbound texts (`⟦REF:contact/con-1/firstName⟧`) from the CRM, for
 *    the adapter call only (a reference it may not read, a missing record or value, or a leftover
 *    pseudonym token fails the execution permanently without calling the adapter); then call the
 *    adapter (rate limit, retries, CRM-side idempotency where the CRM has it);
 * 4. emit the outcome and its audit record (outbox), then finish the record.
 * A crash between 2 and 4 is completed by the redelivered decision: step 3 runs again and the
 * adapter's CRM-side idempotency (external ids, applied keys) keeps it from applying twice.
 */
export class SafeExecutor {
  constructor(
    private readonly connectors: ConnectorResolver,
    private readonly executions: DocumentStore<ExecutionDoc>,
    private readonly verifier: DecisionTokenVerifier,
    /** Carries the outcome and audit events until the relay has published them. */
    private readonly events: DocumentStore<ExecutionEventDoc>,
    private readonly failpoints: Failpoints = NO_FAILPOINTS,
    private readonly now: () => Date = () => new Date(),
    private readonly source = 'crm-connectors',
  ) {}

  async execute(decision: PolicyDecision, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    const proposal = decision.proposal;
    if (!proposal || !EXECUTABLE_NOW.has(decision.verdict))
      return {
        kind: 'skipped',
        reason: `verdict ${Verdict[decision.verdict] ?? decision.verdict} is not executable`,
      };
    if (requiredApprovals(decision.verdict) > 0 && !decision.token)
      return { kind: 'skipped', reason: 'waiting for human review' };
    const tenant = tenantId(proposal.tenantId);
    const key = proposal.idempotencyKey;
    const connector = this.connectors(tenant);
    const name = connector?.connector ?? 'none';

    let claim: Versioned<ExecutionDoc> | null = null;
    const check = this.verifier.verify(decision.token, proposal);
    if (!check.ok) {
      // A token that expired after it claimed the key still completes that claim (the CRM may
      // already hold the change); every other refusal stands.
      if (check.reason === 'EXPIRED') claim = await this.executions.get(tenant, key);
      const resuming =
        check.reason === 'EXPIRED' &&
        claim?.status === 'executing' &&
        claim.decisionId === decision.decisionId &&
        claim.tokenId === (decision.token?.tokenId ?? '');
      if (!resuming)
        return this.refuse(
          tenant,
          decision,
          name,
          ErrorClass.ERROR_CLASS_TOKEN_INVALID,
          check.reason,
          check.detail,
        );
    }
    if (!connector)
      return this.refuse(
        tenant,
        decision,
        name,
        ErrorClass.ERROR_CLASS_PERMANENT,
        'NO_CONNECTOR',
        `tenant ${tenant} has no CRM connector configured`,
      );
    if (!supportsAction(connector.capabilities, proposal.action))
      return this.refuse(
        tenant,
        decision,
        name,
        ErrorClass.ERROR_CLASS_PERMANENT,
        'UNSUPPORTED_ACTION',
        `${name} does not execute ${actionTypeOf(proposal.action) ?? 'an action without a kind'}`,
      );

    // With CRM-side idempotency the CRM is the at-most-once guard: the key is only read (one
    // lookup by id), executed, and recorded once with its outcome (one insert). Without it, the
    // key is claimed (one insert) before the CRM is touched.
    const crmDedupes = connector.capabilities.crmSideIdempotency;
    let fresh = false;
    if (!claim && crmDedupes) claim = await this.executions.get(tenant, key);
    if (!claim && crmDedupes) {
      fresh = true;
    } else if (!claim) {
      const claimed = await this.claim(tenant, decision, name);
      fresh = claimed.fresh;
      claim = claimed.doc;
    }
    if (fresh || !claim) {
      // Ours to execute (no claim record yet when the CRM deduplicates).
    } else if (claim.status === 'executing' && claim.decisionId === decision.decisionId) {
      // Our own decision's claim, seen again. Recently touched: another delivery may still be
      // executing it (a rebalance), so ask the bus to retry later. Older, or on the last
      // delivery: that delivery died (a crash), so run it again; CRM-side idempotency, where the
      // CRM has it, keeps the action from applying twice.
      const age = this.now().getTime() - new Date(claim.updatedAt).getTime();
      if (age < CLAIM_LEASE_MS && !options.finalAttempt)
        throw ConnectorError.retryable('IN_PROGRESS', `idempotency key ${key} is being executed`);
      claim = await this.executions.update(tenant, key, {
        inc: { attempts: 1 },
        set: { updatedAt: this.now() },
      });
    } else if (
      claim.status === 'failed' &&
      (claim.errorKind === 'retryable' || claim.errorKind === 'auth-expired')
    ) {
      // A failure that may succeed now (dead letter replayed after the outage or re-authorisation).
      claim = await this.executions.update(
        tenant,
        key,
        {
          inc: { attempts: 1 },
          set: { status: 'executing', decisionId: decision.decisionId, updatedAt: this.now() },
          unset: ['errorKind', 'errorCode'],
        },
        { expectVersion: claim.version },
      );
    } else {
      return this.duplicate(tenant, decision, name, claim);
    }

    let result: ExecuteResult;
    try {
      const target = {
        objectType: proposal.target?.objectType ?? '',
        recordId: proposal.target?.recordId ?? '',
      };
      // Merge fields are filled here, after the token check and the claim, and only for this
      // call: the record, the outcome and the audit events keep the references (never values).
      const action = await resolveMergeFields(connector, tenant, target, proposal.action!);
      this.failpoints.hit('connector.before-crm-write');
      result = await connector.execute({ tenantId: tenant, idempotencyKey: key, target, action });
      this.failpoints.hit('connector.after-crm-write');
    } catch (raw) {
      const err = toConnectorError(raw);
      if (err.kind === 'retryable' && !options.finalAttempt) throw err;
      return this.finish(tenant, decision, name, claim, { error: err });
    }
    return this.finish(tenant, decision, name, claim, { result });
  }

  /** The execution record a CRM-deduplicated execution is recorded with (no claim before). */
  private newRecord(decision: PolicyDecision, connector: string): ExecutionDoc {
    const p = decision.proposal!;
    return {
      id: p.idempotencyKey,
      status: 'executing',
      connector,
      proposalId: p.proposalId,
      decisionId: decision.decisionId,
      tokenId: decision.token?.tokenId ?? '',
      correlationId: p.correlationId,
      objectType: p.target?.objectType ?? '',
      recordId: p.target?.recordId ?? '',
      actionType: actionTypeOf(p.action) ?? '',
      action: Buffer.from(
        CrmAction.encode(p.action ?? CrmAction.fromPartial({})).finish(),
      ).toString('base64'),
      attempts: 1,
      updatedAt: this.now(),
    };
  }

  /** Undoes an executed action through the adapter and reports it COMPENSATED (audited). */
  async compensate(
    tenant: TenantId,
    idempotencyKey: string,
    actor: string,
  ): Promise<ExecutionResult> {
    const doc = await this.executions.get(tenant, idempotencyKey);
    if (!doc)
      throw ConnectorError.permanent('NOT_FOUND', `no execution for key "${idempotencyKey}"`);
    if (doc.status === 'compensated')
      return {
        kind: 'duplicate',
        outcome: this.outcomeOf(
          tenant,
          doc,
          ExecutionStatus.EXECUTION_STATUS_COMPENSATED,
          'already compensated',
        ),
      };
    if (doc.status !== 'executed' || doc.undo === undefined)
      throw ConnectorError.permanent(
        'NOT_REVERSIBLE',
        doc.status !== 'executed'
          ? `execution "${idempotencyKey}" is ${doc.status}, not executed`
          : `the ${doc.actionType} action of "${idempotencyKey}" cannot be undone by ${doc.connector}`,
      );
    const connector = this.connectors(tenant);
    if (!connector)
      throw ConnectorError.permanent(
        'NO_CONNECTOR',
        `tenant ${tenant} has no CRM connector configured`,
      );
    await connector.compensate({
      tenantId: tenant,
      idempotencyKey,
      target: { objectType: doc.objectType, recordId: doc.recordId },
      action: CrmAction.decode(Buffer.from(doc.action, 'base64')),
      undo: JSON.parse(doc.undo) as Record<string, unknown>,
    });
    const outcome = this.outcomeOf(
      tenant,
      doc,
      ExecutionStatus.EXECUTION_STATUS_COMPENSATED,
      `${doc.actionType} undone on request of ${actor}`,
    );
    await this.emit(
      tenant,
      outcome,
      this.messages(
        outcome,
        AuditKind.AUDIT_KIND_EXECUTION,
        `execution compensated: ${outcome.message}`,
      ),
    );
    await this.executions.update(
      tenant,
      idempotencyKey,
      { set: { status: 'compensated', outcomeId: outcome.outcomeId, updatedAt: this.now() } },
      { expectVersion: doc.version },
    );
    return { kind: 'compensated', outcome };
  }

  /** Inserts the claim; when the key exists already, returns the existing record instead. */
  private async claim(
    tenant: TenantId,
    decision: PolicyDecision,
    connector: string,
  ): Promise<{ fresh: boolean; doc: Versioned<ExecutionDoc> }> {
    const p = decision.proposal!;
    try {
      const doc = await this.executions.insert(tenant, this.newRecord(decision, connector));
      return { fresh: true, doc };
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      const doc = await this.executions.get(tenant, p.idempotencyKey);
      if (!doc) throw new Error(`execution ${p.idempotencyKey} vanished`, { cause: err });
      return { fresh: false, doc };
    }
  }

  private async finish(
    tenant: TenantId,
    decision: PolicyDecision,
    connector: string,
    existing: Versioned<ExecutionDoc> | null,
    end: { result: ExecuteResult } | { error: ConnectorError },
  ): Promise<ExecutionResult> {
    const p = decision.proposal!;
    const claim = existing ?? this.newRecord(decision, connector);
    const ok = 'result' in end;
    const message = ok
      ? `${claim.actionType} ${end.result.status === 'already-applied' ? 'was already applied (CRM-side idempotency)' : 'applied'} to ${claim.objectType}/${claim.recordId}`
      : `${claim.actionType} failed: ${end.error.code}: ${end.error.message}`;
    const outcome = this.outcome(decision, connector, claim.attempts, {
      status: ok
        ? ExecutionStatus.EXECUTION_STATUS_EXECUTED
        : ExecutionStatus.EXECUTION_STATUS_FAILED,
      errorClass: ok ? ErrorClass.ERROR_CLASS_NONE : errorClassOf(end.error.kind),
      message,
    });
    const fields = {
      status: ok ? ('executed' as const) : ('failed' as const),
      outcomeId: outcome.outcomeId,
      updatedAt: this.now(),
      ...(ok
        ? end.result.undo !== undefined
          ? { undo: JSON.stringify(end.result.undo) }
          : {}
        : { errorKind: end.error.kind, errorCode: end.error.code }),
    };
    const outbox = this.messages(
      outcome,
      AuditKind.AUDIT_KIND_EXECUTION,
      `execution ${ok ? 'executed' : 'failed'}: ${message}`,
    );
    // Events first, then the record: a crash in between re-runs the execution (the record says
    // nothing happened), which re-emits the same outcome id — deduplicated downstream.
    await this.emit(tenant, outcome, outbox);
    if (existing) {
      await this.executions.update(tenant, p.idempotencyKey, { set: fields });
    } else {
      try {
        await this.executions.insert(tenant, { ...claim, ...fields });
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
        // A concurrent delivery recorded the key first; the CRM applied the action once.
        const winner = await this.executions.get(tenant, p.idempotencyKey);
        if (!winner) throw err;
        return this.duplicate(tenant, decision, connector, winner);
      }
    }
    return ok
      ? { kind: 'executed', outcome }
      : {
          kind: 'failed',
          outcome,
          reason: `${end.error.kind} ${end.error.code}: ${end.error.message}`,
        };
  }

  private async refuse(
    tenant: TenantId,
    decision: PolicyDecision,
    connector: string,
    errorClass: ErrorClass,
    code: string,
    detail: string,
  ): Promise<ExecutionResult> {
    const outcome = this.outcome(decision, connector, 1, {
      status: ExecutionStatus.EXECUTION_STATUS_REFUSED,
      errorClass,
      message: `${code}: ${detail}`,
      suffix: 'refused',
    });
    const kind =
      errorClass === ErrorClass.ERROR_CLASS_TOKEN_INVALID
        ? AuditKind.AUDIT_KIND_TOKEN_REFUSED
        : AuditKind.AUDIT_KIND_EXECUTION;
    // Nothing is recorded against the key: a forged token must not block the genuine decision.
    await this.emit(tenant, outcome, this.messages(outcome, kind, `execution refused: ${code}`));
    return { kind: 'refused', outcome, reason: `${code}: ${detail}` };
  }

  private async duplicate(
    tenant: TenantId,
    decision: PolicyDecision,
    connector: string,
    claim: ExecutionDoc,
  ): Promise<ExecutionResult> {
    const outcome = this.outcome(decision, connector, claim.attempts, {
      status: ExecutionStatus.EXECUTION_STATUS_DUPLICATE_SUPPRESSED,
      errorClass: ErrorClass.ERROR_CLASS_NONE,
      message: `idempotency key already ${claim.status} (decision ${claim.decisionId}); nothing executed again`,
      suffix: 'duplicate',
    });
    await this.emit(
      tenant,
      outcome,
      this.messages(outcome, AuditKind.AUDIT_KIND_EXECUTION, 'duplicate execution suppressed'),
    );
    return { kind: 'duplicate', outcome };
  }

  /**
   * Hands an outcome's events to the relay: a carrier document with the events in its outbox,
   * deleted at once (it lingers as a tombstone until the relay has published them). Emitting the
   * same outcome twice is harmless: consumers deduplicate on the outcome id.
   */
  private async emit(
    tenant: TenantId,
    outcome: ExecutionOutcome,
    outbox: OutboxMessage[],
  ): Promise<void> {
    try {
      await this.events.insert(tenant, { id: outcome.outcomeId, at: this.now() }, { outbox });
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      return; // the same outcome is being emitted right now
    }
    await this.events.delete(tenant, outcome.outcomeId);
  }

  private outcome(
    decision: PolicyDecision,
    connector: string,
    attempt: number,
    o: { status: ExecutionStatus; errorClass: ErrorClass; message: string; suffix?: string },
  ): ExecutionOutcome {
    const p = decision.proposal!;
    return ExecutionOutcome.fromPartial({
      outcomeId: `${decision.decisionId}:${o.suffix ?? attempt}:${ExecutionStatus[o.status]}`,
      tenantId: p.tenantId,
      correlationId: p.correlationId,
      proposalId: p.proposalId,
      idempotencyKey: p.idempotencyKey,
      status: o.status,
      errorClass: o.errorClass,
      message: o.message,
      connector,
      target: p.target,
      executedAt: this.now().toISOString(),
      decisionId: decision.decisionId,
      tokenId: decision.token?.tokenId ?? '',
      attempt,
    });
  }

  private outcomeOf(
    tenant: TenantId,
    doc: ExecutionDoc,
    status: ExecutionStatus,
    message: string,
  ): ExecutionOutcome {
    return ExecutionOutcome.fromPartial({
      outcomeId: `${doc.decisionId}:compensation:${ExecutionStatus[status]}`,
      tenantId: tenant,
      correlationId: doc.correlationId,
      proposalId: doc.proposalId,
      idempotencyKey: doc.id,
      status,
      errorClass: ErrorClass.ERROR_CLASS_NONE,
      message,
      connector: doc.connector,
      target: { objectType: doc.objectType, recordId: doc.recordId },
      executedAt: this.now().toISOString(),
      decisionId: doc.decisionId,
      tokenId: doc.tokenId,
      attempt: doc.attempts,
    });
  }

  private messages(outcome: ExecutionOutcome, kind: AuditKind, summary: string): OutboxMessage[] {
    const meta = {
      tenantId: outcome.tenantId,
      correlationId: outcome.correlationId,
      source: this.source,
      id: outcome.outcomeId,
    };
    return [
      outboxMessage(Topics.executionOutcomes, outcome, meta),
      auditOutboxMessage(
        {
          kind,
          tenantId: outcome.tenantId,
          correlationId: outcome.correlationId,
          actor: this.source,
          subject: outcome.target,
          summary,
          dedupeKey: outcome.outcomeId,
          payloadType: 'mandate.v1.ExecutionOutcome',
          payload: ExecutionOutcome.encode(outcome).finish(),
          attributes: {
            status: ExecutionStatus[outcome.status],
            idempotencyKey: outcome.idempotencyKey,
            connector: outcome.connector,
          },
        },
        this.source,
      ),
    ];
  }
}
