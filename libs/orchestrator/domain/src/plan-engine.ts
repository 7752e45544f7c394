import {
  ActionProposal,
  AuditKind,
  ExecutionStatus,
  PlanHandOff,
  ReviewOutcome,
  Verdict,
  type CrmChangeEvent,
  type ExecutionOutcome,
  type PolicyDecision,
  type ReviewDecision,
} from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { outboxMessage, Topics } from '@mandate/messaging';
import {
  DocumentNotFoundError,
  DuplicateKeyError,
  isTenantId,
  type DocumentStore,
  type OutboxMessage,
  type TenantId,
  type Versioned,
} from '@mandate/storage';
import {
  deterministicUuid,
  runAgentStep,
  type ContextRecord,
  type StepFeedback,
  type StepRequest,
  type StepResult,
  type StepRunnerDeps,
  type TenantRules,
} from '@mandate/orchestrator-agents';
import { triggersOf, type Trigger } from './triggers';

const SOURCE = 'orchestrator';
/** Reason code of human-review's fail-safe rejection when a task's last SLA tier runs out. */
const SLA_EXPIRED = 'SLA_EXPIRED';

/**
 * Plans: an agent decomposes its objective into steps (its tool calls, in order), the plan is
 * persisted in MongoDB, each step is proposed only after the one before it executed, and a step
 * that policy denies or a reviewer rejects makes the agent think again with that feedback (a
 * smaller discount, or a hand-off to a human with a summary). Budgets bound the steps, the
 * adaptations and the model cost of one plan. Every state change is one conditional write of
 * the plan document carrying its events in the document's outbox; redelivered events find the
 * step already past that state and change nothing.
 */

export type PlanStatus = 'active' | 'completed' | 'handed-off' | 'failed' | 'denied' | 'expired';
export type StepStatus =
  | 'queued'
  | 'proposed'
  | 'awaiting-review'
  | 'approved'
  | 'executed'
  | 'denied'
  | 'rejected'
  | 'failed'
  | 'refused'
  | 'expired'
  | 'cancelled';

const OPEN_STEP = new Set<StepStatus>(['proposed', 'awaiting-review', 'approved']);

export interface PlanStep {
  readonly index: number;
  readonly proposalId: string;
  readonly idempotencyKey: string;
  /** The action type, snake case (`apply_discount`). */
  readonly tool: string;
  /** The action's arguments (tool-call shape, snake case), as proposed: tokens, never PII. */
  readonly args: Record<string, unknown>;
  readonly rationale: string;
  /** The encoded ActionProposal (base64), proposed when the step's turn comes. */
  readonly proposal: string;
  status: StepStatus;
  reasons: string[];
  /** The step this one replaces after a denial or rejection. */
  readonly adaptedFrom?: number;
}

export interface PlanBudget {
  /** Most steps a plan may hold, adaptations included. */
  readonly maxSteps: number;
  /** Most times a plan may re-ask the agent after a denial or rejection. */
  readonly maxAdaptations: number;
  /** Most model cost a plan may spend, in US dollars. */
  readonly maxCostUsd: number;
}

export const DEFAULT_PLAN_BUDGET: PlanBudget = { maxSteps: 8, maxAdaptations: 3, maxCostUsd: 0.5 };

export interface PlanUsage {
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  adaptations: number;
}

export interface PlanDoc {
  id: string;
  tenantId: string;
  agentId: string;
  objective: string;
  correlationId: string;
  trigger: { eventId: string; objectType: string; recordId: string };
  target: { objectType: string; recordId: string };
  status: PlanStatus;
  steps: PlanStep[];
  budget: PlanBudget;
  usage: PlanUsage;
  /**
   * Why a human has it, with the candidate records when the input was ambiguous. Set when a
   * hand-off is published: a step's `hand_off`/`escalate` beside its proposals (the plan goes
   * on), or the plan's end `handed-off`. `handoffId` names the latest hand-off published for
   * human review (`handoffIdOf(tenant, plan)` once the plan is `handed-off`), `handoffIds` all of
   * them, oldest first. The reason and candidates accumulate: the final hand-off keeps the
   * model's earlier reasons and candidates.
   */
  handoff?: PlanHandOffState;
  prompt: { promptId: string; version: number; contentHash: string };
  model: { provider: string; model: string; offline: boolean; label: string };
  createdAt: Date;
  updatedAt: Date;
}

export interface PlanHandOffState {
  reason: string;
  candidates: string[];
  handoffId?: string;
  handoffIds?: string[];
}

/** Finds a plan from a proposal id (outcomes and review decisions name only the proposal). */
export interface PlanProposalDoc {
  id: string;
  planId: string;
}

export interface TenantSettings {
  readonly timeZone: string;
  readonly rules?: TenantRules;
  readonly budget?: Partial<PlanBudget>;
}

export interface PlanEngineDeps extends StepRunnerDeps {
  readonly plans: DocumentStore<PlanDoc>;
  readonly planProposals: DocumentStore<PlanProposalDoc>;
  readonly settings?: (tenantId: string) => TenantSettings;
  readonly now?: () => Date;
  /** Replaces `runAgentStep` (tests script agents with it). */
  readonly runStep?: (deps: StepRunnerDeps, req: StepRequest) => Promise<StepResult>;
}

export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

/** Deterministic UUID-shaped id (version 5 layout) from its parts. */
export function planIdOf(tenantId: string, eventId: string, agent: string): string {
  return deterministicUuid(['plan', tenantId, eventId, agent]);
}

/**
 * Id of the hand-off published when a plan ends `handed-off` (a plan ends once): the review
 * task's id too, and `plan.handoff.handoffId` of a handed-off plan.
 */
export function handoffIdOf(tenantId: string, planId: string): string {
  return deterministicUuid(['handoff', tenantId, planId]);
}

/**
 * Id of the hand-off published when the agent step whose first new step has index `stepIndex`
 * asks for a person (`hand_off`/`escalate`) beside the actions it proposes, and the plan goes on.
 * One per agent step (each such step adds steps, so the index is never reused within a plan);
 * never equal to the plan's final `handoffIdOf`, so human review opens a task for each.
 */
export function stepHandoffIdOf(tenantId: string, planId: string, stepIndex: number): string {
  return deterministicUuid(['handoff', tenantId, planId, 'step', String(stepIndex)]);
}

export class PlanEngine {
  private readonly now: () => Date;
  private readonly runStep: (deps: StepRunnerDeps, req: StepRequest) => Promise<StepResult>;

  constructor(private readonly deps: PlanEngineDeps) {
    this.now = deps.now ?? (() => new Date());
    this.runStep = deps.runStep ?? runAgentStep;
  }

  private settings(tenantId: string): TenantSettings {
    return this.deps.settings?.(tenantId) ?? { timeZone: 'UTC' };
  }

  /** Starts the plans a change asks for; returns how many were started. */
  async onCrmChange(event: CrmChangeEvent): Promise<number> {
    if (!isTenantId(event.tenantId))
      throw new MalformedEventError(`invalid tenant id "${event.tenantId}"`);
    let started = 0;
    for (const trigger of triggersOf(event))
      if (await this.start(event.tenantId, event, trigger)) started++;
    return started;
  }

  private async start(tenant: TenantId, event: CrmChangeEvent, trigger: Trigger): Promise<boolean> {
    const planId = planIdOf(tenant, event.eventId, trigger.agent);
    if (await this.deps.plans.get(tenant, planId)) return false; // redelivered
    const target = await this.targetOf(tenant, event, trigger);
    if (!target) return false; // the record is gone: nothing to do
    const settings = this.settings(tenant);
    const budget = { ...DEFAULT_PLAN_BUDGET, ...settings.budget };
    const correlationId = event.correlationId || event.eventId;
    const now = this.now();
    const result = await this.runStep(this.deps, {
      agent: trigger.agent,
      tenantId: tenant,
      correlationId,
      target,
      planId,
      stepIndex: 0,
      now,
      timeZone: settings.timeZone,
      tenantRules: settings.rules,
    });
    const plan: PlanDoc = {
      id: planId,
      tenantId: tenant,
      agentId: trigger.agent,
      objective: trigger.objective,
      correlationId,
      trigger: { eventId: event.eventId, objectType: event.objectType, recordId: event.recordId },
      target: trigger.target,
      status: 'active',
      steps: [],
      budget,
      usage: { modelCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, adaptations: 0 },
      prompt: result.prompt
        ? { ...result.prompt }
        : { promptId: trigger.agent, version: 0, contentHash: '' },
      model: {
        provider: result.model.provider,
        model: result.model.model,
        offline: result.model.offline,
        label: result.modelLabel,
      },
      createdAt: now,
      updatedAt: now,
    };
    const outbox: OutboxMessage[] = [];
    if (result.ok)
      outbox.push(
        this.audit(
          plan,
          AuditKind.AUDIT_KIND_CONTEXT_PREPARED,
          this.contextSummary(result),
          `context/${planId}/0`,
          {
            fields: result.fields.map((f) => `${f.objectType}:${f.read.join('|')}`).join(','),
            withheld: result.fields
              .map((f) => `${f.objectType}:${f.withheld.map((w) => w.field).join('|')}`)
              .join(','),
            activity: result.activityIds.join(','),
            objective: trigger.objective,
          },
        ),
      );
    this.apply(plan, result, undefined, outbox);
    await this.indexProposals(tenant, plan, 0);
    try {
      await this.deps.plans.insert(tenant, plan, { outbox });
      return true;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return false; // a concurrent delivery won
      throw err;
    }
  }

  private async targetOf(
    tenant: TenantId,
    event: CrmChangeEvent,
    trigger: Trigger,
  ): Promise<ContextRecord | undefined> {
    if (
      trigger.target.recordId === event.recordId &&
      trigger.target.objectType === event.objectType
    )
      return {
        objectType: event.objectType,
        id: event.recordId,
        fields: (event.snapshot ?? {}) as ContextRecord['fields'],
      };
    return this.deps.source.get(tenant, trigger.target.objectType, trigger.target.recordId);
  }

  /**
   * Folds one agent step into the plan: new steps (the first proposed at once unless a step is
   * still open), a hand-off, a no-action or a fail-safe model failure; accounts usage.
   */
  private apply(
    plan: PlanDoc,
    result: StepResult,
    adaptedFrom: number | undefined,
    outbox: OutboxMessage[],
  ): void {
    plan.usage.modelCalls += 1;
    plan.usage.inputTokens += result.usage.inputTokens;
    plan.usage.outputTokens += result.usage.outputTokens;
    plan.usage.costUsd += result.usage.costUsd;
    const stepBase = plan.steps.length;
    if (!result.ok) {
      this.end(
        plan,
        'handed-off',
        outbox,
        `the model failed safe (${result.reason}); no proposal was made`,
        [],
      );
      return;
    }
    const { proposals, handoffs, noActions } = result.set;
    // What the agent asked a person for in this step, beside (or instead of) its proposals.
    const asked =
      handoffs.length > 0
        ? {
            reason: handoffs.map((h) => `${h.kind}: ${h.reason}`).join(' | '),
            candidates: [...new Set(handoffs.flatMap((h) => h.candidates))],
          }
        : undefined;
    if (proposals.length === 0) {
      if (asked) this.end(plan, 'handed-off', outbox, asked.reason, asked.candidates);
      else
        this.end(
          plan,
          adaptedFrom === undefined ? 'completed' : 'denied',
          outbox,
          `no action: ${noActions.map((n) => n.reason).join(' | ') || 'the agent proposed nothing'}`,
        );
      return;
    }
    if (adaptedFrom !== undefined) {
      // Re-proposing what was already turned down is no adaptation: a human takes it from here.
      const turnedDown = new Set(
        plan.steps
          .filter((s) => s.status === 'denied' || s.status === 'rejected')
          .map((s) => actionKey(s.tool, s.args)),
      );
      const fresh = proposals.filter((p) => !turnedDown.has(proposalKey(p)));
      if (fresh.length === 0) {
        const step = plan.steps[adaptedFrom];
        this.end(
          plan,
          'handed-off',
          outbox,
          `${step.tool} ${step.status} (${step.reasons.join(', ')}); the agent has nothing else to propose`,
          [],
          asked,
        );
        return;
      }
    }
    if (stepBase + proposals.length > plan.budget.maxSteps) {
      this.end(
        plan,
        'handed-off',
        outbox,
        `step budget: ${stepBase + proposals.length} steps exceed the plan's ${plan.budget.maxSteps}`,
        [],
        asked,
      );
      return;
    }
    proposals.forEach((p, i) => {
      const { tool, args } = toolAndArgs(p);
      plan.steps.push({
        index: stepBase + i,
        proposalId: p.proposalId,
        idempotencyKey: p.idempotencyKey,
        tool,
        args,
        rationale: p.rationale,
        proposal: Buffer.from(ActionProposal.encode(p).finish()).toString('base64'),
        status: 'queued',
        reasons: [],
        ...(adaptedFrom !== undefined && i === 0 ? { adaptedFrom } : {}),
      });
    });
    this.proposeNext(plan, outbox);
    // The plan goes on, and a person is wanted now (an escalation, say): published with it.
    if (asked) this.handOff(plan, stepHandoffIdOf(plan.tenantId, plan.id, stepBase), asked, outbox);
  }

  /**
   * Records a hand-off on the plan (reasons and candidates merged with any earlier one) and puts
   * the `PlanHandOff` in the outbox of the plan's write, so it is published exactly when that
   * write wins; `handoffId` is deterministic, so a retried step publishes the same id.
   */
  private handOff(
    plan: PlanDoc,
    handoffId: string,
    asked: { reason: string; candidates: readonly string[] },
    outbox: OutboxMessage[],
  ): PlanHandOffState {
    const prior = plan.handoff;
    const state: PlanHandOffState = {
      reason: mergeReasons(prior?.reason, asked.reason),
      candidates: [...new Set([...(prior?.candidates ?? []), ...asked.candidates])],
      handoffId,
      handoffIds: [...new Set([...(prior?.handoffIds ?? []), handoffId])],
    };
    plan.handoff = state;
    outbox.push(
      outboxMessage(
        Topics.planHandOffs,
        this.handOffOf(plan, handoffId, state.reason, state.candidates),
        {
          tenantId: plan.tenantId,
          correlationId: plan.correlationId,
          source: SOURCE,
          id: handoffId,
          subject: `${plan.target.objectType}/${plan.target.recordId}`,
        },
      ),
    );
    if (plan.status === 'active')
      // The plan's end has its own ledger record (below, in `end`); this one says why now.
      outbox.push(
        this.audit(
          plan,
          AuditKind.AUDIT_KIND_OUTCOME,
          `${plan.agentId} hands off to a person while the plan goes on: ${state.reason}`,
          `handoff/${handoffId}`,
          {
            planStatus: plan.status,
            handoffId,
            ...(state.candidates.length ? { candidates: state.candidates.join(',') } : {}),
          },
        ),
      );
    return state;
  }

  /** Proposes the first queued step when no step is open; completes the plan when none is left. */
  private proposeNext(plan: PlanDoc, outbox: OutboxMessage[]): void {
    if (plan.steps.some((s) => OPEN_STEP.has(s.status))) return;
    const next = plan.steps.find((s) => s.status === 'queued');
    if (!next) {
      const executed = plan.steps.filter((s) => s.status === 'executed').map((s) => s.tool);
      this.end(
        plan,
        'completed',
        outbox,
        executed.length ? `executed ${executed.join(', ')}` : 'nothing executed',
      );
      return;
    }
    next.status = 'proposed';
    const proposal = ActionProposal.decode(Buffer.from(next.proposal, 'base64'));
    outbox.push(
      this.audit(
        plan,
        AuditKind.AUDIT_KIND_PROPOSAL,
        `${plan.agentId} proposes ${next.tool} (step ${next.index + 1}${next.adaptedFrom !== undefined ? `, adapting step ${next.adaptedFrom + 1}` : ''}): ${proposal.rationale}`,
        `proposal/${proposal.proposalId}`,
        {
          step: String(next.index),
          model: `${proposal.model?.provider}/${proposal.model?.model}`,
          modelLabel: plan.model.label,
          offlineModel: String(proposal.model?.offline ?? false),
          prompt: `${proposal.prompt?.promptId}@${proposal.prompt?.version}`,
          promptHash: proposal.prompt?.contentHash ?? '',
        },
        ActionProposal.encode(proposal).finish(),
      ),
      outboxMessage(Topics.actionsProposed, proposal, {
        tenantId: proposal.tenantId,
        correlationId: proposal.correlationId,
        source: SOURCE,
        id: proposal.proposalId,
      }),
    );
  }

  /**
   * Ends the plan. `handed-off` publishes the plan's hand-off (`handoffIdOf`) in the same write;
   * its reason and candidates keep what the agent asked for earlier in the plan and, as `asked`,
   * in the step being folded in, ahead of `summary` (why the engine stopped).
   */
  private end(
    plan: PlanDoc,
    status: PlanStatus,
    outbox: OutboxMessage[],
    summary: string,
    candidates: string[] = [],
    asked?: { reason: string; candidates: readonly string[] },
  ): void {
    plan.status = status;
    for (const s of plan.steps) if (s.status === 'queued') s.status = 'cancelled';
    if (status === 'handed-off') {
      // Announced in the same write as the transition: human review opens a hand-off task.
      const state = this.handOff(
        plan,
        handoffIdOf(plan.tenantId, plan.id),
        {
          reason: mergeReasons(asked?.reason, summary),
          candidates: [...(asked?.candidates ?? []), ...candidates],
        },
        outbox,
      );
      summary = state.reason;
      candidates = state.candidates;
    }
    outbox.push(
      this.audit(
        plan,
        AuditKind.AUDIT_KIND_OUTCOME,
        `plan ${status}: ${summary}`,
        `plan/${plan.id}/${status}/${plan.steps.length}`,
        {
          planStatus: status,
          ...(candidates.length ? { candidates: candidates.join(',') } : {}),
        },
      ),
    );
  }

  /** The hand-off message: PII-free (the reason is the ledger's summary; steps carry no args). */
  private handOffOf(
    plan: PlanDoc,
    handoffId: string,
    reason: string,
    candidates: string[],
  ): PlanHandOff {
    return PlanHandOff.fromPartial({
      handoffId,
      tenantId: plan.tenantId,
      correlationId: plan.correlationId,
      planId: plan.id,
      agentId: plan.agentId,
      target: { ...plan.target },
      reason,
      candidates: [...candidates],
      steps: plan.steps.map((s) => ({
        index: s.index,
        actionType: s.tool,
        status: s.status,
        reasons: [...s.reasons],
        proposalId: s.proposalId,
      })),
      handedOffAt: this.now().toISOString(),
      objective: plan.objective,
    });
  }

  async onDecision(decision: PolicyDecision): Promise<void> {
    const p = decision.proposal;
    if (!p || !isTenantId(decision.tenantId)) return;
    await this.onStep(decision.tenantId, p.planId, p.proposalId, async (plan, step, outbox) => {
      if (
        decision.verdict === Verdict.VERDICT_DENY ||
        decision.verdict === Verdict.VERDICT_UNSPECIFIED
      ) {
        if (step.status !== 'proposed' && step.status !== 'awaiting-review') return false;
        const reasons = decision.explanation?.reasonCodes?.length
          ? [...decision.explanation.reasonCodes]
          : [decision.explanation?.summary || 'DENIED'];
        step.status = 'denied';
        step.reasons = reasons;
        outbox.push(
          this.audit(
            plan,
            AuditKind.AUDIT_KIND_OUTCOME,
            `step ${step.index + 1} (${step.tool}) denied by policy: ${reasons.join(', ')}`,
            `denied/${decision.decisionId}`,
            { planStatus: plan.status, step: String(step.index) },
          ),
        );
        await this.adapt(plan, step, 'denied', outbox);
        return true;
      }
      const token = decision.token;
      if (token && token.approvals.length >= token.requiredApprovals) {
        // AUTO, or an APPROVE(n) decision re-issued once its approvals are in: it will execute.
        if (step.status !== 'proposed' && step.status !== 'awaiting-review') return false;
        step.status = 'approved';
        return true;
      }
      if (step.status !== 'proposed') return false;
      step.status = 'awaiting-review';
      return true;
    });
  }

  async onReviewDecision(review: ReviewDecision): Promise<void> {
    if (review.outcome !== ReviewOutcome.REVIEW_OUTCOME_REJECT || !isTenantId(review.tenantId))
      return;
    const link = await this.deps.planProposals.get(review.tenantId, review.proposalId);
    if (!link) return; // not a plan step (e.g. another orchestrator's proposal)
    await this.onStep(
      review.tenantId,
      link.planId,
      review.proposalId,
      async (plan, step, outbox) => {
        if (step.status !== 'awaiting-review' && step.status !== 'proposed') return false;
        if (review.reasonCode === SLA_EXPIRED) {
          // Nobody decided in time and the fail-safe said no: not a judgement to adapt to.
          step.status = 'expired';
          step.reasons = [SLA_EXPIRED];
          this.end(
            plan,
            'expired',
            outbox,
            `step ${step.index + 1} (${step.tool}): the review expired unanswered (fail-safe: not executed)`,
          );
          return true;
        }
        step.status = 'rejected';
        step.reasons = [review.reasonCode || 'REJECTED'];
        outbox.push(
          this.audit(
            plan,
            AuditKind.AUDIT_KIND_OUTCOME,
            `step ${step.index + 1} (${step.tool}) rejected by a reviewer: ${step.reasons[0]}`,
            `rejected/${review.reviewDecisionId}`,
            { planStatus: plan.status, step: String(step.index) },
          ),
        );
        await this.adapt(plan, step, 'rejected', outbox);
        return true;
      },
    );
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
    const link = await this.deps.planProposals.get(outcome.tenantId, outcome.proposalId);
    if (!link) return;
    await this.onStep(
      outcome.tenantId,
      link.planId,
      outcome.proposalId,
      async (plan, step, outbox) => {
        if (!OPEN_STEP.has(step.status)) return false;
        if (outcome.status === ExecutionStatus.EXECUTION_STATUS_EXECUTED) {
          step.status = 'executed';
          outbox.push(
            this.audit(
              plan,
              AuditKind.AUDIT_KIND_OUTCOME,
              `step ${step.index + 1} (${step.tool}) executed`,
              `outcome/${outcome.outcomeId}`,
              { planStatus: plan.status, step: String(step.index) },
            ),
          );
          this.proposeNext(plan, outbox);
          return true;
        }
        step.status =
          outcome.status === ExecutionStatus.EXECUTION_STATUS_REFUSED ? 'refused' : 'failed';
        step.reasons = [outcome.message];
        this.end(
          plan,
          'failed',
          outbox,
          `step ${step.index + 1} (${step.tool}) ${step.status}: ${outcome.message}`,
        );
        return true;
      },
    );
  }

  /** Re-asks the agent with what went wrong, within the plan's budgets; else hands off. */
  private async adapt(
    plan: PlanDoc,
    step: PlanStep,
    outcome: 'denied' | 'rejected',
    outbox: OutboxMessage[],
  ): Promise<void> {
    const history = plan.steps.filter(
      (s) => (s.status === 'denied' || s.status === 'rejected') && s.index !== step.index,
    );
    const summary = `${step.tool} ${outcome} (${step.reasons.join(', ')})${history.length ? ` after ${history.length} earlier attempt(s)` : ''}`;
    const budget = plan.budget;
    const exhausted =
      plan.usage.adaptations >= budget.maxAdaptations
        ? `adaptation budget (${budget.maxAdaptations}) used up`
        : plan.steps.length >= budget.maxSteps
          ? `step budget (${budget.maxSteps}) used up`
          : plan.usage.costUsd >= budget.maxCostUsd
            ? `cost budget ($${budget.maxCostUsd}) used up`
            : undefined;
    if (exhausted) {
      this.end(plan, 'handed-off', outbox, `${summary}; ${exhausted}`);
      return;
    }
    plan.usage.adaptations += 1;
    const tenant = plan.tenantId as TenantId;
    const settings = this.settings(tenant);
    const target = await this.deps.source.get(tenant, plan.target.objectType, plan.target.recordId);
    if (!target) {
      this.end(plan, 'handed-off', outbox, `${summary}; the target record is gone`);
      return;
    }
    const feedback: StepFeedback = {
      stepIndex: step.index,
      tool: step.tool,
      args: step.args,
      outcome,
      reasons: step.reasons,
      earlier: history.map((s) => ({ tool: s.tool, args: s.args })),
    };
    const result = await this.runStep(this.deps, {
      agent: plan.agentId as StepRequest['agent'],
      tenantId: tenant,
      correlationId: plan.correlationId,
      target,
      planId: plan.id,
      stepIndex: plan.steps.length,
      now: this.now(),
      timeZone: settings.timeZone,
      tenantRules: settings.rules,
      feedback,
    });
    for (const s of plan.steps) if (s.status === 'queued') s.status = 'cancelled';
    const fromIndex = plan.steps.length;
    this.apply(plan, result, step.index, outbox);
    await this.indexProposals(tenant, plan, fromIndex);
  }

  /**
   * Loads the plan, runs `change` on the step (which returns false when the event is stale or
   * redelivered) and writes the plan back conditionally on its version with the outbox.
   */
  private async onStep(
    tenant: TenantId,
    planId: string,
    proposalId: string,
    change: (plan: PlanDoc, step: PlanStep, outbox: OutboxMessage[]) => Promise<boolean>,
  ): Promise<void> {
    const stored = await this.deps.plans.get(tenant, planId);
    if (!stored) return;
    const plan = clonePlan(stored);
    const step = plan.steps.find((s) => s.proposalId === proposalId);
    if (!step) return;
    const outbox: OutboxMessage[] = [];
    if (!(await change(plan, step, outbox))) return;
    plan.updatedAt = this.now();
    try {
      await this.deps.plans.update(
        tenant,
        plan.id,
        {
          set: {
            status: plan.status,
            steps: plan.steps,
            usage: plan.usage,
            ...(plan.handoff ? { handoff: plan.handoff } : {}),
            updatedAt: plan.updatedAt,
          },
          outbox,
        },
        { expectVersion: stored.version },
      );
    } catch (err) {
      if (err instanceof DocumentNotFoundError) return;
      throw err; // ConcurrencyError: the bus redelivers and the next attempt re-reads
    }
  }

  /**
   * Records proposal → plan for the steps from `fromIndex` on (before the plan write that
   * proposes them); a retry finds them there already.
   */
  private async indexProposals(tenant: TenantId, plan: PlanDoc, fromIndex: number): Promise<void> {
    for (const s of plan.steps.slice(fromIndex)) {
      try {
        await this.deps.planProposals.insert(tenant, { id: s.proposalId, planId: plan.id });
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
      }
    }
  }

  private contextSummary(result: StepResult & { ok: true }): string {
    const read = result.fields.map(
      (f) => `${f.objectType} ${f.recordId}: ${f.read.join(', ') || '(nothing)'}`,
    );
    return `context: ${read.join('; ')}; ${result.activityIds.length} activity item(s); personal values pseudonymised; model ${result.modelLabel}`;
  }

  private audit(
    plan: PlanDoc,
    kind: AuditKind,
    summary: string,
    dedupeKey: string,
    attributes: Record<string, string> = {},
    payload?: Uint8Array,
  ): OutboxMessage {
    return auditOutboxMessage(
      {
        kind,
        tenantId: plan.tenantId,
        correlationId: plan.correlationId,
        actor: `${SOURCE}/${plan.agentId}`,
        subject: plan.target,
        summary,
        dedupeKey,
        attributes: { planId: plan.id, ...attributes },
        ...(payload ? { payload, payloadType: 'mandate.v1.ActionProposal' } : {}),
      },
      SOURCE,
    );
  }
}

/** The plan without its store version; `get` hands out a fresh copy the caller may edit. */
function clonePlan(doc: Versioned<PlanDoc>): PlanDoc {
  const { version: _version, ...plan } = doc;
  return plan;
}

/** Reasons joined oldest first, each once (an agent asking again for the same adds nothing). */
function mergeReasons(earlier: string | undefined, reason: string): string {
  if (!earlier) return reason;
  return [...new Set([...earlier.split(' | '), ...reason.split(' | ')])].join(' | ');
}

function toolAndArgs(p: ActionProposal): { tool: string; args: Record<string, unknown> } {
  const kind = p.action?.kind;
  return kind
    ? { tool: snake(kind.$case), args: snakeKeys(kind.value as unknown as Record<string, unknown>) }
    : { tool: 'unknown', args: {} };
}

/** Identity of an action for "proposed again?": the tool and its arguments (stable key order). */
function actionKey(tool: string, args: Record<string, unknown>): string {
  return `${tool}:${stableJson(args)}`;
}

function proposalKey(p: ActionProposal): string {
  const { tool, args } = toolAndArgs(p);
  return actionKey(tool, args);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function snakeKeys(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[snake(k)] =
      v && typeof v === 'object' && !Array.isArray(v) ? snakeKeys(v as Record<string, unknown>) : v;
  return out;
}
