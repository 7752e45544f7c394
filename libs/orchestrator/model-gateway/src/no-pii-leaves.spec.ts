/**
 * No personal data leaves the process: the real ChatOpenAI client (behind
 * `OpenAiCompatibleGateway`) talks to a local server speaking the OpenAI chat-completions
 * protocol that records every request. Canary personal data is planted in demo CRM records
 * (a lead, a contact and her inbound email), the prompt is built the way an agent builds it
 * (field selection by data policy, pseudonymisation, untrusted-data blocks, the seeded
 * `lead-qualification` prompt), and no canary may appear in any recorded request, including
 * the repair round-trip after a malformed tool call. A negative control sends the same records
 * un-scrubbed through the same path and must be caught.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
// Test fixture from another scope: the demo CRM records and the embedded connector's field
// classifications; production code receives records and capabilities through the connector port.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { DEMO_DATASET, DEMO_SCENARIOS, EMBEDDED_CAPABILITIES } from '@mandate/connectors-domain';
import {
  PseudonymVault,
  UNTRUSTED_DATA_INSTRUCTION,
  canariesIn,
  canary,
  containsCanary,
  knownPersonalValues,
  promptFields,
  selectFields,
  untrustedBlock,
  type AgentDataPolicy,
  type KnownValue,
  type RecordFields,
} from '@mandate/data-governance';
import {
  PROMPT_POINTERS,
  PROMPT_VERSIONS,
  PromptRegistry,
  renderPrompt,
  seedFromDirectory,
  type PromptVersion,
} from '@mandate/prompt-registry';
import { InMemoryDocumentStore } from '@mandate/storage';
import { OpenAiCompatibleGateway } from './openai-gateway';
import { defineTool, type ChatMessage } from './port';
import { FakeOpenAi, fakeReply, type FakeChatRequest, type RecordedRequest } from './testing';

const REPOSITORY_PROMPTS = resolve(__dirname, '../../../../prompts');
const KEY = 'sk-test-no-pii-leaves-0001';
const TENANT = 'acme';
const AGENT = 'lead-qualification';
const NOW = '2026-11-16T09:00:00.000Z';
const TENANT_RULES = 'Qualify leads with a score of 60 or more. Disqualification codes: LOW_FIT.';

// ------------------------------------------------------------------------------ tools

const qualifyLead = defineTool({
  name: 'qualify_lead',
  description: 'The lead fits: a score from 0 to 100 and the signals that justify it.',
  schema: z.object({
    score: z.number().int().min(0).max(100),
    reason: z.string().min(1),
  }),
});
const sendEmail = defineTool({
  name: 'send_email',
  description: "A draft of a first email to this lead's own contact (reviewed before sending).",
  schema: z.object({
    to_contact_id: z.string().min(1),
    subject: z.string().min(1),
    body: z.string().min(1),
  }),
});
const TOOLS = [qualifyLead, sendEmail] as const;

// ------------------------------------------------------------------------------ data policy

/** What a lead-qualification agent may read (explicit fields; consent is checked in code). */
const LEAD_QUALIFICATION_POLICY: AgentDataPolicy = {
  agentId: AGENT,
  purpose: 'lead-qualification',
  readable: {
    lead: ['name', 'email', 'company', 'title', 'employees', 'industry', 'source', 'notes'],
    contact: ['name', 'email', 'phone', 'title', 'accountId', 'industry'],
    activity: ['kind', 'subject', 'body', 'fromAddress', 'occurredAt'],
  },
};

/** Fields holding text written by people outside the company: wrapped as untrusted data. */
const FREE_TEXT: Readonly<Record<string, readonly string[]>> = {
  lead: ['notes'],
  activity: ['subject', 'body'],
};

// ------------------------------------------------------------------------------ fixture

interface CrmRecord {
  readonly objectType: 'lead' | 'contact' | 'activity';
  readonly id: string;
  readonly fields: RecordFields;
}

interface CanaryRun {
  readonly lead: CrmRecord;
  readonly contact: CrmRecord;
  readonly email: CrmRecord;
  readonly canaries: {
    readonly leadName: string;
    readonly leadEmail: string;
    readonly leadPhone: string;
    readonly leadAltEmail: string;
    readonly contactName: string;
    readonly contactEmail: string;
    readonly contactPhone: string;
    readonly colleagueEmail: string;
    readonly colleaguePhone: string;
  };
  readonly all: readonly string[];
}

function demoRecord(id: string): CrmRecord {
  const record = DEMO_DATASET.find((r) => r.id === id);
  if (!record) throw new Error(`demo record ${id} is missing`);
  if (
    record.objectType !== 'lead' &&
    record.objectType !== 'contact' &&
    record.objectType !== 'activity'
  )
    throw new Error(`demo record ${id} is a ${record.objectType}`);
  return { objectType: record.objectType, id: record.id, fields: { ...record.fields } };
}

/**
 * A demo lead, a demo contact and her inbound email with every personal field and every piece
 * of free text replaced by canaries (fresh ones per test).
 */
function plantCanaries(): CanaryRun {
  const c = {
    leadName: canary('name'),
    leadEmail: canary('email'),
    leadPhone: canary('phone'),
    leadAltEmail: canary('email'),
    contactName: canary('name'),
    contactEmail: canary('email'),
    contactPhone: canary('phone'),
    colleagueEmail: canary('email'),
    colleaguePhone: canary('phone'),
  };
  const leadFirstName = c.leadName.split(' ')[0];
  const contactFirstName = c.contactName.split(' ')[0];

  const baseLead = demoRecord('lead-0001');
  const [, contactId, , , inboundId] = DEMO_SCENARIOS.twoOpenCases;
  const baseContact = demoRecord(contactId);
  const baseEmail = demoRecord(inboundId);
  expect(baseEmail.fields['kind']).toBe('inbound_email');
  expect(baseEmail.fields['relatedId']).toBe(baseContact.id);

  const lead: CrmRecord = {
    ...baseLead,
    fields: {
      ...baseLead.fields,
      name: c.leadName,
      email: c.leadEmail,
      notes:
        `Asked for pricing for 200 seats. ${c.leadName} prefers a call on ${c.leadPhone}, ` +
        `or mail to ${c.leadAltEmail} (private address). Signed: ${leadFirstName}.`,
    },
  };
  const contact: CrmRecord = {
    ...baseContact,
    fields: {
      ...baseContact.fields,
      name: c.contactName,
      email: c.contactEmail,
      phone: c.contactPhone,
    },
  };
  const email: CrmRecord = {
    ...baseEmail,
    fields: {
      ...baseEmail.fields,
      fromAddress: c.contactEmail,
      subject: `Pricing question from ${c.contactName}`,
      body:
        `Hi,\n\nPlease loop in ${c.leadName} (${c.leadEmail}) on the pricing thread. ` +
        `My direct line is ${c.contactPhone.replace(/\s/g, '')}; my colleague is on ` +
        `${c.colleaguePhone} and ${c.colleagueEmail}.\n\nThanks,\n${contactFirstName}`,
    },
  };
  return { lead, contact, email, canaries: c, all: Object.values(c) };
}

// ------------------------------------------------------------------------------ prompt building

async function seededLeadQualificationPrompt(): Promise<PromptVersion> {
  const registry = new PromptRegistry({
    versions: new InMemoryDocumentStore(PROMPT_VERSIONS),
    pointers: new InMemoryDocumentStore(PROMPT_POINTERS),
  });
  await seedFromDirectory(registry, REPOSITORY_PROMPTS);
  return registry.active('lead-qualification');
}

/**
 * One record as the model sees it: only the fields the data policy allows; with a vault,
 * personal values become tokens and other strings are scrubbed with the run's known personal
 * values; free text goes into an untrusted-data block. Without a vault (the negative control)
 * the same fields are sent in clear.
 */
function recordBlock(
  record: CrmRecord,
  vault: PseudonymVault | undefined,
  known: readonly KnownValue[],
): string {
  const selection = selectFields(
    LEAD_QUALIFICATION_POLICY,
    EMBEDDED_CAPABILITIES,
    record.objectType,
    record.fields,
  );
  const values = vault
    ? promptFields(selection, vault, known)
    : Object.fromEntries(selection.fields.map((f) => [f.name, f.value]));
  const freeText = FREE_TEXT[record.objectType] ?? [];
  const lines = [`${record.objectType} ${record.id}`];
  for (const [name, value] of Object.entries(values)) {
    if (freeText.includes(name) && typeof value === 'string')
      lines.push(`${name}:`, untrustedBlock(`${record.objectType}_${name}`, value));
    else lines.push(`${name}: ${JSON.stringify(value)}`);
  }
  return lines.join('\n');
}

async function leadQualificationMessages(
  run: CanaryRun,
  vault: PseudonymVault | undefined,
): Promise<ChatMessage[]> {
  // Every personal value the run knows, withheld fields included: a note or an email can quote
  // the lead's or the contact's name, address or phone.
  const known = [run.lead, run.contact, run.email].flatMap((r) =>
    knownPersonalValues(EMBEDDED_CAPABILITIES, r.objectType, r.fields),
  );
  const scrub = (text: string) => (vault ? vault.scrubText(text, known) : text);
  const vars = {
    record: [recordBlock(run.lead, vault, known), recordBlock(run.contact, vault, known)].join(
      '\n\n',
    ),
    activity: recordBlock(run.email, vault, known),
    now: scrub(NOW),
    tenant_rules: scrub(TENANT_RULES),
    target: `${run.lead.objectType} ${run.lead.id}`,
  };
  const rendered = renderPrompt(await seededLeadQualificationPrompt(), vars);
  return [
    { role: 'system', content: `${rendered.system}\n\n${UNTRUSTED_DATA_INSTRUCTION}` },
    { role: 'user', content: rendered.user },
  ];
}

// ------------------------------------------------------------------------------ helpers

/** Everything a recorded request carried: body, header values, path and query. */
function everythingSent(request: RecordedRequest): string {
  return [
    request.path,
    ...Object.values(request.query),
    ...Object.values(request.headers),
    request.body,
  ].join('\n');
}

function userContent(request: FakeChatRequest): string {
  const user = request.messages.find((m) => m.role === 'user');
  return typeof user?.content === 'string' ? user.content : JSON.stringify(user?.content);
}

/** What a model would do: address the lead by the token it was shown for the lead's name. */
function leadNameTokenIn(request: FakeChatRequest): string {
  const token = /lead lead-\d+\nname: "(⟦PERSON_\d+⟧)"/.exec(userContent(request))?.[1];
  if (!token) throw new Error('no pseudonymised lead name in the prompt');
  return token;
}

function draftEmailTo(nameToken: string) {
  return {
    to_contact_id: 'con-0004',
    subject: 'Your pricing request',
    body: `Hello ${nameToken},\n\nthanks for asking about pricing for 200 seats.`,
  };
}

/**
 * ChatOpenAI 1.5.8 may print an "upgrade your packages" notice through console.warn; that
 * notice is the only console output allowed, and it carries no content.
 */
const LANGCHAIN_NOTICE = /^New LangChain packages are available that more efficiently handle/;

// ------------------------------------------------------------------------------ tests

describe('no personal data leaves the process (real ChatOpenAI against a recording endpoint)', () => {
  let fake: FakeOpenAi;
  let gateway: OpenAiCompatibleGateway;
  let warn: jest.SpyInstance;

  beforeEach(async () => {
    warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    fake = await FakeOpenAi.start({ apiKey: KEY });
    gateway = new OpenAiCompatibleGateway({
      config: {
        routes: {
          default: {
            provider: 'openai',
            baseUrl: fake.baseUrl,
            apiKeyEnv: 'TEST_NO_PII_KEY',
            model: 'gpt-4o-mini',
            temperature: 0,
            timeoutMs: 5_000,
            maxRetries: 0,
            region: 'eu-west-1',
          },
        },
      },
      env: { TEST_NO_PII_KEY: KEY },
    });
  });

  afterEach(async () => {
    expect(fake.internalErrors).toEqual([]);
    await fake.close();
    for (const args of warn.mock.calls) {
      expect(args).toHaveLength(1);
      expect(String(args[0])).toMatch(LANGCHAIN_NOTICE);
    }
    warn.mockRestore();
  });

  /** The assertions every governed run must pass on what reached the endpoint. */
  function expectNoCanaryLeft(run: CanaryRun, vault: PseudonymVault, expectedRequests: number) {
    expect(fake.requests).toHaveLength(expectedRequests);
    expect(fake.chatRequests).toHaveLength(expectedRequests);
    for (const request of fake.requests) {
      expect(request.auth).toEqual({ scheme: 'bearer', valid: true });
      expect(canariesIn(everythingSent(request), run.all)).toEqual([]);
      expect(containsCanary(request.body, run.all)).toBe(false);
      expect(containsCanary(Object.values(request.headers).join('\n'), run.all)).toBe(false);

      // The data was pseudonymised, not dropped: the tokens the vault issued went out.
      const tokens = [
        vault.pseudonymise(run.canaries.leadName, 'person'),
        vault.pseudonymise(run.canaries.leadEmail, 'email'),
        vault.pseudonymise(run.canaries.contactName, 'person'),
        vault.pseudonymise(run.canaries.contactEmail, 'email'),
        vault.pseudonymise(run.canaries.contactPhone, 'phone'),
        // Found in free text by pattern: nobody told the vault about these.
        vault.pseudonymise(run.canaries.leadPhone, 'phone'),
        vault.pseudonymise(run.canaries.leadAltEmail, 'email'),
        vault.pseudonymise(run.canaries.colleaguePhone, 'phone'),
        vault.pseudonymise(run.canaries.colleagueEmail, 'email'),
      ];
      expect(new Set(tokens).size).toBe(tokens.length);
      // Checked in the user message only: the seeded system prompt quotes "⟦PERSON_1⟧" itself.
      const body = JSON.parse(request.body) as FakeChatRequest;
      const data = userContent(body);
      for (const token of tokens) {
        expect(token).toMatch(/^⟦(PERSON|EMAIL|PHONE)_\d+⟧$/);
        expect(data).toContain(token);
      }
      // Free text travelled inside untrusted-data blocks.
      expect(data).toMatch(/<<<DATA lead_notes [0-9a-f]{16}>>>/);
      expect(data).toMatch(/<<<DATA activity_body [0-9a-f]{16}>>>/);
      // The seeded prompt was rendered, and the tools were offered.
      expect(body.messages[0]?.content).toContain('You are the lead-qualification agent');
      expect(body.tools?.map((t) => t.function.name)).toEqual(['qualify_lead', 'send_email']);
    }
  }

  it('sends only tokens; the validated tool call comes back typed and restores in-process', async () => {
    const run = plantCanaries();
    const vault = new PseudonymVault(TENANT, 'run-no-pii-1');
    const messages = await leadQualificationMessages(run, vault);
    fake.respondWith((request) => {
      const nameToken = leadNameTokenIn(request);
      return fakeReply.toolCalls([
        {
          name: 'qualify_lead',
          arguments: {
            score: 82,
            reason: `VP Operations at an 850-person logistics company; ${nameToken} asked for pricing.`,
          },
        },
        { name: 'send_email', arguments: draftEmailTo(nameToken) },
      ]);
    });

    const response = await gateway.invoke({
      tenantId: TENANT,
      agentId: AGENT,
      messages,
      tools: TOOLS,
      requireToolCall: true,
    });

    expect(response.ok).toBe(true);
    if (!response.ok) throw new Error(response.reason);
    expect(response.repaired).toBe(false);
    expect(response.attempts).toBe(1);
    const sizeBefore = vault.size;
    expectNoCanaryLeft(run, vault, 1);
    expect(vault.size).toBe(sizeBefore);

    const leadToken = vault.pseudonymise(run.canaries.leadName, 'person');
    let draftBody: string | undefined;
    for (const call of response.toolCalls) {
      switch (call.name) {
        case 'qualify_lead': {
          const score: number = call.args.score; // typed by the zod schema
          expect(score).toBe(82);
          expect(call.args.reason).toContain(leadToken);
          break;
        }
        case 'send_email': {
          const body: string = call.args.body;
          expect(call.args.to_contact_id).toBe('con-0004');
          draftBody = body;
          break;
        }
      }
    }
    expect(response.toolCalls.map((c) => c.name)).toEqual(['qualify_lead', 'send_email']);

    // The model wrote the token; only the vault, in this process, maps it back.
    expect(draftBody).toBe(`Hello ${leadToken},\n\nthanks for asking about pricing for 200 seats.`);
    expect(containsCanary(draftBody ?? '', run.all)).toBe(false);
    const restored = vault.restoreForExecution(draftBody ?? '');
    expect(restored.unknownTokens).toEqual([]);
    expect(restored.text).toContain(`Hello ${run.canaries.leadName},`);
    expect(canariesIn(restored.text, run.all)).toEqual([run.canaries.leadName]);
    const draft = response.toolCalls.find((c) => c.name === 'send_email');
    if (draft?.name !== 'send_email') throw new Error('no send_email draft');
    const { payload, unknownTokens } = vault.restorePayloadForExecution(draft.args);
    expect(unknownTokens).toEqual([]);
    expect(payload.body).toContain(run.canaries.leadName);
    expect(draft.args.body).toContain(leadToken); // the validated call itself keeps the token
    // The vault itself never serialises its mapping.
    expect(containsCanary(JSON.stringify(vault), run.all)).toBe(false);
  });

  it('keeps the repair round-trip canary-free after a malformed tool call', async () => {
    const run = plantCanaries();
    const vault = new PseudonymVault(TENANT, 'run-no-pii-2');
    const messages = await leadQualificationMessages(run, vault);
    fake.respondWith((request, { requestIndex }) => {
      const nameToken = leadNameTokenIn(request);
      if (requestIndex === 0)
        // Schema violation: a score out of range and no reason.
        return fakeReply.toolCall('qualify_lead', { score: 900, note: `about ${nameToken}` });
      return fakeReply.toolCalls([
        {
          name: 'qualify_lead',
          arguments: { score: 75, reason: `${nameToken} asked for pricing.` },
        },
        { name: 'send_email', arguments: draftEmailTo(nameToken) },
      ]);
    });

    const response = await gateway.invoke({
      tenantId: TENANT,
      agentId: AGENT,
      messages,
      tools: TOOLS,
      requireToolCall: true,
    });

    expect(response.ok).toBe(true);
    if (!response.ok) throw new Error(response.reason);
    expect(response.repaired).toBe(true);
    expect(response.attempts).toBe(2);
    expectNoCanaryLeft(run, vault, 2);

    // The repair request really carried the malformed answer and the problem back.
    const repair = fake.chatBodies()[1];
    const assistant = repair.messages.find((m) => m.role === 'assistant');
    expect(assistant?.tool_calls?.[0]?.function.name).toBe('qualify_lead');
    expect(repair.messages.some((m) => m.role === 'tool')).toBe(true);
    expect(repair.messages.length).toBeGreaterThan(fake.chatBodies()[0].messages.length);

    const qualify = response.toolCalls.find((c) => c.name === 'qualify_lead');
    expect(qualify?.name === 'qualify_lead' && qualify.args.score).toBe(75);
    const draft = response.toolCalls.find((c) => c.name === 'send_email');
    const body = draft?.name === 'send_email' ? draft.args.body : '';
    expect(vault.restoreForExecution(body).text).toContain(`Hello ${run.canaries.leadName},`);
  });

  it('negative control: the same records un-scrubbed are caught in the recorded body', async () => {
    const run = plantCanaries();
    const messages = await leadQualificationMessages(run, undefined);
    fake.enqueue(fakeReply.toolCall('qualify_lead', { score: 50, reason: 'Fits.' }));

    const response = await gateway.invoke({
      tenantId: TENANT,
      agentId: AGENT,
      messages,
      tools: TOOLS,
      requireToolCall: true,
    });

    expect(response.ok).toBe(true);
    expect(fake.chatRequests).toHaveLength(1);
    const [request] = fake.chatRequests;
    expect(containsCanary(request.body, run.all)).toBe(true);
    // Every planted canary is detectable where it was planted.
    expect([...canariesIn(request.body, run.all)].sort()).toEqual([...run.all].sort());
    expect(userContent(JSON.parse(request.body) as FakeChatRequest)).not.toMatch(/⟦[A-Z]+_\d+⟧/);
  });
});
