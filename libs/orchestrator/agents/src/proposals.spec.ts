import { ActionProposal, actionTypeOf } from '@mandate/contracts';
import type { AgentId } from './agent-definitions';
import {
  DEFAULT_CONFIDENCE,
  ProposalMappingError,
  proposalIdempotencyKey,
  toProposals,
  type ToProposalsInput,
} from './proposals';
import { call, type AgentToolCall } from './tools';

const PROMPT = { promptId: 'deal-desk', version: 1, contentHash: 'a'.repeat(64) };
const MODEL = {
  provider: 'offline',
  model: 'mandate-offline-1',
  parameters: { kind: 'deterministic rules' },
  offline: true,
};

function input(agent: AgentId, toolCalls: AgentToolCall[], extra: Partial<ToProposalsInput> = {}) {
  return {
    agent,
    tenantId: 'acme',
    correlationId: 'corr-1',
    target: { objectType: 'opportunity', recordId: 'opp-0001' },
    toolCalls,
    prompt: PROMPT,
    model: MODEL,
    planId: 'plan-1',
    stepIndex: 0,
    now: '2026-11-16T09:00:00.000Z',
    ...extra,
  } satisfies ToProposalsInput;
}

function only(agent: AgentId, c: AgentToolCall): ActionProposal {
  const { proposals } = toProposals(input(agent, [c]));
  expect(proposals).toHaveLength(1);
  return proposals[0];
}

describe('toProposals: CRM actions', () => {
  it('maps qualify_lead with its score and records prompt, model, plan and time', () => {
    const p = only('lead-qualification', call('qualify_lead', { score: 82, reason: 'fit' }));
    expect(p.action).toEqual({
      kind: { $case: 'qualifyLead', value: { score: 82, reason: 'fit' } },
    });
    expect(p).toMatchObject({
      tenantId: 'acme',
      correlationId: 'corr-1',
      agentId: 'lead-qualification',
      target: { objectType: 'opportunity', recordId: 'opp-0001' },
      prompt: PROMPT,
      model: MODEL,
      planId: 'plan-1',
      stepIndex: 0,
      confidence: DEFAULT_CONFIDENCE,
      createdAt: '2026-11-16T09:00:00.000Z',
      rationale: 'Qualify (score 82): fit',
    });
    // It is a valid contracts message (round trip through the generated codec).
    expect(ActionProposal.fromJSON(ActionProposal.toJSON(p))).toEqual(p);
  });

  it('maps disqualify_lead and assign_owner to camelCase fields', () => {
    const d = only(
      'lead-qualification',
      call('disqualify_lead', { reason_code: 'LOW_FIT', reason: 'too small' }),
    );
    expect(d.action?.kind).toEqual({
      $case: 'disqualifyLead',
      value: { reasonCode: 'LOW_FIT', reason: 'too small' },
    });
    expect(d.rationale).toBe('Disqualify (LOW_FIT): too small');
    const a = only(
      'lead-qualification',
      call('assign_owner', { owner_id: 'usr-1', reason: 'EMEA' }),
    );
    expect(a.action?.kind).toEqual({
      $case: 'assignOwner',
      value: { ownerId: 'usr-1', reason: 'EMEA' },
    });
  });

  it('maps apply_discount with Money as currency code and a string amount in minor units', () => {
    const p = only(
      'deal-desk',
      call('apply_discount', {
        discount_percent: 12,
        reason: 'three-year term',
        list_amount: { currency_code: 'GBP', amount_minor: 72500000 },
      }),
    );
    expect(p.action?.kind).toEqual({
      $case: 'applyDiscount',
      value: {
        discountPercent: 12,
        reason: 'three-year term',
        listAmount: { currencyCode: 'GBP', amountMinor: '72500000' },
      },
    });
    expect(p.rationale).toBe('12% discount: three-year term');
  });

  it('maps move_opportunity_stage', () => {
    const p = only(
      'deal-desk',
      call('move_opportunity_stage', { from_stage: 'proposal', to_stage: 'negotiation' }),
    );
    expect(actionTypeOf(p.action)).toBe('move_opportunity_stage');
    expect(p.action?.kind).toEqual({
      $case: 'moveOpportunityStage',
      value: { fromStage: 'proposal', toStage: 'negotiation' },
    });
  });

  it('maps update_field, reply_to_case and close_case', () => {
    const { proposals } = toProposals(
      input('service-triage', [
        call('update_field', { field: 'priority', value: 'high', previous_value: 'medium' }),
        call('reply_to_case', { body: 'Hello ⟦PERSON_1⟧,\nWe are on it.', public: true }),
        call('close_case', { resolution_code: 'RESOLVED', summary: 'customer confirmed' }),
      ]),
    );
    expect(proposals.map((p) => p.action?.kind)).toEqual([
      {
        $case: 'updateField',
        value: { field: 'priority', value: 'high', previousValue: 'medium' },
      },
      { $case: 'replyToCase', value: { body: 'Hello ⟦PERSON_1⟧,\nWe are on it.', public: true } },
      { $case: 'closeCase', value: { resolutionCode: 'RESOLVED', summary: 'customer confirmed' } },
    ]);
    expect(proposals[0].rationale).toBe('Set priority from "medium" to "high"');
    expect(proposals[1].rationale).toBe('Public reply to the customer: Hello ⟦PERSON_1⟧,');
    expect(proposals.map((p) => p.stepIndex)).toEqual([0, 0, 0]);
  });

  it('maps send_email; without restore the tokens stay, with restore only the free text changes', () => {
    const email = call('send_email', {
      to_contact_id: 'con-0006',
      subject: 'Follow-up for ⟦PERSON_1⟧',
      body: 'Hello ⟦PERSON_1⟧,\nThanks.',
    });
    const preview = only('outreach', email);
    expect(preview.action?.kind).toEqual({
      $case: 'sendEmail',
      value: {
        toContactId: 'con-0006',
        subject: 'Follow-up for ⟦PERSON_1⟧',
        body: 'Hello ⟦PERSON_1⟧,\nThanks.',
        templateId: '',
      },
    });
    const restored = toProposals(
      input('outreach', [email], { restore: (t) => t.replaceAll('⟦PERSON_1⟧', 'Rosalind') }),
    ).proposals[0];
    expect(restored.action?.kind).toMatchObject({
      value: { subject: 'Follow-up for Rosalind', body: 'Hello Rosalind,\nThanks.' },
    });
    // The rationale never carries restored personal data.
    expect(restored.rationale).toBe('Email draft to contact con-0006: "Follow-up for ⟦PERSON_1⟧"');
    expect(restored.idempotencyKey).toBe(preview.idempotencyKey);
  });
});

describe('toProposals: non-actions', () => {
  it('returns hand_off, escalate and no_action beside the proposals, not as proposals', () => {
    const set = toProposals(
      input('service-triage', [
        call('reply_to_case', { body: 'Internal: security review', public: false }),
        call('escalate', { reason: 'possible data exposure' }),
        call('hand_off', { reason: 'which case?', candidates: ['case-0001', 'case-0002'] }),
      ]),
    );
    expect(set.proposals).toHaveLength(1);
    expect(set.handoffs).toEqual([
      { kind: 'escalate', toolIndex: 1, reason: 'possible data exposure', candidates: [] },
      {
        kind: 'hand_off',
        toolIndex: 2,
        reason: 'which case?',
        candidates: ['case-0001', 'case-0002'],
      },
    ]);
    const none = toProposals(
      input('outreach', [call('no_action', { reason: 'OPTED_OUT: the contact opted out' })]),
    );
    expect(none).toEqual({
      proposals: [],
      handoffs: [],
      noActions: [{ toolIndex: 0, reason: 'OPTED_OUT: the contact opted out', code: 'OPTED_OUT' }],
    });
  });
});

describe('toProposals: ids and keys', () => {
  const calls = [
    call('qualify_lead', { score: 80, reason: 'fit' }),
    call('assign_owner', { owner_id: 'usr-1', reason: 'EMEA' }),
  ];

  it('derives deterministic idempotency keys and UUID-shaped ids per tenant, plan, step and call', () => {
    const a = toProposals(input('lead-qualification', calls)).proposals;
    const b = toProposals(input('lead-qualification', calls)).proposals;
    expect(b).toEqual(a);
    expect(a[0].idempotencyKey).toMatch(/^[0-9a-f]{64}$/);
    expect(a[0].idempotencyKey).toBe(proposalIdempotencyKey('acme', 'plan-1', 0, 0));
    expect(a[0].proposalId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(new Set(a.map((p) => p.idempotencyKey)).size).toBe(2);
    expect(new Set(a.map((p) => p.proposalId)).size).toBe(2);
    const keyOf = (extra: Partial<ToProposalsInput>) =>
      toProposals(input('lead-qualification', calls, extra)).proposals[0].idempotencyKey;
    expect(keyOf({ tenantId: 'globex' })).not.toBe(a[0].idempotencyKey);
    expect(keyOf({ planId: 'plan-2' })).not.toBe(a[0].idempotencyKey);
    expect(keyOf({ stepIndex: 1 })).not.toBe(a[0].idempotencyKey);
    // The key does not depend on the time or the correlation id: a retry keeps it.
    expect(keyOf({ now: '2027-01-01T00:00:00Z', correlationId: 'other' })).toBe(
      a[0].idempotencyKey,
    );
  });

  it('records the given confidence', () => {
    expect(
      toProposals(input('lead-qualification', calls, { confidence: 0.9 })).proposals[0].confidence,
    ).toBe(0.9);
  });
});

describe('toProposals: refusals', () => {
  it('refuses a tool the agent may not call, an unknown tool and invalid arguments', () => {
    expect(() =>
      toProposals(
        input('outreach', [
          call('apply_discount', {
            discount_percent: 90,
            reason: 'x',
            list_amount: { currency_code: 'GBP', amount_minor: 1 },
          }),
        ]),
      ),
    ).toThrow(/outreach may not call "apply_discount"/);
    expect(() =>
      toProposals({ ...input('outreach', []), toolCalls: [{ name: 'wire_money', args: {} }] }),
    ).toThrow(ProposalMappingError);
    expect(() =>
      toProposals({
        ...input('lead-qualification', []),
        toolCalls: [{ name: 'qualify_lead', args: { score: 101, reason: 'x' } }],
      }),
    ).toThrow(/invalid arguments: score/);
  });

  it('refuses a confidence outside 0..1 and an invalid time', () => {
    expect(() => toProposals(input('outreach', [], { confidence: 1.5 }))).toThrow(/confidence/);
    expect(() => toProposals(input('outreach', [], { now: 'yesterday' }))).toThrow(/time/);
  });
});
