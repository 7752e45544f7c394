import {
  ChangeType,
  type ActionProposal,
  type AuditEntry,
  type CrmChangeEvent,
  type PlanHandOff,
  type ReviewDecision,
} from '@mandate/contracts';
import { deadLetterTopic } from './topic-spec';
import { allTopics, Topics } from './topic-catalog';

const DAY = 86_400_000;

describe('topic catalog', () => {
  it('lists every Mandate topic with its type, partitions and retention', () => {
    expect(
      allTopics().map((t) => [
        t.name,
        t.codec.typeName,
        t.partitions,
        t.retentionMs! / DAY,
        t.cleanupPolicy,
      ]),
    ).toEqual([
      ['mandate.crm.changes.v1', 'mandate.v1.CrmChangeEvent', 6, 7, 'delete'],
      ['mandate.actions.proposed.v1', 'mandate.v1.ActionProposal', 6, 7, 'delete'],
      ['mandate.policy.decisions.v1', 'mandate.v1.PolicyDecision', 6, 7, 'delete'],
      ['mandate.review.tasks.v1', 'mandate.v1.ReviewTask', 6, 7, 'delete'],
      ['mandate.review.decisions.v1', 'mandate.v1.ReviewDecision', 6, 7, 'delete'],
      ['mandate.executions.outcomes.v1', 'mandate.v1.ExecutionOutcome', 6, 7, 'delete'],
      ['mandate.audit.records.v1', 'mandate.v1.AuditRecord', 6, 30, 'delete'],
      ['mandate.audit.v1', 'mandate.v1.AuditEntry', 6, 365, 'delete'],
      // One partition: control events are applied in one total order by every replica.
      ['mandate.policy.control.v1', 'mandate.v1.PolicyControlEvent', 1, 365, 'delete'],
      ['mandate.policy.trust-evidence.v1', 'mandate.v1.TrustEvidence', 6, 7, 'delete'],
      ['mandate.plans.handoffs.v1', 'mandate.v1.PlanHandOff', 6, 7, 'delete'],
    ]);
    expect(allTopics().map((t) => t.deadLetter)).toEqual(allTopics().map((t) => `${t.name}.dlq`));
    expect(deadLetterTopic(Topics.audit).retentionMs).toBe(365 * DAY);
  });

  it('keys CRM changes and proposals by tenant and record, so one record stays ordered', () => {
    const change = { tenantId: 'acme', objectType: 'lead', recordId: 'L1' } as CrmChangeEvent;
    expect(Topics.crmChanges.key(change)).toBe('acme/lead/L1');
    const proposal = {
      tenantId: 'acme',
      proposalId: 'p1',
      target: { objectType: 'lead', recordId: 'L1' },
    } as ActionProposal;
    expect(Topics.actionsProposed.key(proposal)).toBe('acme/lead/L1');
    expect(
      Topics.policyDecisions.key({ tenantId: 'acme', decisionId: 'd1', proposal } as never),
    ).toBe('acme/lead/L1');
    expect(
      Topics.executionOutcomes.key({
        tenantId: 'acme',
        proposalId: 'p1',
        target: proposal.target,
      } as never),
    ).toBe('acme/lead/L1');
    expect(Topics.actionsProposed.key({ ...proposal, target: undefined })).toBe('acme/proposal/p1');
    expect(Topics.reviewDecisions.key({ tenantId: 'acme', taskId: 't1' } as ReviewDecision)).toBe(
      'acme/review-task/t1',
    );
    expect(Topics.planHandOffs.key({ tenantId: 'acme', planId: 'plan-1' } as PlanHandOff)).toBe(
      'acme/plan/plan-1',
    );
  });

  it('keys audit topics by tenant alone, so one ledger writer owns a tenant', () => {
    expect(Topics.auditRecords.key({ tenantId: 'acme' } as never)).toBe('acme');
    expect(Topics.audit.key({ record: { tenantId: 'acme' } } as AuditEntry)).toBe('acme');
  });

  it('round-trips protobuf payloads through the catalog codecs', () => {
    const change: CrmChangeEvent = {
      eventId: 'e1',
      tenantId: 'acme',
      correlationId: 'c1',
      sourceSystem: 'embedded',
      objectType: 'lead',
      recordId: 'L1',
      changeType: ChangeType.CHANGE_TYPE_UPDATED,
      changedFields: ['status'],
      snapshot: { status: 'qualified' },
      occurredAt: '2025-01-01T00:00:00.000Z',
      cursor: '17',
    };
    const codec = Topics.crmChanges.codec;
    expect(codec.decode(codec.encode(change))).toEqual(change);
  });
});
