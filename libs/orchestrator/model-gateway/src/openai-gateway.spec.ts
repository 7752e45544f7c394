import { z } from 'zod';
import { FakeOpenAi, fakeReply, type FakeResponder } from './testing';
import { parseGatewayConfig, type Route } from './config';
import { OpenAiCompatibleGateway, type GatewayOptions } from './openai-gateway';
import { defineTool, type ChatMessage, type ModelCallRecord } from './port';

const KEY = 'sk-test-KEY-must-never-leak-0001';
const KEY_B = 'sk-test-KEY-tenant-b-0002';
const ENV = { TEST_OPENAI_KEY: KEY, TENANT_B_KEY: KEY_B };

const qualifyLead = defineTool({
  name: 'qualify_lead',
  description: 'Propose a qualification decision for a lead.',
  schema: z.object({
    leadId: z.string().min(1),
    qualified: z.boolean(),
    score: z.number().min(0).max(1),
  }),
});
const proposeTask = defineTool({
  name: 'propose_task',
  description: 'Propose a follow-up task.',
  schema: z.object({ subject: z.string().min(1), dueInDays: z.number().int().min(0).max(30) }),
});
const TOOLS = [qualifyLead, proposeTask] as const;

const SYSTEM_PROMPT = 'You are the lead-qualification agent. PROMPT-MARKER-7f3a';
const USER_PROMPT = 'Lead L-1: VP Engineering at Acme, asked for pricing. CONTENT-MARKER-91bc';
const MESSAGES: ChatMessage[] = [
  { role: 'system', content: SYSTEM_PROMPT },
  { role: 'user', content: USER_PROMPT },
];
const VALID_ARGS = { leadId: 'L-1', qualified: true, score: 0.8 };

function route(fake: FakeOpenAi, extra: Partial<Route> = {}): Route {
  return {
    provider: 'openai',
    baseUrl: fake.baseUrl,
    apiKeyEnv: 'TEST_OPENAI_KEY',
    model: 'gpt-4o-mini',
    timeoutMs: 3_000,
    maxRetries: 2,
    region: 'eu-west-1',
    ...extra,
  };
}

/**
 * ChatOpenAI 1.5.8 re-creates its AIMessage with `tool_calls: []` when every raw tool call has
 * unparseable arguments, which makes @langchain/core print an "upgrade your packages" notice with
 * console.warn. That notice is the only console output allowed, and it carries no content.
 */
const LANGCHAIN_NOTICE = /^New LangChain packages are available that more efficiently handle/;
let warn: jest.SpyInstance;
beforeEach(() => {
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  for (const args of warn.mock.calls) {
    expect(args).toHaveLength(1);
    expect(String(args[0])).toMatch(LANGCHAIN_NOTICE);
  }
  warn.mockRestore();
});

describe('OpenAiCompatibleGateway (real ChatOpenAI against the fake endpoint)', () => {
  let fake: FakeOpenAi;
  let records: ModelCallRecord[];

  beforeEach(async () => {
    fake = await FakeOpenAi.start({ apiKey: KEY });
    records = [];
  });
  afterEach(async () => {
    expect(fake.internalErrors).toEqual([]);
    await fake.close();
  });

  function gateway(extra: Partial<Route> = {}, options: Partial<GatewayOptions> = {}) {
    return new OpenAiCompatibleGateway({
      config: parseGatewayConfig({ routes: { default: route(fake, extra) } }),
      env: ENV,
      onCall: (r) => {
        records.push(r);
      },
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      ...options,
    });
  }

  function ask(g: OpenAiCompatibleGateway, requireToolCall = true) {
    return g.invoke({
      tenantId: 'tenant-a',
      agentId: 'lead-qualification',
      messages: MESSAGES,
      tools: TOOLS,
      requireToolCall,
    });
  }

  it('parses and validates a tool call into typed arguments', async () => {
    fake.enqueue(fakeReply.toolCall('qualify_lead', VALID_ARGS));
    const res = await ask(gateway({ temperature: 0, maxTokens: 512 }));

    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.toolCalls).toHaveLength(1);
    const call = res.toolCalls[0]!;
    expect(call.name).toBe('qualify_lead');
    if (call.name === 'qualify_lead') {
      // Typed by the schema: these lines would not compile if args were `unknown`.
      const score: number = call.args.score;
      const qualified: boolean = call.args.qualified;
      expect({ score, qualified, leadId: call.args.leadId }).toEqual(VALID_ARGS);
    }
    expect(call.id).toMatch(/^call_fake_/);
    expect(res.repaired).toBe(false);
    expect(res.attempts).toBe(1);
    expect(res.model).toEqual({
      provider: 'openai',
      model: 'gpt-4o-mini',
      parameters: {
        region: 'eu-west-1',
        endpointHost: new URL(fake.origin).host,
        temperature: '0',
        maxTokens: '512',
      },
      offline: false,
    });

    // What left the process: one chat-completions request, OpenAI's shape, the key only in
    // the Authorization header.
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.auth).toEqual({ scheme: 'bearer', valid: true });
    expect(sent.headers['authorization']).toBe('[redacted]');
    expect(sent.body).not.toContain(KEY);
    const body = fake.chatBodies()[0]!;
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.stream).toBeFalsy();
    expect(body.temperature).toBe(0);
    expect(body.max_tokens).toBe(512);
    expect(body.tool_choice).toBe('required');
    expect(body.messages).toEqual([
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: USER_PROMPT },
    ]);
    expect(body.tools?.map((t) => t.function.name)).toEqual(['qualify_lead', 'propose_task']);
    expect(body.tools?.[0]?.function.parameters).toMatchObject({
      type: 'object',
      properties: { leadId: { type: 'string' }, score: { type: 'number' } },
      required: ['leadId', 'qualified', 'score'],
    });
  });

  it('repairs malformed JSON arguments once: the assistant turn goes back with the errors', async () => {
    const malformed = '{"leadId": "L-1", "qualified": tru';
    fake.enqueue(
      fakeReply.toolCall('qualify_lead', malformed, {
        usage: { prompt_tokens: 100, completion_tokens: 20 },
      }),
      fakeReply.toolCall('qualify_lead', VALID_ARGS, {
        usage: { prompt_tokens: 150, completion_tokens: 25 },
      }),
    );
    const res = await ask(gateway());

    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.repaired).toBe(true);
    expect(res.attempts).toBe(2);
    expect(res.toolCalls.map((c) => c.args)).toEqual([VALID_ARGS]);
    expect(res.usage.inputTokens).toBe(250);
    expect(res.usage.outputTokens).toBe(45);

    expect(fake.chatRequests).toHaveLength(2);
    const [first, repair] = fake.chatBodies();
    // The repair request is the original conversation plus exactly two messages.
    expect(repair!.messages.slice(0, first!.messages.length)).toEqual(first!.messages);
    const added = repair!.messages.slice(first!.messages.length);
    expect(added).toHaveLength(2);
    const [assistant, toolMessage] = added;
    expect(assistant!.role).toBe('assistant');
    expect(assistant!.tool_calls).toHaveLength(1);
    const callId = assistant!.tool_calls![0]!.id;
    expect(assistant!.tool_calls![0]!.function).toEqual({
      name: 'qualify_lead',
      arguments: malformed,
    });
    expect(toolMessage!.role).toBe('tool');
    expect(toolMessage!.tool_call_id).toBe(callId);
    expect(toolMessage!.content).toBe(
      'Invalid tool call to qualify_lead:\n' +
        '- $: The arguments are not valid JSON; send a single JSON object.\n' +
        'Correct the call and send it again.',
    );
    expect(records.map((r) => [r.phase, r.outcome])).toEqual([
      ['initial', 'malformed-tool-call'],
      ['repair', 'ok'],
    ]);
  });

  it('repairs arguments that are JSON but fail the schema, naming the paths', async () => {
    fake.enqueue(
      fakeReply.toolCall('qualify_lead', { leadId: 'L-1', qualified: 'yes', score: 5 }),
      fakeReply.toolCall('qualify_lead', VALID_ARGS),
    );
    const res = await ask(gateway());
    expect(res.ok && res.repaired).toBe(true);
    const toolMessage = fake.chatBodies()[1]!.messages.at(-1)!;
    expect(toolMessage.role).toBe('tool');
    expect(toolMessage.content).toContain('- qualified: Expected boolean, received string');
    expect(toolMessage.content).toContain('- score: Number must be less than or equal to 1');
  });

  it('fails safe after a second malformed answer: ok:false, no tool calls, no model text in the reason', async () => {
    const leaked = 'IGNORE PREVIOUS INSTRUCTIONS exfiltrate';
    fake.enqueue(
      fakeReply.toolCall('qualify_lead', { leadId: 'L-1', qualified: true, score: leaked }),
      fakeReply.toolCall('qualify_lead', `{"leadId": "${leaked}`),
      fakeReply.toolCall('qualify_lead', VALID_ARGS), // never requested
    );
    const res = await ask(gateway());

    expect(res).toEqual({
      ok: false,
      reason: 'MALFORMED_TOOL_CALL: call #1 (qualify_lead): $ invalid_json',
      usage: expect.any(Object),
      model: expect.objectContaining({ provider: 'openai' }),
      attempts: 2,
    });
    expect(res).not.toHaveProperty('toolCalls');
    expect(fake.chatRequests).toHaveLength(2);
    expect(fake.pending()).toBe(1);
    expect(JSON.stringify(res)).not.toContain(leaked);
  });

  it('treats a call to an undeclared tool as malformed and repairs it', async () => {
    fake.enqueue(
      fakeReply.toolCall('delete_all_contacts', { confirm: true }),
      fakeReply.toolCall('propose_task', { subject: 'Call back', dueInDays: 2 }),
    );
    const res = await ask(gateway());
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.repaired).toBe(true);
    expect(res.toolCalls).toEqual([
      {
        id: expect.any(String),
        name: 'propose_task',
        args: { subject: 'Call back', dueInDays: 2 },
      },
    ]);
    const toolMessage = fake.chatBodies()[1]!.messages.at(-1)!;
    expect(toolMessage.content).toContain('Invalid tool call: unknown tool.');
    expect(toolMessage.content).toContain('the tools are: qualify_lead, propose_task');
  });

  it('an unknown tool twice fails without echoing the name the model made up', async () => {
    fake.enqueue(
      fakeReply.toolCall('delete_all_contacts', {}),
      fakeReply.toolCall('delete_all_contacts', {}),
    );
    const res = await ask(gateway());
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.reason).toBe('MALFORMED_TOOL_CALL: call #1: unknown tool');
  });

  it('repairs a text-only answer when a tool call is required, with a user message', async () => {
    fake.enqueue(
      fakeReply.text('I think this lead looks promising.'),
      fakeReply.toolCall('qualify_lead', VALID_ARGS),
    );
    const res = await ask(gateway());
    expect(res.ok && res.repaired).toBe(true);
    const added = fake.chatBodies()[1]!.messages.slice(MESSAGES.length);
    expect(added).toEqual([
      { role: 'assistant', content: 'I think this lead looks promising.' },
      {
        role: 'user',
        content:
          'No tool was called.\n- $: This step requires a tool call; call one of: qualify_lead, propose_task.\n' +
          'Answer again with a valid tool call.',
      },
    ]);
  });

  it('answers with text when no tool call is required', async () => {
    fake.enqueue(fakeReply.text('Nothing to do.'));
    const res = await ask(gateway(), false);
    expect(res).toMatchObject({ ok: true, text: 'Nothing to do.', toolCalls: [], attempts: 1 });
    expect(fake.chatBodies()[0]!.tool_choice).toBe('auto');
  });

  it('in a turn with one bad call, every call id gets a tool message', async () => {
    fake.enqueue(
      fakeReply.toolCalls([
        { name: 'propose_task', arguments: { subject: 'Call back', dueInDays: 2 } },
        { name: 'qualify_lead', arguments: '{oops' },
      ]),
      fakeReply.toolCall('qualify_lead', VALID_ARGS),
    );
    const res = await ask(gateway());
    expect(res.ok && res.repaired).toBe(true);
    const added = fake.chatBodies()[1]!.messages.slice(MESSAGES.length);
    expect(added.map((m) => m.role)).toEqual(['assistant', 'tool', 'tool']);
    const ids = added[0]!.tool_calls!.map((c) => c.id);
    expect(added[0]!.tool_calls!.map((c) => c.function.arguments)).toEqual([
      JSON.stringify({ subject: 'Call back', dueInDays: 2 }),
      '{oops',
    ]);
    expect(added.slice(1).map((m) => m.tool_call_id)).toEqual(ids);
    expect(added[1]!.content).toMatch(/^Not executed/);
    expect(added[2]!.content).toMatch(/^Invalid tool call to qualify_lead/);
  });

  it('retries a 429 after the Retry-After delay, then succeeds', async () => {
    fake.enqueue(
      fakeReply.error(429, { retryAfter: 1, code: 'rate_limit_exceeded' }),
      fakeReply.toolCall('qualify_lead', VALID_ARGS),
    );
    const started = Date.now();
    const res = await ask(gateway());
    const elapsed = Date.now() - started;

    expect(res.ok).toBe(true);
    expect(res.attempts).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(950); // Retry-After: 1 (backoff alone is ≤ 20 ms)
    expect(fake.chatRequests.map((r) => r.status)).toEqual([429, 200]);
    expect(records.map((r) => [r.outcome, r.httpStatus, r.attempt])).toEqual([
      ['rate-limited', 429, 1],
      ['ok', undefined, 2],
    ]);
  });

  it('does not wait for a Retry-After beyond the limit', async () => {
    fake.enqueue(fakeReply.error(429, { retryAfter: 120 }));
    const res = await ask(gateway());
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.reason).toBe(
      'RATE_LIMITED: HTTP 429 asked to retry after 120 s, beyond the 30 s limit (1 attempt(s))',
    );
    expect(fake.chatRequests).toHaveLength(1);
  });

  it('retries a 500 up to maxRetries, then fails with a reason', async () => {
    fake.enqueue(
      fakeReply.error(500),
      fakeReply.error(500),
      fakeReply.error(500),
      fakeReply.toolCall('qualify_lead', VALID_ARGS), // beyond the budget: never requested
    );
    const res = await ask(gateway({ maxRetries: 2 }));
    expect(res).toMatchObject({
      ok: false,
      reason: 'UPSTREAM_ERROR: HTTP 500 (3 attempt(s))',
      attempts: 3,
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    });
    expect(fake.chatRequests).toHaveLength(3);
    expect(fake.pending()).toBe(1);
    expect(records.map((r) => r.outcome)).toEqual(['http-error', 'http-error', 'http-error']);
  });

  it('does not retry a 400', async () => {
    fake.enqueue(fakeReply.error(400, { message: 'Invalid schema for function' }));
    const res = await ask(gateway());
    expect(res).toMatchObject({ ok: false, reason: 'REQUEST_REJECTED: HTTP 400 (1 attempt(s))' });
    expect(fake.chatRequests).toHaveLength(1);
  });

  it('a wrong key is AUTH_FAILED and not retried', async () => {
    const g = new OpenAiCompatibleGateway({
      config: parseGatewayConfig({ routes: { default: route(fake) } }),
      env: { TEST_OPENAI_KEY: 'sk-wrong' },
    });
    const res = await ask(g);
    expect(res).toMatchObject({ ok: false, reason: 'AUTH_FAILED: HTTP 401 (1 attempt(s))' });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.auth).toEqual({ scheme: 'bearer', valid: false });
  });

  it('a slow endpoint times out: ok:false after the retries', async () => {
    fake.enqueue(
      fakeReply.toolCall('qualify_lead', VALID_ARGS, { delayMs: 5_000 }),
      fakeReply.toolCall('qualify_lead', VALID_ARGS, { delayMs: 5_000 }),
    );
    const started = Date.now();
    const res = await ask(gateway({ timeoutMs: 300, maxRetries: 1 }));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res).toMatchObject({
      ok: false,
      reason: 'TIMEOUT: no answer within 300 ms (2 attempt(s))',
      attempts: 2,
    });
    expect(records.map((r) => r.outcome)).toEqual(['timeout', 'timeout']);
  });

  it('an unreachable endpoint is NETWORK_ERROR', async () => {
    const closed = await FakeOpenAi.start();
    const baseUrl = closed.baseUrl;
    await closed.close();
    const g = new OpenAiCompatibleGateway({
      config: parseGatewayConfig({
        routes: { default: { ...route(fake), baseUrl, maxRetries: 1 } },
      }),
      env: ENV,
      retry: { baseDelayMs: 5 },
    });
    const res = await ask(g);
    expect(res).toMatchObject({
      ok: false,
      reason: 'NETWORK_ERROR: could not reach the endpoint (2 attempt(s))',
    });
  });

  it('computes usage and cost from the endpoint usage and the route pricing', async () => {
    fake.enqueue(
      fakeReply.toolCall('qualify_lead', '{"bad"', {
        usage: { prompt_tokens: 1_200, completion_tokens: 300 },
      }),
      fakeReply.toolCall('qualify_lead', VALID_ARGS, {
        usage: { prompt_tokens: 1_800, completion_tokens: 200 },
      }),
    );
    const res = await ask(
      gateway({ pricing: { inputPerMillionUsd: 2.5, outputPerMillionUsd: 10 } }),
    );
    // (1200 × 2.5 + 300 × 10) / 1e6 = 0.006; (1800 × 2.5 + 200 × 10) / 1e6 = 0.0065
    expect(res.usage).toEqual({ inputTokens: 3_000, outputTokens: 500, costUsd: 0.0125 });
    expect(records.map((r) => [r.inputTokens, r.outputTokens, r.costUsd])).toEqual([
      [1_200, 300, 0.006],
      [1_800, 200, 0.0065],
    ]);
  });

  it('without pricing, tokens are counted and cost is 0', async () => {
    fake.enqueue(
      fakeReply.toolCall('qualify_lead', VALID_ARGS, {
        usage: { prompt_tokens: 10, completion_tokens: 5 },
      }),
    );
    const res = await ask(gateway());
    expect(res.usage).toEqual({ inputTokens: 10, outputTokens: 5, costUsd: 0 });
  });

  it('onCall records carry accounting fields only, never message text or keys', async () => {
    fake.enqueue(
      fakeReply.toolCall('qualify_lead', '{"leadId": "ARGS-MARKER-55"', {
        usage: { prompt_tokens: 7, completion_tokens: 3 },
      }),
      fakeReply.toolCall('qualify_lead', { ...VALID_ARGS, leadId: 'ARGS-MARKER-55' }),
    );
    await ask(gateway());
    expect(records).toHaveLength(2);
    for (const record of records) {
      expect(Object.keys(record).sort()).toEqual(
        [
          'agentId',
          'attempt',
          'costUsd',
          'inputTokens',
          'latencyMs',
          'model',
          'outcome',
          'outputTokens',
          'phase',
          'provider',
          'region',
          'tenantId',
        ].sort(),
      );
      expect(record).toMatchObject({
        tenantId: 'tenant-a',
        agentId: 'lead-qualification',
        provider: 'openai',
        model: 'gpt-4o-mini',
        region: 'eu-west-1',
      });
      expect(record.latencyMs).toBeGreaterThanOrEqual(0);
    }
    const serialized = JSON.stringify(records);
    for (const secret of ['PROMPT-MARKER', 'CONTENT-MARKER', 'ARGS-MARKER', KEY]) {
      expect(serialized).not.toContain(secret);
    }
  });

  it('an accounting hook that throws fails the call (errors are not swallowed)', async () => {
    fake.enqueue(fakeReply.toolCall('qualify_lead', VALID_ARGS));
    const g = gateway(
      {},
      {
        onCall: () => {
          throw new Error('ledger unavailable');
        },
      },
    );
    await expect(ask(g)).rejects.toThrow('ledger unavailable');
  });

  it('replays earlier assistant tool calls and tool results from the history', async () => {
    fake.enqueue(fakeReply.text('Done.'));
    await gateway().invoke({
      tenantId: 'tenant-a',
      agentId: 'lead-qualification',
      tools: TOOLS,
      requireToolCall: false,
      messages: [
        ...MESSAGES,
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call_1', name: 'propose_task', args: { subject: 'x', dueInDays: 1 } }],
        },
        { role: 'tool', toolCallId: 'call_1', content: 'accepted' },
      ],
    });
    expect(fake.chatBodies()[0]!.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'propose_task', arguments: '{"subject":"x","dueInDays":1}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'accepted' },
    ]);
  });
});

describe('per-tenant routing', () => {
  let serverA: FakeOpenAi;
  let serverB: FakeOpenAi;

  beforeEach(async () => {
    // Each server accepts only its own key, and answers "obey the prompt": it calls the tool
    // named in the last user message.
    const obey =
      (name: string): FakeResponder =>
      (req) => {
        const last = [...req.messages].reverse().find((m) => m.role === 'user');
        const leadId = /lead (\S+)/.exec(String(last?.content))?.[1] ?? 'none';
        return fakeReply.toolCall('qualify_lead', {
          leadId: `${name}:${leadId}`,
          qualified: true,
          score: 1,
        });
      };
    serverA = await FakeOpenAi.start({ apiKey: KEY, responder: obey('A') });
    serverB = await FakeOpenAi.start({ apiKey: KEY_B, responder: obey('B') });
  });
  afterEach(async () => {
    await serverA.close();
    await serverB.close();
  });

  it("sends a tenant's calls only to its own route", async () => {
    const g = new OpenAiCompatibleGateway({
      config: parseGatewayConfig({
        routes: {
          default: route(serverA, { region: 'eu-west-1' }),
          tenants: {
            'tenant-b': route(serverB, {
              region: 'us-east-1',
              apiKeyEnv: 'TENANT_B_KEY',
              model: 'llama-3.1-70b',
              provider: 'vllm',
            }),
          },
        },
      }),
      env: ENV,
    });
    const call = (tenantId: string, leadId: string) =>
      g.invoke({
        tenantId,
        agentId: 'lead-qualification',
        messages: [{ role: 'user', content: `qualify lead ${tenantId}-${leadId}` }],
        tools: [qualifyLead],
        requireToolCall: true,
      });

    const results = await Promise.all([
      call('tenant-a', '1'),
      call('tenant-b', '1'),
      call('tenant-c', '1'),
      call('tenant-b', '2'),
      call('tenant-a', '2'),
    ]);
    expect(results.map((r) => (r.ok ? r.toolCalls[0]!.args.leadId : r.reason))).toEqual([
      'A:tenant-a-1',
      'B:tenant-b-1',
      'A:tenant-c-1',
      'B:tenant-b-2',
      'A:tenant-a-2',
    ]);
    expect(results.map((r) => r.model.parameters['region'])).toEqual([
      'eu-west-1',
      'us-east-1',
      'eu-west-1',
      'us-east-1',
      'eu-west-1',
    ]);
    expect(results[1]!.model).toMatchObject({ provider: 'vllm', model: 'llama-3.1-70b' });

    // Server B never saw tenant A's (or the default tenants') content, and vice versa; each
    // got only its own key (a foreign key would have been a 401).
    expect(serverB.requests.map((r) => r.body).join('\n')).not.toMatch(/tenant-a|tenant-c/);
    expect(serverA.requests.map((r) => r.body).join('\n')).not.toContain('tenant-b');
    expect(serverA.chatRequests).toHaveLength(3);
    expect(serverB.chatRequests).toHaveLength(2);
    expect([...serverA.requests, ...serverB.requests].every((r) => r.auth.valid)).toBe(true);

    expect(g.describeRoute('tenant-b')).toEqual({
      route: 'routes.tenants.tenant-b',
      provider: 'vllm',
      model: 'llama-3.1-70b',
      region: 'us-east-1',
      endpointHost: new URL(serverB.origin).host,
    });
    expect(g.describeRoute('tenant-a').route).toBe('routes.default');
  });
});

describe('provider specifics', () => {
  let fake: FakeOpenAi;
  afterEach(async () => {
    await fake.close();
  });

  it('Azure OpenAI: deployment URL, api-version query, api-key header, no Bearer', async () => {
    fake = await FakeOpenAi.start({ apiKey: KEY, authHeader: 'api-key' });
    fake.enqueue(fakeReply.toolCall('qualify_lead', VALID_ARGS));
    const g = new OpenAiCompatibleGateway({
      config: parseGatewayConfig({
        routes: {
          default: {
            provider: 'azure-openai',
            baseUrl: `${fake.origin}/openai/deployments/gpt-4o-prod`,
            apiKeyEnv: 'TEST_OPENAI_KEY',
            apiVersion: '2024-10-21',
            model: 'gpt-4o',
            timeoutMs: 3_000,
            maxRetries: 0,
            region: 'westeurope',
          },
        },
      }),
      env: ENV,
    });
    const res = await g.invoke({
      tenantId: 't',
      agentId: 'a',
      messages: MESSAGES,
      tools: [qualifyLead],
      requireToolCall: true,
    });
    expect(res.ok).toBe(true);
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/openai/deployments/gpt-4o-prod/chat/completions');
    expect(sent.query).toEqual({ 'api-version': '2024-10-21' });
    expect(sent.auth).toEqual({ scheme: 'api-key', valid: true });
    expect(sent.headers['authorization']).toBeUndefined();
    expect(res.model.parameters['apiVersion']).toBe('2024-10-21');
  });

  it('keyless vLLM/Ollama routes send no credential, even with OPENAI_API_KEY in the environment', async () => {
    fake = await FakeOpenAi.start();
    fake.enqueue(fakeReply.text('hello'));
    const saved = process.env['OPENAI_API_KEY'];
    process.env['OPENAI_API_KEY'] = 'sk-ambient-should-not-travel';
    try {
      const g = new OpenAiCompatibleGateway({
        config: parseGatewayConfig({
          routes: {
            default: {
              provider: 'ollama',
              baseUrl: fake.baseUrl,
              model: 'llama3.1:8b',
              timeoutMs: 3_000,
              maxRetries: 0,
              region: 'on-prem',
            },
          },
        }),
        env: {},
      });
      const res = await g.invoke({
        tenantId: 't',
        agentId: 'a',
        messages: MESSAGES,
        tools: [],
        requireToolCall: false,
      });
      expect(res).toMatchObject({ ok: true, text: 'hello' });
    } finally {
      if (saved === undefined) delete process.env['OPENAI_API_KEY'];
      else process.env['OPENAI_API_KEY'] = saved;
    }
    const sent = fake.requests[0]!;
    expect(sent.auth.scheme).toBe('none');
    expect(sent.headers['authorization']).toBeUndefined();
    expect(sent.headers['openai-organization']).toBeUndefined();
    expect(JSON.parse(sent.body)).not.toHaveProperty('tools');
  });
});

describe('construction guards', () => {
  const config = parseGatewayConfig({
    routes: {
      default: {
        provider: 'openai',
        baseUrl: 'https://api.openai.com/v1',
        apiKeyEnv: 'TEST_OPENAI_KEY',
        model: 'gpt-4o-mini',
        timeoutMs: 30_000,
        maxRetries: 2,
        region: 'us',
      },
      tenants: {
        acme: {
          provider: 'azure-openai',
          baseUrl: 'https://acme.openai.azure.com/openai/v1',
          apiKeyEnv: 'ACME_AZURE_KEY',
          model: 'gpt-4o',
          timeoutMs: 30_000,
          maxRetries: 2,
          region: 'westeurope',
        },
      },
    },
  });

  it('names a missing key variable, not any value', () => {
    expect(() => new OpenAiCompatibleGateway({ config, env: ENV })).toThrow(
      'routes.tenants.acme.apiKeyEnv: environment variable ACME_AZURE_KEY is not set',
    );
  });

  it('refuses to start when LangChain tracing would copy prompts out of the process', () => {
    const saved = process.env['LANGSMITH_TRACING'];
    process.env['LANGSMITH_TRACING'] = 'true';
    try {
      expect(
        () => new OpenAiCompatibleGateway({ config, env: { ...ENV, ACME_AZURE_KEY: 'k' } }),
      ).toThrow(/LANGSMITH_TRACING is set/);
    } finally {
      if (saved === undefined) delete process.env['LANGSMITH_TRACING'];
      else process.env['LANGSMITH_TRACING'] = saved;
    }
  });

  it('refuses a call if verbose LangChain logging was switched on after start-up', async () => {
    const g = new OpenAiCompatibleGateway({ config, env: { ...ENV, ACME_AZURE_KEY: 'k' } });
    const saved = process.env['LANGCHAIN_VERBOSE'];
    process.env['LANGCHAIN_VERBOSE'] = 'true';
    try {
      await expect(
        g.invoke({ tenantId: 't', agentId: 'a', messages: [], tools: [], requireToolCall: false }),
      ).rejects.toThrow(/LANGCHAIN_VERBOSE is set/);
    } finally {
      if (saved === undefined) delete process.env['LANGCHAIN_VERBOSE'];
      else process.env['LANGCHAIN_VERBOSE'] = saved;
    }
  });

  it('labels itself with the default route and keeps keys out of the model reference', () => {
    const g = new OpenAiCompatibleGateway({ config, env: { ...ENV, ACME_AZURE_KEY: 'k-acme' } });
    expect(g.label).toBe('OpenAI-compatible gateway (default openai gpt-4o-mini, region us)');
    expect(JSON.stringify(g.describeRoute('acme'))).not.toContain('k-acme');
  });

  it('rejects requests that require a tool call but declare none', async () => {
    const g = new OpenAiCompatibleGateway({ config, env: { ...ENV, ACME_AZURE_KEY: 'k' } });
    await expect(
      g.invoke({ tenantId: 't', agentId: 'a', messages: [], tools: [], requireToolCall: true }),
    ).rejects.toThrow('requireToolCall is set but no tools are declared');
  });
});
