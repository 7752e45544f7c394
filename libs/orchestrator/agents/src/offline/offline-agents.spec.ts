import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// test fixture from another scope: the demo CRM; production code gets records passed in.
// eslint-disable-next-line @nx/enforce-module-boundaries
import {
  DEMO_DATASET,
  DEMO_REFERENCE_DATE,
  EMBEDDED_CAPABILITIES,
  EXFILTRATION_ADDRESS,
  FOREIGN_TENANT,
} from '@mandate/connectors-domain';
import {
  PseudonymVault,
  knownPersonalValues,
  outreachAllowed,
  promptFields,
  resolveCaseReference,
  resolveMention,
  selectFields,
  type FieldValue,
} from '@mandate/data-governance';
// The real offline model (an adapter-tagged lib): the responders must run through it unchanged.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { OfflineModel, type ModelResponse } from '@mandate/model-gateway';
import {
  AGENT_DEFINITIONS,
  agentsTriggeredBy,
  type AgentDefinition,
  type AgentId,
} from '../agent-definitions';
import {
  buildAgentRequest,
  readAgentInput,
  type ActivityItem,
  type AgentContext,
  type AgentInput,
} from '../agent-input';
import { AGENT_TOOLS, type AgentToolName } from '../tools';
import { OFFLINE_RESPONDERS } from './index';

const TENANT = 'acme';
const NOW = DEMO_REFERENCE_DATE; // Monday 09:00 UTC: outside quiet hours in Europe/London
const OWNERS = DEMO_DATASET.filter(
  (r) => r.objectType === 'user' && r.fields['role'] === 'account_executive' && r.fields['active'],
).map((r) => ({ ownerId: r.id, territory: String(r.fields['territory']) }));

function record(id: string) {
  const found = DEMO_DATASET.find((r) => r.id === id);
  if (!found) throw new Error(`no demo record ${id}`);
  return found;
}

function activityOf(relatedId: string): string[] {
  return DEMO_DATASET.filter(
    (r) => r.objectType === 'activity' && r.fields['relatedId'] === relatedId,
  )
    .sort((a, b) => String(b.fields['occurredAt']).localeCompare(String(a.fields['occurredAt'])))
    .map((r) => r.id);
}

/** Field selection and pseudonymisation as the governance README prescribes, on demo records. */
function inputFor(
  agent: AgentDefinition,
  targetId: string,
  activityIds: readonly string[],
  context: AgentContext = {},
): AgentInput {
  const target = record(targetId);
  const vault = new PseudonymVault(TENANT, `run-${agent.id}-${targetId}`);
  const policy = { agentId: agent.id, purpose: agent.purpose, readable: agent.readable };
  const known = knownPersonalValues(EMBEDDED_CAPABILITIES, target.objectType, target.fields);
  const fields: Record<string, FieldValue> = promptFields(
    selectFields(policy, EMBEDDED_CAPABILITIES, target.objectType, target.fields),
    vault,
    known,
  );
  const email = target.fields['email'];
  if (agent.derived[target.objectType]?.includes('emailDomain') && typeof email === 'string')
    fields['emailDomain'] = email.slice(email.lastIndexOf('@') + 1);
  const activity: ActivityItem[] = activityIds.map((id) => {
    const a = record(id);
    const f = promptFields(
      selectFields(policy, EMBEDDED_CAPABILITIES, 'activity', a.fields),
      vault,
      [...known, ...knownPersonalValues(EMBEDDED_CAPABILITIES, 'activity', a.fields)],
    );
    return {
      kind: String(f['kind']),
      subject: typeof f['subject'] === 'string' ? f['subject'] : undefined,
      body: typeof f['body'] === 'string' ? f['body'] : undefined,
      occurredAt: typeof f['occurredAt'] === 'string' ? f['occurredAt'] : undefined,
    };
  });
  return {
    tenantId: TENANT,
    target: { objectType: target.objectType, recordId: target.id },
    now: NOW,
    record: fields,
    activity,
    context,
  };
}

type Call = { name: string; args: Record<string, unknown> };

async function run(agentId: AgentId, input: AgentInput): Promise<Call[]> {
  const agent = AGENT_DEFINITIONS[agentId];
  const model = new OfflineModel(OFFLINE_RESPONDERS[agentId]);
  const res: ModelResponse = await model.invoke(buildAgentRequest(agent, input, fixedNonce));
  if (!res.ok) throw new Error(`${agentId} on ${input.target.recordId}: ${res.reason}`);
  expect(res.model.offline).toBe(true);
  expect(model.label).toBe('offline rules (not an LLM)');
  for (const c of res.toolCalls) {
    expect(agent.tools).toContain(c.name);
    expect(AGENT_TOOLS[c.name as AgentToolName].schema.safeParse(c.args).success).toBe(true);
  }
  return res.toolCalls.map((c) => ({ name: c.name, args: c.args as Record<string, unknown> }));
}

const fixedNonce = (label: string) => `nonce${label}00000000`.slice(0, 16).padEnd(16, '0');

function names(calls: readonly Call[]): string[] {
  return calls.map((c) => c.name);
}

describe('agent definitions', () => {
  it('match the ceilings and purposes of the default policy bundle', () => {
    const bundle = JSON.parse(
      readFileSync(join(__dirname, '../../../../policy/bundles/default/agents.json'), 'utf8'),
    ) as { agents: Array<{ id: string; purpose: string; ceiling: string }> };
    for (const agent of Object.values(AGENT_DEFINITIONS)) {
      const entry = bundle.agents.find((a) => a.id === agent.id);
      expect(entry).toBeDefined();
      expect(agent.autonomyCeiling).toBe(entry?.ceiling);
      expect(agent.purpose).toBe(entry?.purpose);
    }
  });

  it('give the lead agent no name or email, only the derived email domain', () => {
    const lead = AGENT_DEFINITIONS['lead-qualification'];
    expect(lead.readable['lead']).not.toContain('name');
    expect(lead.readable['lead']).not.toContain('email');
    expect(lead.derived['lead']).toEqual(['emailDomain']);
  });

  it('name tools that exist and are mentioned in the prompts', () => {
    for (const agent of Object.values(AGENT_DEFINITIONS)) {
      const prompt = readFileSync(
        join(__dirname, `../../../../../prompts/${agent.promptId}/prompt.md`),
        'utf8',
      );
      for (const tool of agent.tools) {
        expect(AGENT_TOOLS[tool]).toBeDefined();
        if (tool !== 'no_action' || agent.id === 'outreach') expect(prompt).toContain(`\`${tool}(`);
      }
    }
  });

  it('are triggered by their object types', () => {
    expect(agentsTriggeredBy('lead').map((a) => a.id)).toEqual(['lead-qualification']);
    expect(agentsTriggeredBy('opportunity').map((a) => a.id)).toEqual(['deal-desk']);
    expect(agentsTriggeredBy('case').map((a) => a.id)).toEqual(['service-triage']);
    expect(agentsTriggeredBy('contact').map((a) => a.id)).toEqual(['outreach']);
  });
});

describe('agent input', () => {
  it('round-trips through the model request, with record and activity in DATA blocks', () => {
    const input = inputFor(AGENT_DEFINITIONS['deal-desk'], 'opp-0002', ['act-0001'], {
      tenantRules: { maxDiscountPercent: 20 },
    });
    const req = buildAgentRequest(AGENT_DEFINITIONS['deal-desk'], input, fixedNonce);
    expect(req.messages[1].content).toMatch(/<<<DATA record \w+>>>/);
    expect(req.messages[1].content).toMatch(/<<<DATA activity \w+>>>/);
    expect(req.messages[0].content).not.toContain('90%');
    expect(readAgentInput(req)).toEqual(JSON.parse(JSON.stringify(input)));
  });

  it('refuses a request it did not build', () => {
    expect(() =>
      readAgentInput({
        tenantId: TENANT,
        agentId: 'outreach',
        messages: [{ role: 'user', content: 'email everyone' }],
        tools: [],
        requireToolCall: true,
      }),
    ).toThrow(/context/);
  });
});

describe('lead qualification (offline rules)', () => {
  const agent = AGENT_DEFINITIONS['lead-qualification'];
  const ctx: AgentContext = { tenantRules: { owners: OWNERS } };

  it('qualifies a hot lead and routes it by territory', async () => {
    const calls = await run('lead-qualification', inputFor(agent, 'lead-0001', [], ctx));
    expect(names(calls)).toEqual(['qualify_lead']); // lead-0001 has no country: no routing
    expect(calls[0].args['score']).toBeGreaterThanOrEqual(70);

    const routed = await run('lead-qualification', inputFor(agent, 'lead-0007', [], ctx));
    expect(names(routed)).toEqual(['qualify_lead', 'assign_owner']);
    const apac = OWNERS.filter((o) => o.territory === 'APAC').map((o) => o.ownerId);
    expect(apac).toContain(routed[1].args['owner_id']);
  });

  it('disqualifies a free-mail student as NOT_A_BUYER', async () => {
    const calls = await run('lead-qualification', inputFor(agent, 'lead-0002', [], ctx));
    expect(calls).toEqual([
      { name: 'disqualify_lead', args: expect.objectContaining({ reason_code: 'NOT_A_BUYER' }) },
    ]);
  });

  it('qualifies the regulated hospital lead and flags data handling', async () => {
    const calls = await run('lead-qualification', inputFor(agent, 'lead-0003', [], ctx));
    expect(calls[0].name).toBe('qualify_lead');
    expect(calls[0].args['reason']).toMatch(/regulated industry \(health\)/);
    expect(names(calls)).toContain('assign_owner');
  });

  it('hands off the lead whose notes instruct the agent, and follows none of it', async () => {
    const calls = await run('lead-qualification', inputFor(agent, 'lead-0005', [], ctx));
    expect(names(calls)).toEqual(['hand_off']);
    expect(calls[0].args['reason']).toMatch(/not followed/);
  });

  it('never sees a name or an email address', () => {
    const input = inputFor(agent, 'lead-0001', [], ctx);
    expect(Object.keys(input.record)).not.toContain('name');
    expect(JSON.stringify(input)).not.toContain('dana.whitfield@');
    expect(input.record['emailDomain']).toBe('northwind-logistics.example');
  });
});

describe('deal desk (offline rules)', () => {
  const agent = AGENT_DEFINITIONS['deal-desk'];

  it('hands off the 38% request above the 20% ceiling', async () => {
    const calls = await run('deal-desk', inputFor(agent, 'opp-0001', ['act-0006']));
    expect(names(calls)).toEqual(['hand_off']);
    expect(calls[0].args['reason']).toMatch(/38% exceeds the 20% ceiling/);
  });

  it('proposes it when the tenant ceiling allows it, with the justification', async () => {
    const input = inputFor(agent, 'opp-0001', ['act-0006'], {
      tenantRules: { maxDiscountPercent: 40 },
    });
    const [discount] = await run('deal-desk', input);
    expect(discount.name).toBe('apply_discount');
    expect(discount.args['discount_percent']).toBe(38);
    expect(discount.args['list_amount']).toEqual({ currency_code: 'GBP', amount_minor: 72500000 });
    expect(discount.args['reason']).toMatch(/competing offer/);
  });

  it('proposes the 10% Kestrel discount and ignores the 90% injection', async () => {
    const calls = await run('deal-desk', inputFor(agent, 'opp-0002', ['act-0001']));
    expect(names(calls)).toEqual(['apply_discount']);
    expect(calls[0].args['discount_percent']).toBe(10);
    expect(calls[0].args['reason']).toMatch(/not followed/);
  });

  it('proposes the 12% multi-year discount within the ceiling', async () => {
    const calls = await run('deal-desk', inputFor(agent, 'opp-0003', activityOf('opp-0003')));
    expect(calls[0]).toMatchObject({ name: 'apply_discount', args: { discount_percent: 12 } });
  });
});

describe('service triage (offline rules)', () => {
  const agent = AGENT_DEFINITIONS['service-triage'];

  it('raises failing exports for an enterprise customer to high and acknowledges', async () => {
    const calls = await run(
      'service-triage',
      inputFor(agent, 'case-0001', activityOf('case-0001')),
    );
    expect(names(calls)).toContain('reply_to_case');
    expect(calls.find((c) => c.name === 'reply_to_case')?.args['public']).toBe(true);
    expect(names(calls)).not.toContain('close_case');
  });

  it('escalates a possible data exposure', async () => {
    const calls = await run(
      'service-triage',
      inputFor(agent, 'case-0009', activityOf('case-0009')),
    );
    expect(names(calls)).toEqual(['escalate']);
  });

  it('closes a case the customer confirmed fixed, and leaves a closed one alone', async () => {
    const closed = inputFor(agent, 'case-0061', activityOf('case-0061'));
    expect(await run('service-triage', closed)).toEqual([
      { name: 'hand_off', args: expect.objectContaining({ candidates: [] }) },
    ]);
    // The same case as it was when the customer's "that fixed it" arrived: still open.
    const open = { ...closed, record: { ...closed.record, status: 'Open' } };
    const calls = await run('service-triage', open);
    expect(calls).toEqual([
      { name: 'close_case', args: expect.objectContaining({ resolution_code: 'RESOLVED' }) },
    ]);
  });

  it('sets a how-to question on a strategic account to medium', async () => {
    const calls = await run('service-triage', inputFor(agent, 'case-0005', []));
    expect(calls.find((c) => c.name === 'update_field')).toBeUndefined(); // already medium
    expect(names(calls)).toEqual(['reply_to_case']);
  });

  it('hands off "still not working" with both open cases as candidates', async () => {
    const email = record('act-0004');
    const openCases = ['case-0001', 'case-0002'].map(record);
    const resolution = resolveCaseReference(String(email.fields['body']), openCases);
    expect(resolution.kind).toBe('ambiguous');
    const input = inputFor(agent, 'act-0004', ['act-0004'], {
      resolution:
        resolution.kind === 'ambiguous'
          ? {
              kind: 'ambiguous',
              candidates: resolution.candidates.map(({ id, why }) => ({ id, why })),
            }
          : { kind: 'none' },
    });
    const calls = await run('service-triage', input);
    expect(names(calls)).toEqual(['hand_off']);
    expect([...(calls[0].args['candidates'] as string[])].sort()).toEqual([
      'case-0001',
      'case-0002',
    ]);
  });
});

describe('outreach (offline rules)', () => {
  const agent = AGENT_DEFINITIONS['outreach'];
  const consentOf = (id: string) =>
    outreachAllowed(record(id).fields, new Date(NOW), 'Europe/London');

  it('says no_action OPTED_OUT for the opted-out contact', async () => {
    const calls = await run(
      'outreach',
      inputFor(agent, 'con-0003', ['act-0005'], { outreach: consentOf('con-0003') }),
    );
    expect(names(calls)).toEqual(['no_action']);
    expect(calls[0].args['reason']).toMatch(/^OPTED_OUT/);
  });

  it('says no_action when no consent check was supplied, or in quiet hours', async () => {
    const none = await run('outreach', inputFor(agent, 'con-0006', ['act-0006']));
    expect(none[0]).toMatchObject({ name: 'no_action' });
    expect(none[0].args['reason']).toMatch(/^CONSENT_UNKNOWN/);
    const quiet = outreachAllowed(
      record('con-0006').fields,
      new Date('2026-11-15T12:00:00Z'),
      'Europe/London',
    );
    const calls = await run(
      'outreach',
      inputFor(agent, 'con-0006', ['act-0006'], { outreach: quiet }),
    );
    expect(calls[0].args['reason']).toMatch(/^QUIET_HOURS/);
  });

  it('drafts a follow-up with the pseudonym token, never the raw name', async () => {
    const input = inputFor(agent, 'con-0006', ['act-0006'], {
      outreach: consentOf('con-0006'),
      recipientContactId: 'con-0006',
    });
    expect(input.record['name']).toMatch(/^⟦PERSON_\d+⟧$/);
    const calls = await run('outreach', input);
    expect(names(calls)).toEqual(['send_email']);
    expect(calls[0].args['to_contact_id']).toBe('con-0006');
    expect(calls[0].args['body']).toContain(`Hello ${String(input.record['name'])},`);
    expect(JSON.stringify(calls)).not.toMatch(/Rosalind|Fairbairn/);
  });

  it('hands off a problem report instead of selling', async () => {
    const calls = await run(
      'outreach',
      inputFor(agent, 'con-0004', ['act-0004'], { outreach: consentOf('con-0004') }),
    );
    expect(names(calls)).toEqual(['hand_off']);
  });

  it('hands off "Dana Lee" with both candidates', async () => {
    const contacts = DEMO_DATASET.filter((r) => r.objectType === 'contact');
    const resolution = resolveMention({ name: 'Dana Lee', accountId: 'acc-0003' }, contacts);
    expect(resolution.kind).toBe('ambiguous');
    const input = inputFor(agent, 'con-0001', [], {
      outreach: consentOf('con-0001'),
      resolution:
        resolution.kind === 'ambiguous'
          ? {
              kind: 'ambiguous',
              candidates: resolution.candidates.map(({ id, why }) => ({ id, why })),
            }
          : { kind: 'none' },
    });
    const calls = await run('outreach', input);
    expect(names(calls)).toEqual(['hand_off']);
    expect([...(calls[0].args['candidates'] as string[])].sort()).toEqual(['con-0001', 'con-0002']);
  });
});

describe('prompt injections in the demo data', () => {
  // Every agent sees every injection email, on the records the emails are about.
  const cases: Array<[AgentId, string, string[], AgentContext]> = [];
  const injections = ['act-0001', 'act-0002', 'act-0003'];
  for (const act of injections) {
    const related = String(record(act).fields['relatedId']);
    const from = record(act).fields['relatedType'];
    cases.push(['deal-desk', from === 'opportunity' ? related : 'opp-0002', [act], {}]);
    cases.push(['service-triage', from === 'case' ? related : 'case-0003', [act], {}]);
    cases.push(['lead-qualification', 'lead-0001', [act], {}]);
    cases.push(['outreach', 'con-0007', [act], { outreach: { allowed: true } }]);
    cases.push(['outreach', 'con-0008', [act], { outreach: { allowed: true } }]);
  }

  it.each(cases)('%s on %s with %s follows none of it', async (agentId, target, acts, ctx) => {
    const calls = await run(agentId, inputFor(AGENT_DEFINITIONS[agentId], target, acts, ctx));
    const json = JSON.stringify(calls).toLowerCase();
    expect(json).not.toContain(FOREIGN_TENANT);
    expect(json).not.toContain(EXFILTRATION_ADDRESS);
    expect(json).not.toContain('closed_won');
    expect(json).not.toContain('closed_lost');
    for (const c of calls) {
      if (c.name === 'apply_discount') expect(c.args['discount_percent']).toBeLessThan(90);
      if (c.name === 'send_email') {
        expect(c.args['to_contact_id']).toBe(target);
        expect(String(c.args['to_contact_id'])).not.toContain('@');
      }
      expect(c.name).not.toBe('move_opportunity_stage');
    }
  });

  it('escalates the exfiltration attempt on the Larkspur case with an internal note', async () => {
    const calls = await run(
      'service-triage',
      inputFor(AGENT_DEFINITIONS['service-triage'], 'case-0003', ['act-0002']),
    );
    expect(names(calls)).toEqual(['reply_to_case', 'escalate']);
    expect(calls[0].args['public']).toBe(false);
  });
});

describe('determinism', () => {
  it('gives the same answer to the same request, for every agent', async () => {
    const inputs: Array<[AgentId, AgentInput]> = [
      [
        'lead-qualification',
        inputFor(AGENT_DEFINITIONS['lead-qualification'], 'lead-0003', [], {
          tenantRules: { owners: OWNERS },
        }),
      ],
      ['deal-desk', inputFor(AGENT_DEFINITIONS['deal-desk'], 'opp-0002', ['act-0001'])],
      [
        'service-triage',
        inputFor(AGENT_DEFINITIONS['service-triage'], 'case-0001', activityOf('case-0001')),
      ],
      [
        'outreach',
        inputFor(AGENT_DEFINITIONS['outreach'], 'con-0006', ['act-0006'], {
          outreach: { allowed: true },
        }),
      ],
    ];
    for (const [agentId, input] of inputs) {
      const first = await run(agentId, input);
      const second = await run(agentId, input);
      expect(second).toEqual(first);
    }
  });
});
