import { BinaryWriter } from '@bufbuild/protobuf/wire';
import {
  ActionPayload,
  ActionProposal,
  CRM_ACTION_CASES,
  CRM_ACTION_TYPES,
  CrmAction,
  CrmActionCase,
  actionCaseOf,
  actionTypeOf,
} from './index';

// One example of every CrmAction case; the Record type makes a new proto case fail typecheck here.
const examples: Record<CrmActionCase, CrmAction['kind']> = {
  updateField: {
    $case: 'updateField',
    value: { field: 'industry', value: 'Retail', previousValue: 'Other' },
  },
  qualifyLead: { $case: 'qualifyLead', value: { score: 82, reason: 'budget confirmed' } },
  disqualifyLead: {
    $case: 'disqualifyLead',
    value: { reasonCode: 'NO_BUDGET', reason: 'no budget this year' },
  },
  assignOwner: { $case: 'assignOwner', value: { ownerId: 'user-7', reason: 'territory EMEA' } },
  createTask: {
    $case: 'createTask',
    value: {
      subject: 'Call back',
      dueAt: '2025-03-01T09:30:00.000Z',
      ownerId: 'user-7',
      notes: 'asked for pricing',
    },
  },
  sendEmail: {
    $case: 'sendEmail',
    value: {
      toContactId: 'contact-1',
      subject: 'Your quote',
      body: 'Hello {{contact.first_name}}',
      templateId: 'tpl-quote',
    },
  },
  applyDiscount: {
    $case: 'applyDiscount',
    value: {
      discountPercent: 12.5,
      reason: 'multi-year',
      listAmount: { currencyCode: 'EUR', amountMinor: '1250000' },
    },
  },
  moveOpportunityStage: {
    $case: 'moveOpportunityStage',
    value: { fromStage: 'proposal', toStage: 'negotiation' },
  },
  replyToCase: {
    $case: 'replyToCase',
    value: { body: 'We have shipped a replacement.', public: true },
  },
  closeCase: {
    $case: 'closeCase',
    value: { resolutionCode: 'RESOLVED', summary: 'replacement shipped' },
  },
};

function proposalWith(kind: CrmAction['kind']): ActionProposal {
  return ActionProposal.fromPartial({
    proposalId: 'prop-1',
    tenantId: 'tenant-a',
    correlationId: 'corr-1',
    agentId: 'agent-sales',
    idempotencyKey: 'plan-1:0',
    target: { objectType: 'opportunity', recordId: 'opp-42' },
    action: { kind },
    rationale: 'customer asked for a multi-year deal',
    confidence: 0.87,
    prompt: { promptId: 'deal-desk', version: 3, contentHash: 'sha256:' + 'ab'.repeat(32) },
    model: {
      provider: 'offline',
      model: 'mandate-offline-1',
      parameters: { temperature: '0' },
      offline: true,
    },
    planId: 'plan-1',
    stepIndex: 0,
    createdAt: '2025-02-01T12:00:00.123Z',
  });
}

describe('ActionProposal', () => {
  it.each(CRM_ACTION_CASES)('round-trips a %s action through protobuf binary', (actionCase) => {
    const proposal = proposalWith(examples[actionCase]);

    const decoded = ActionProposal.decode(ActionProposal.encode(proposal).finish());

    expect(decoded).toEqual(proposal);
    expect(decoded.action?.kind?.$case).toBe(actionCase);
  });

  it.each(CRM_ACTION_CASES)('round-trips a %s action through proto3 JSON', (actionCase) => {
    const proposal = proposalWith(examples[actionCase]);

    const json = JSON.parse(JSON.stringify(ActionProposal.toJSON(proposal)));

    expect(ActionProposal.fromJSON(json)).toEqual(proposal);
  });

  it('knows every oneof case of CrmAction, in field-number order, with its canonical action type', () => {
    expect(CRM_ACTION_CASES).toHaveLength(10);
    expect(CRM_ACTION_TYPES[6]).toBe('apply_discount');
    expect(actionTypeOf({ kind: examples.applyDiscount })).toBe('apply_discount');
    expect(actionCaseOf('move_opportunity_stage')).toBe('moveOpportunityStage');
    expect(actionCaseOf('delete_everything')).toBeUndefined();
  });

  it('keeps int64 money exact beyond 2^53 and writes it as a decimal string in JSON', () => {
    const amountMinor = '9007199254740993'; // 2^53 + 1: not representable as a JS number
    const proposal = proposalWith({
      $case: 'applyDiscount',
      value: { discountPercent: 5, reason: 'r', listAmount: { currencyCode: 'JPY', amountMinor } },
    });

    const decoded = ActionProposal.decode(ActionProposal.encode(proposal).finish());
    const json = ActionProposal.toJSON(proposal) as {
      action: { applyDiscount: { listAmount: { amountMinor: unknown } } };
    };

    expect(decoded.action?.kind).toEqual(proposal.action?.kind);
    expect(json.action.applyDiscount.listAmount.amountMinor).toBe(amountMinor);
  });

  it('represents timestamps as ISO-8601 strings (millisecond precision)', () => {
    const decoded = ActionProposal.decode(
      ActionProposal.encode(proposalWith(examples.createTask)).finish(),
    );

    expect(decoded.createdAt).toBe('2025-02-01T12:00:00.123Z');
    expect(decoded.action?.kind).toEqual(examples.createTask);
  });

  it('refuses to encode a timestamp that is not a date', () => {
    const proposal = { ...proposalWith(examples.closeCase), createdAt: 'yesterday-ish' };

    expect(() => ActionProposal.encode(proposal).finish()).toThrow();
  });

  it('decodes an action with a oneof case it does not know as an action without kind (fail closed)', () => {
    // A newer writer's case at field number 99 (a message with field 1 = "x").
    const unknownCase = new BinaryWriter()
      .uint32((99 << 3) | 2)
      .bytes(new Uint8Array([0x0a, 0x01, 0x78]))
      .finish();

    const decoded = CrmAction.decode(unknownCase);

    expect(decoded.kind).toBeUndefined();
    expect(actionTypeOf(decoded)).toBeUndefined();
  });
});

describe('ActionPayload (what decision tokens are bound to)', () => {
  const payload = ActionPayload.fromPartial({
    tenantId: 'tenant-a',
    idempotencyKey: 'plan-1:0',
    target: { objectType: 'opportunity', recordId: 'opp-42' },
    action: { kind: examples.applyDiscount },
  });

  it('encodes to the same bytes whatever the order the object was built in', () => {
    const rebuilt = ActionPayload.fromPartial({
      action: { kind: examples.applyDiscount },
      target: { recordId: 'opp-42', objectType: 'opportunity' },
      idempotencyKey: 'plan-1:0',
      tenantId: 'tenant-a',
    });

    expect(Buffer.from(ActionPayload.encode(rebuilt).finish())).toEqual(
      Buffer.from(ActionPayload.encode(payload).finish()),
    );
  });

  it('encodes differently when only the target record differs', () => {
    const otherRecord = { ...payload, target: { objectType: 'opportunity', recordId: 'opp-43' } };

    expect(Buffer.from(ActionPayload.encode(otherRecord).finish())).not.toEqual(
      Buffer.from(ActionPayload.encode(payload).finish()),
    );
  });
});
