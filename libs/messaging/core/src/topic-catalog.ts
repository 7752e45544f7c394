import {
  codecs,
  type ActionProposal,
  type AuditEntry,
  type AuditRecord,
  type CrmChangeEvent,
  type ExecutionOutcome,
  type PlanHandOff,
  type PolicyControlEvent,
  type PolicyDecision,
  type TrustEvidence,
  type RecordRef,
  type ReviewDecision,
  type ReviewTask,
} from '@mandate/contracts';
import { defineTopic, tenantKey, type TopicSpec } from './topic-spec';

const DAY_MS = 24 * 60 * 60 * 1000;
const PARTITIONS = 6;
const RETENTION_MS = 7 * DAY_MS;

/** Key of everything about one CRM record: `tenant/object_type/record_id`, keeping the record's events in order. */
function recordKey(
  tenantId: string,
  target: RecordRef | undefined,
  fallbackKind: string,
  fallbackId: string,
): string {
  return target?.recordId
    ? tenantKey(tenantId, target.objectType, target.recordId)
    : tenantKey(tenantId, fallbackKind, fallbackId);
}

/**
 * The Mandate topic catalog: the only place topic names, keys, value types, partitions,
 * retention and dead-letter topics are defined. `mandate topics apply` creates what it lists.
 */
export const Topics = {
  crmChanges: defineTopic<CrmChangeEvent>({
    name: 'mandate.crm.changes.v1',
    description: 'Changes to CRM records ingested by connectors; input of the orchestrator.',
    key: (e) => tenantKey(e.tenantId, e.objectType, e.recordId),
    codec: codecs.CrmChangeEvent,
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  }),
  actionsProposed: defineTopic<ActionProposal>({
    name: 'mandate.actions.proposed.v1',
    description: 'Typed actions proposed by agents; input of policy.',
    key: (p) => recordKey(p.tenantId, p.target, 'proposal', p.proposalId),
    codec: codecs.ActionProposal,
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  }),
  policyDecisions: defineTopic<PolicyDecision>({
    name: 'mandate.policy.decisions.v1',
    description:
      'Policy verdicts (AUTO, APPROVE(n), DENY) with explanation and, when permitted, a decision token.',
    key: (d) =>
      recordKey(d.tenantId, d.proposal?.target, 'proposal', d.proposal?.proposalId || d.decisionId),
    codec: codecs.PolicyDecision,
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  }),
  reviewTasks: defineTopic<ReviewTask>({
    name: 'mandate.review.tasks.v1',
    description: 'Review tasks opened for decisions that need human approval.',
    key: (t) => recordKey(t.tenantId, t.decision?.proposal?.target, 'review-task', t.taskId),
    codec: codecs.ReviewTask,
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  }),
  reviewDecisions: defineTopic<ReviewDecision>({
    name: 'mandate.review.decisions.v1',
    description:
      'Reviewer decisions (approve, edit, reject); keyed by task so approvals of one task stay ordered.',
    key: (d) => tenantKey(d.tenantId, 'review-task', d.taskId),
    codec: codecs.ReviewDecision,
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  }),
  executionOutcomes: defineTopic<ExecutionOutcome>({
    name: 'mandate.executions.outcomes.v1',
    description: 'Results of executing approved actions against a CRM.',
    key: (o) => recordKey(o.tenantId, o.target, 'proposal', o.proposalId),
    codec: codecs.ExecutionOutcome,
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  }),
  auditRecords: defineTopic<AuditRecord>({
    name: 'mandate.audit.records.v1',
    description:
      'Audit records emitted by every service; keyed by tenant so one ledger writer owns a tenant. ' +
      'Kept 30 days: it is the only copy until the ledger has appended it.',
    key: (r) => r.tenantId,
    codec: codecs.AuditRecord,
    partitions: PARTITIONS,
    retentionMs: 30 * DAY_MS,
  }),
  audit: defineTopic<AuditEntry>({
    name: 'mandate.audit.v1',
    description:
      'Ledger entries as appended, for analytics; keyed by tenant so each tenant reads in leaf order. ' +
      'Kept 365 days; the ledger remains the system of record for older entries.',
    key: (e) => e.record?.tenantId ?? '',
    codec: codecs.AuditEntry,
    partitions: PARTITIONS,
    retentionMs: 365 * DAY_MS,
  }),
  policyControl: defineTopic<PolicyControlEvent>({
    name: 'mandate.policy.control.v1',
    description:
      'Kill switches, breaker resets and bundle activations. Every policy replica consumes all of it ' +
      '(a group per replica); one partition keeps a total order. Compacted per scope would lose history, ' +
      'so it is kept 365 days and replayed from the start when a replica starts.',
    key: (e) => controlTenant(e),
    codec: codecs.PolicyControlEvent,
    partitions: 1,
    retentionMs: 365 * DAY_MS,
  }),
  trustEvidence: defineTopic<TrustEvidence>({
    name: 'mandate.policy.trust-evidence.v1',
    description:
      'Review and execution outcomes re-keyed by tenant/agent, so one policy consumer owns each ' +
      "agent's trust records (single writer per key) and sees all of its outcomes (exact breaker windows).",
    key: (e) => tenantKey(e.tenantId, e.agentId),
    codec: codecs.TrustEvidence,
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  }),
  planHandOffs: defineTopic<PlanHandOff>({
    name: 'mandate.plans.handoffs.v1',
    description:
      "Agents' plans handed off to a person (budget spent, model failure, ambiguous input, " +
      'an action turned down again); human-review opens a hand-off task for each. ' +
      'Keyed by tenant and plan (one hand-off that ends a plan, plus one per step that escalates ' +
      'beside a proposal).',
    key: (h) => tenantKey(h.tenantId, 'plan', h.planId),
    codec: codecs.PlanHandOff,
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS,
  }),
} as const;

/** Tenant that scopes a control event: the kill switch's tenant, else the system tenant. */
export const SYSTEM_TENANT = 'mandate-system';
export function controlTenant(e: PolicyControlEvent): string {
  const change = e.change;
  if (
    change &&
    (change.$case === 'killSwitchSet' || change.$case === 'killSwitchCleared') &&
    change.value.tenantId
  ) {
    return change.value.tenantId;
  }
  if (change?.$case === 'breakerReset' && change.value.tenantId) return change.value.tenantId;
  if (change?.$case === 'breakerTripped' && change.value.breaker?.tenantId)
    return change.value.breaker.tenantId;
  return SYSTEM_TENANT;
}

/** Every catalog topic (dead-letter topics are derived from them). */
export function allTopics(): TopicSpec<unknown>[] {
  return Object.values(Topics);
}
