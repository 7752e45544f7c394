import { Writable } from 'node:stream';
import pino from 'pino';
import { ProcessMetrics } from '@mandate/platform';
import type { AgentModelPort, ModelRequestLike } from '@mandate/orchestrator-agents';
import { meteredModels, modelCallRecorder } from './metered-model';

const REQ = {
  tenantId: 'acme',
  agentId: 'deal-desk',
  messages: [{ role: 'user', content: 'Hello ⟦PERSON_1⟧' }],
  tools: [],
  requireToolCall: true,
} as ModelRequestLike;

describe('model accounting', () => {
  it('counts steps, tokens and cost per tenant, agent and model', async () => {
    const metrics = new ProcessMetrics(false).forService('orchestrator');
    const model: AgentModelPort = {
      label: 'test',
      invoke: async () => ({
        ok: true,
        toolCalls: [],
        usage: { inputTokens: 120, outputTokens: 30, costUsd: 0.0025 },
        model: { provider: 'openai', model: 'gpt-4o-mini', parameters: {}, offline: false },
        attempts: 1,
        repaired: false,
      }),
    };
    const modelFor = meteredModels(metrics, () => model);
    await modelFor('acme').invoke(REQ);
    await modelFor('acme').invoke(REQ);
    expect(modelFor('acme')).toBe(modelFor('acme'));
    const text = await metrics.registry.metrics();
    const labels = 'tenant="acme",agent="deal-desk",provider="openai",model="gpt-4o-mini"';
    expect(text).toMatch(
      new RegExp(`mandate_model_steps_total\\{[^}]*${labels},outcome="ok"[^}]*\\} 2`),
    );
    expect(text).toMatch(
      new RegExp(`mandate_model_tokens_total\\{[^}]*direction="input"[^}]*\\} 240`),
    );
    expect(text).toMatch(new RegExp(`mandate_model_cost_usd_total\\{[^}]*${labels}[^}]*\\} 0.005`));
  });

  it('records every call (attempts and repairs) with tokens, cost and latency', async () => {
    const metrics = new ProcessMetrics(false).forService('orchestrator');
    const lines: string[] = [];
    const logger = pino(
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const hook = modelCallRecorder(metrics, logger);
    await hook({
      tenantId: 'acme',
      agentId: 'deal-desk',
      provider: 'openai',
      model: 'gpt-4o-mini',
      region: 'eu-west-1',
      inputTokens: 100,
      outputTokens: 20,
      costUsd: 0.001,
      latencyMs: 640,
      outcome: 'malformed-tool-call',
      attempt: 1,
      phase: 'initial',
    });
    expect(await metrics.registry.metrics()).toMatch(
      /mandate_model_calls_total\{[^}]*outcome="malformed-tool-call",phase="initial"[^}]*\} 1/,
    );
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      msg: 'model call',
      latencyMs: 640,
      costUsd: 0.001,
    });
  });
});
