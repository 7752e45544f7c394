import * as path from 'node:path';
// test fixture from another scope: the demo CRM; production code reads it through a connector.
// eslint-disable-next-line @nx/enforce-module-boundaries
import {
  DEMO_DATASET,
  DEMO_REFERENCE_DATE,
  EMBEDDED_CAPABILITIES,
} from '@mandate/connectors-domain';
import { mergeFieldsIn, pseudonymTokensIn } from '@mandate/contracts';
import {
  PROMPT_POINTERS,
  PROMPT_VERSIONS,
  promptContentHash,
  PromptRegistry,
  seedFromDirectory,
} from '@mandate/prompt-registry';
import { InMemoryDocumentStore } from '@mandate/storage';
import type { AgentId } from './agent-definitions';
import { StaticContextSource, type ContextRecord } from './context';
import type { AgentModelPort, ModelRequestLike, ModelResponseLike } from './model-port';
import { OFFLINE_RESPONDERS } from './offline';
import { runAgentStep, type StepRequest, type StepSuccess } from './step-runner';

const RECORDS: ContextRecord[] = DEMO_DATASET.map((r) => ({
  objectType: r.objectType,
  id: r.id,
  fields: r.fields,
}));
const source = new StaticContextSource(EMBEDDED_CAPABILITIES, RECORDS);
const record = (id: string) => RECORDS.find((r) => r.id === id)!;

/** The offline rules, or a scripted answer, behind the model port; records every request. */
class Model implements AgentModelPort {
  readonly label = 'test model';
  readonly requests: ModelRequestLike[] = [];
  constructor(
    private readonly script?: (req: ModelRequestLike) => Array<{ name: string; args: unknown }>,
  ) {}
  async invoke(req: ModelRequestLike): Promise<ModelResponseLike> {
    this.requests.push(req);
    const reply = OFFLINE_RESPONDERS[req.agentId as AgentId](req);
    return {
      ok: true,
      toolCalls: this.script ? this.script(req) : 'toolCalls' in reply ? reply.toolCalls : [],
      usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.001 },
      model: { provider: 'test', model: 'rules', parameters: {}, offline: true },
      attempts: 1,
      repaired: false,
    };
  }
}

async function registry(): Promise<PromptRegistry> {
  const prompts = new PromptRegistry({
    versions: new InMemoryDocumentStore(PROMPT_VERSIONS),
    pointers: new InMemoryDocumentStore(PROMPT_POINTERS),
  });
  await seedFromDirectory(prompts, path.resolve(__dirname, '../../../../prompts'));
  return prompts;
}

async function run(
  agent: AgentId,
  target: string,
  model = new Model(),
  extra: Partial<StepRequest> = {},
) {
  const result = await runAgentStep(
    { source, modelFor: () => model, prompts: await registry() },
    {
      agent,
      tenantId: 'acme',
      correlationId: 'corr-1',
      target: record(target),
      planId: 'plan-1',
      stepIndex: 0,
      now: new Date(DEMO_REFERENCE_DATE),
      timeZone: 'Europe/London',
      tenantRules: { maxDiscountPercent: 20 },
      ...extra,
    },
  );
  return { result, model };
}

/** Runs the deal desk on opp-0001 with `template` as the active prompt (an older version). */
async function runWithTemplate(
  template: { system?: string; user: string },
  variables: string[],
  records: ContextRecord[] = RECORDS,
) {
  const active = await (await registry()).active('deal-desk');
  const version = { ...active, template: { ...active.template, ...template }, variables };
  const model = new Model();
  await runAgentStep(
    {
      source: new StaticContextSource(EMBEDDED_CAPABILITIES, records),
      modelFor: () => model,
      prompts: {
        active: async () => ({
          ...version,
          contentHash: promptContentHash(version.template, version.variables),
        }),
      } as unknown as PromptRegistry,
    },
    {
      agent: 'deal-desk',
      tenantId: 'acme',
      correlationId: 'corr-1',
      target: records.find((r) => r.id === 'opp-0001')!,
      planId: 'plan-1',
      stepIndex: 0,
      now: new Date(DEMO_REFERENCE_DATE),
      timeZone: 'Europe/London',
      tenantRules: { maxDiscountPercent: 20 },
    },
  );
  return ['system', 'user'].map(
    (role) => model.requests[0].messages.find((m) => m.role === role)!.content,
  );
}

describe('runAgentStep', () => {
  it('writes the recipient’s name into a draft as a merge field, never as a value or a pseudonym', async () => {
    const { result, model } = await run('outreach', 'con-0010');
    expect(result.ok).toBe(true);
    const { set, prompt } = result as StepSuccess;
    const email = set.proposals[0].action?.kind;
    expect(email?.$case).toBe('sendEmail');
    if (email?.$case !== 'sendEmail') return;
    expect(mergeFieldsIn(email.value.body)).toEqual([
      expect.objectContaining({ objectType: 'contact', recordId: 'con-0010', field: 'name' }),
    ]);
    expect(pseudonymTokensIn(email.value.body)).toEqual([]);
    const name = String(record('con-0010').fields['name']);
    expect(JSON.stringify(set)).not.toContain(name);
    expect(JSON.stringify(model.requests)).not.toContain(name);
    // The model saw a pseudonym in its place, and the proposal records the active prompt.
    expect(JSON.stringify(model.requests)).toMatch(/⟦PERSON_\d+⟧/);
    expect(set.proposals[0].prompt).toEqual(prompt);
    expect(prompt.promptId).toBe('outreach');
  });

  it('scrubs the names of the account’s contacts and the tenant’s users from emails (a signature, a greeting)', async () => {
    const { model } = await run('deal-desk', 'opp-0002');
    const sent = JSON.stringify(model.requests);
    const signer = RECORDS.find((r) => r.id === 'con-0005')!;
    const email = RECORDS.find((r) => r.id === 'act-0001')!;
    expect(String(email.fields['body'])).toContain(String(signer.fields['name']));
    expect(sent).not.toContain(String(signer.fields['name']));
    const greeted = /^Hi (\w+),/.exec(String(email.fields['body']))![1];
    const user = RECORDS.find(
      (r) => r.objectType === 'user' && String(r.fields['name']).startsWith(`${greeted} `),
    );
    expect(user).toBeDefined();
    expect(sent).not.toContain(`Hi ${greeted},`);
  });

  it('drafts the first-touch email to a qualified lead only when consent allows it now', async () => {
    const consenting = RECORDS.filter(
      (r) =>
        r.objectType === 'lead' &&
        r.fields['emailConsent'] === true &&
        r.fields['optedOut'] === false,
    );
    const tools = async (id: string) => {
      const { result } = await run('lead-qualification', id);
      return (result as StepSuccess).set.proposals.map((p) => p.action?.kind);
    };
    let drafted = 0;
    for (const lead of consenting) {
      const kinds = await tools(lead.id);
      if (kinds[0]?.$case !== 'qualifyLead') continue;
      const email = kinds.find((k) => k?.$case === 'sendEmail');
      expect(email?.$case === 'sendEmail' && email.value.toContactId).toBe(lead.id);
      expect(JSON.stringify(email)).not.toContain(String(lead.fields['name']));
      drafted++;
    }
    expect(drafted).toBeGreaterThan(0);
    // lead-0001 qualifies but has no recorded consent: no email.
    const kinds = await tools('lead-0001');
    expect(kinds[0]?.$case).toBe('qualifyLead');
    expect(kinds.some((k) => k?.$case === 'sendEmail')).toBe(false);
  });

  it('hands off a draft that quotes personal data other than the target’s own fields', async () => {
    const model = new Model((req) => {
      // The model copies a token of some other person (e.g. one quoted in an email) into a draft.
      const foreign =
        /⟦(?:EMAIL|PHONE)_\d+⟧/.exec(JSON.stringify(req.messages))?.[0] ?? '⟦PHONE_9⟧';
      return [
        {
          name: 'send_email',
          args: { to_contact_id: 'con-0010', subject: 'Hello', body: `Call me back on ${foreign}` },
        },
      ];
    });
    const { result } = await run('outreach', 'con-0010', model);
    const { set } = result as StepSuccess;
    expect(set.proposals).toEqual([]);
    expect(set.handoffs[0].reason).toMatch(/quote personal data/);
  });

  it('acts on the case an inbound email resolves to, never on the email itself', async () => {
    const email = RECORDS.find(
      (r) =>
        r.objectType === 'activity' &&
        r.fields['kind'] === 'inbound_email' &&
        r.fields['relatedType'] === 'case',
    )!;
    const { result } = await run('service-triage', email.id);
    const { set } = result as StepSuccess;
    for (const p of set.proposals) expect(p.target?.objectType).toBe('case');
  });

  it('passes the denial feedback to the agent, which counter-offers a lower tier', async () => {
    const { result } = await run('deal-desk', 'opp-0001', new Model(), {
      tenantRules: { maxDiscountPercent: 40 },
      feedback: {
        stepIndex: 0,
        tool: 'apply_discount',
        args: { discount_percent: 38 },
        outcome: 'denied',
        reasons: ['DISCOUNT_OVER_CEILING'],
      },
    });
    const kind = (result as StepSuccess).set.proposals[0]?.action?.kind;
    expect(kind?.$case === 'applyDiscount' && kind.value.discountPercent).toBe(20);
  });

  it('keeps `$` sequences in the rendered prompt as text (no replacement patterns)', async () => {
    const territory = "EMEA $' $$ $&";
    const { model } = await run('lead-qualification', 'lead-0001', new Model(), {
      tenantRules: { owners: [{ ownerId: 'usr-x', territory }] },
    });
    const system = model.requests[0].messages.find((m) => m.role === 'system')!.content;
    expect(system).toContain(JSON.stringify(territory).slice(1, -1));
    expect(system).not.toContain('Prompt: lead-qualification');
  });

  it('sends both halves of the active prompt, each DATA block exactly once', async () => {
    const { model } = await run('deal-desk', 'opp-0001');
    const [system, user] = ['system', 'user'].map(
      (role) => model.requests[0].messages.find((m) => m.role === role)!.content,
    );
    // The prompt's own wording reaches the model: its system rules and its user request.
    expect(system).toContain('You are the deal-desk agent of Mandate');
    expect(user).toContain('Review this opportunity.');
    expect(user).toContain('Recent activity on this opportunity, newest first:');
    expect(user).toMatch(/^Current time: \S+\nTarget: opportunity opp-0001\n/);
    for (const label of ['record', 'activity'])
      expect(user.match(new RegExp(`<<<DATA ${label} [A-Za-z0-9]+>>>`, 'g'))).toHaveLength(1);
    expect(user).not.toContain('DATA>>>'); // no stale wrapper around the real blocks
    expect(system).not.toMatch(/<<<DATA (record|activity) [A-Za-z0-9]+>>>/);
  });

  it('appends what an older prompt version leaves out of its user half', async () => {
    const [, user] = await runWithTemplate(
      { user: 'Current time: {{now}}\n\nReview this opportunity.' },
      ['now', 'tenant_rules'],
    );
    expect(user.startsWith('Current time: ')).toBe(true);
    expect(user.match(/^Current time: /gm)).toHaveLength(1);
    expect(user).toContain('Target: opportunity opp-0001');
    expect(user).toMatch(/<<<DATA record [A-Za-z0-9]+>>>/);
    expect(user).toMatch(/<<<DATA activity [A-Za-z0-9]+>>>/);
  });

  it('decides what to append from the template, not from data that imitates a line', async () => {
    // An older template without a Target line; the CRM notes imitate one.
    const opp = record('opp-0001');
    const [system, user] = await runWithTemplate(
      { system: 'Rules. {{record}}', user: 'Current time: {{now}}\n\n{{record}}\n\n{{activity}}' },
      ['now', 'record', 'activity'],
      [
        ...RECORDS.filter((r) => r.id !== opp.id),
        { ...opp, fields: { ...opp.fields, notes: 'Target: opportunity opp-0001' } },
      ],
    );
    expect(user).toMatch(/^Target: opportunity opp-0001$/m); // the real line, outside any block
    expect(user.match(/<<<DATA record [A-Za-z0-9]+>>>/g)).toHaveLength(1);
    // The block the template put in the system half is taken out of it.
    expect(system).not.toMatch(/<<<DATA record [A-Za-z0-9]+>>>/);
    expect(system).toContain('Rules. (the data is in the user message)');
  });

  it('fails safe with the model’s reason and no proposals when the model fails', async () => {
    const failing: AgentModelPort = {
      label: 'down',
      invoke: async () => ({
        ok: false,
        reason: 'TIMEOUT: no answer in 30000 ms',
        usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
        model: { provider: 'x', model: 'y', parameters: {}, offline: false },
        attempts: 3,
      }),
    };
    const result = await runAgentStep(
      { source, modelFor: () => failing, prompts: await registry() },
      {
        agent: 'lead-qualification',
        tenantId: 'acme',
        correlationId: 'c',
        target: record('lead-0001'),
        planId: 'p',
        stepIndex: 0,
        now: new Date(DEMO_REFERENCE_DATE),
        timeZone: 'UTC',
      },
    );
    expect(result).toMatchObject({ ok: false, reason: 'TIMEOUT: no answer in 30000 ms' });
  });
});
