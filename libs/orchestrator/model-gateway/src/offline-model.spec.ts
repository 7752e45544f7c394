import { z } from 'zod';
import { OFFLINE_MODEL_LABEL, OfflineModel, type OfflineResponder } from './offline-model';
import { defineTool, type ModelCallRecord, type ModelRequest } from './port';

const qualifyLead = defineTool({
  name: 'qualify_lead',
  description: 'Propose a qualification decision for a lead.',
  schema: z.object({
    leadId: z.string().min(1),
    qualified: z.boolean(),
    score: z.number().min(0).max(1),
  }),
});
const TOOLS = [qualifyLead] as const;

/** A toy rule: leads whose message mentions "pricing" are qualified. */
const toyRules: OfflineResponder = (req) => {
  const text = req.messages.map((m) => m.content).join(' ');
  const leadId = /lead ([\w-]+)/.exec(text)?.[1];
  if (!leadId) return { text: 'No lead in the request.' };
  const qualified = /pricing/i.test(text);
  return {
    toolCalls: [
      { name: 'qualify_lead', args: { leadId, qualified, score: qualified ? 0.8 : 0.2 } },
    ],
    text: qualified ? 'Buying intent.' : 'No buying intent.',
  };
};

function request(content: string, requireToolCall = true): ModelRequest<typeof TOOLS> {
  return {
    tenantId: 'tenant-a',
    agentId: 'lead-qualification',
    messages: [{ role: 'user', content }],
    tools: TOOLS,
    requireToolCall,
  };
}

describe('OfflineModel', () => {
  it('is clearly labelled as not an LLM', () => {
    const model = new OfflineModel(toyRules);
    expect(model.label).toBe('offline rules (not an LLM)');
    expect(OFFLINE_MODEL_LABEL).toBe(model.label);
    expect(model.model).toMatchObject({
      provider: 'offline',
      model: 'mandate-offline-1',
      offline: true,
    });
  });

  it('answers deterministically with validated, typed tool calls at zero cost', async () => {
    const model = new OfflineModel(toyRules);
    const first = await model.invoke(request('qualify lead L-7, asked for pricing'));
    const second = await model.invoke(request('qualify lead L-7, asked for pricing'));
    expect(second).toEqual(first);
    expect(first).toEqual({
      ok: true,
      toolCalls: [
        {
          id: 'offline_call_1',
          name: 'qualify_lead',
          args: { leadId: 'L-7', qualified: true, score: 0.8 },
        },
      ],
      text: 'Buying intent.',
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
      model: {
        provider: 'offline',
        model: 'mandate-offline-1',
        parameters: { kind: 'deterministic rules' },
        offline: true,
      },
      attempts: 1,
      repaired: false,
    });
    if (first.ok) {
      const qualified: boolean = first.toolCalls[0]!.args.qualified;
      expect(qualified).toBe(true);
    }
  });

  it('validates its own tool calls with the shared validator and fails safe without a repair', async () => {
    const broken = new OfflineModel(() => ({
      toolCalls: [{ name: 'qualify_lead', args: { leadId: 'L-1', qualified: 'yes', score: 3 } }],
    }));
    const res = await broken.invoke(request('qualify lead L-1'));
    expect(res).toEqual({
      ok: false,
      reason: 'MALFORMED_TOOL_CALL: call #1 (qualify_lead): qualified invalid_type, score too_big',
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
      model: expect.objectContaining({ offline: true }),
      attempts: 1,
    });
    expect(res).not.toHaveProperty('toolCalls');
  });

  it('a text-only answer is malformed when a tool call is required, fine otherwise', async () => {
    const model = new OfflineModel(toyRules);
    expect(await model.invoke(request('nothing here'))).toMatchObject({
      ok: false,
      reason: 'MALFORMED_TOOL_CALL: no tool call',
    });
    expect(await model.invoke(request('nothing here', false))).toMatchObject({
      ok: true,
      toolCalls: [],
      text: 'No lead in the request.',
    });
  });

  it('reports each call to onCall with zero tokens and cost, and no content', async () => {
    const records: ModelCallRecord[] = [];
    const model = new OfflineModel(toyRules, { onCall: (r) => void records.push(r) });
    await model.invoke(request('qualify lead SECRET-LEAD, asked for pricing'));
    expect(records).toEqual([
      {
        tenantId: 'tenant-a',
        agentId: 'lead-qualification',
        provider: 'offline',
        model: 'mandate-offline-1',
        region: 'local',
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        latencyMs: expect.any(Number),
        outcome: 'ok',
        attempt: 1,
        phase: 'initial',
      },
    ]);
    expect(JSON.stringify(records)).not.toContain('SECRET-LEAD');
  });

  it('a responder that throws is a bug and propagates', async () => {
    const model = new OfflineModel(() => {
      throw new Error('rule table missing');
    });
    await expect(model.invoke(request('qualify lead L-1'))).rejects.toThrow('rule table missing');
  });
});
