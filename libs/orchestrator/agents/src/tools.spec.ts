import { AGENT_TOOLS, AGENT_TOOL_NAMES } from './tools';

describe('agent tools', () => {
  it('define the twelve tools the prompts name', () => {
    expect([...AGENT_TOOL_NAMES].sort()).toEqual(
      [
        'apply_discount',
        'assign_owner',
        'close_case',
        'disqualify_lead',
        'escalate',
        'hand_off',
        'move_opportunity_stage',
        'no_action',
        'qualify_lead',
        'reply_to_case',
        'send_email',
        'update_field',
      ].sort(),
    );
    for (const name of AGENT_TOOL_NAMES) expect(AGENT_TOOLS[name].name).toBe(name);
  });

  it.each([
    ['qualify_lead', { score: 101, reason: 'x' }],
    ['qualify_lead', { score: 50.5, reason: 'x' }],
    ['qualify_lead', { score: 50, reason: '  ' }],
    ['disqualify_lead', { reason_code: 'low fit', reason: 'x' }],
    [
      'apply_discount',
      { discount_percent: 0, reason: 'x', list_amount: { currency_code: 'EUR', amount_minor: 1 } },
    ],
    [
      'apply_discount',
      {
        discount_percent: 100,
        reason: 'x',
        list_amount: { currency_code: 'EUR', amount_minor: 1 },
      },
    ],
    [
      'apply_discount',
      { discount_percent: 10, reason: 'x', list_amount: { currency_code: 'eur', amount_minor: 1 } },
    ],
    ['send_email', { to_contact_id: 'con-1', subject: 's', body: 'b', cc: 'x@y.example' }],
    ['send_email', { to_contact_id: 42, subject: 's', body: 'b' }],
    ['hand_off', { reason: 'x' }],
    ['hand_off', { reason: '', candidates: [] }],
    ['escalate', { reason: '' }],
    ['no_action', {}],
    ['reply_to_case', { body: 'b', public: 'yes' }],
    ['update_field', { field: 'priority', value: 'high' }],
  ] as const)('%s rejects %j', (name, args) => {
    expect(AGENT_TOOLS[name].schema.safeParse(args).success).toBe(false);
  });

  it.each([
    ['qualify_lead', { score: 0, reason: 'x' }],
    ['disqualify_lead', { reason_code: 'NOT_A_BUYER', reason: 'x' }],
    ['assign_owner', { owner_id: 'usr-0002', reason: 'EMEA' }],
    [
      'apply_discount',
      {
        discount_percent: 12.5,
        reason: 'x',
        list_amount: { currency_code: 'GBP', amount_minor: 100 },
      },
    ],
    ['move_opportunity_stage', { from_stage: 'proposal', to_stage: 'negotiation' }],
    ['update_field', { field: 'priority', value: 'high', previous_value: '' }],
    ['reply_to_case', { body: 'Hello ⟦PERSON_1⟧', public: false }],
    ['close_case', { resolution_code: 'RESOLVED', summary: 'confirmed' }],
    ['send_email', { to_contact_id: 'con-1', subject: 's', body: 'b' }],
    ['hand_off', { reason: 'ambiguous', candidates: ['con-0001', 'con-0002'] }],
    ['escalate', { reason: 'security' }],
    ['no_action', { reason: 'OPTED_OUT' }],
  ] as const)('%s accepts %j', (name, args) => {
    expect(AGENT_TOOLS[name].schema.safeParse(args).success).toBe(true);
  });
});
