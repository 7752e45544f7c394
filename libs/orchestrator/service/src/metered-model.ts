import type {
  AgentModelPort,
  ModelRequestLike,
  ModelResponseLike,
} from '@mandate/orchestrator-agents';
import type { ModelCallHook } from '@mandate/model-gateway';
import type { Logger, ServiceMetrics } from '@mandate/platform';

/**
 * Prometheus accounting of agent steps per tenant, agent and model: steps (ok / failed safe),
 * tokens in and out, and cost in US dollars (what the route's pricing says). The per-plan totals
 * are on the plan document (`usage`).
 */
export function meteredModels(
  metrics: ServiceMetrics,
  modelFor: (tenantId: string) => AgentModelPort,
): (tenantId: string) => AgentModelPort {
  const steps = metrics.counter(
    'model_steps_total',
    'Agent steps answered by a model, by outcome (ok, failed: no proposal)',
    ['tenant', 'agent', 'provider', 'model', 'outcome'],
  );
  const tokens = metrics.counter('model_tokens_total', 'Model tokens, by direction', [
    'tenant',
    'agent',
    'provider',
    'model',
    'direction',
  ]);
  const cost = metrics.counter('model_cost_usd_total', 'Model cost in US dollars', [
    'tenant',
    'agent',
    'provider',
    'model',
  ]);
  const wrapped = new Map<AgentModelPort, AgentModelPort>();
  const wrap = (inner: AgentModelPort): AgentModelPort => ({
    label: inner.label,
    invoke: async (req: ModelRequestLike): Promise<ModelResponseLike> => {
      const res = await inner.invoke(req);
      const labels = {
        tenant: req.tenantId,
        agent: req.agentId,
        provider: res.model.provider,
        model: res.model.model,
      };
      steps.inc({ ...labels, outcome: res.ok ? 'ok' : 'failed' });
      tokens.inc({ ...labels, direction: 'input' }, res.usage.inputTokens);
      tokens.inc({ ...labels, direction: 'output' }, res.usage.outputTokens);
      cost.inc(labels, res.usage.costUsd);
      return res;
    },
  });
  return (tenantId) => {
    const inner = modelFor(tenantId);
    let port = wrapped.get(inner);
    if (!port) wrapped.set(inner, (port = wrap(inner)));
    return port;
  };
}

/**
 * The gateway's per-call accounting hook (every attempt, retries and the repair included):
 * `mandate_model_calls_total` by outcome and phase, and one log line per call with tokens, cost
 * and latency — never message content.
 */
export function modelCallRecorder(metrics: ServiceMetrics, logger: Logger): ModelCallHook {
  const calls = metrics.counter(
    'model_calls_total',
    'Model calls (every attempt), by outcome (ok, malformed-tool-call, timeout, rate-limited, http-error, network-error) and phase',
    ['tenant', 'agent', 'provider', 'model', 'region', 'outcome', 'phase'],
  );
  return (r) => {
    calls.inc({
      tenant: r.tenantId,
      agent: r.agentId,
      provider: r.provider,
      model: r.model,
      region: r.region,
      outcome: r.outcome,
      phase: r.phase,
    });
    logger.info(
      {
        tenantId: r.tenantId,
        agent: r.agentId,
        provider: r.provider,
        model: r.model,
        region: r.region,
        outcome: r.outcome,
        phase: r.phase,
        attempt: r.attempt,
        inputTokens: r.inputTokens,
        outputTokens: r.outputTokens,
        costUsd: r.costUsd,
        latencyMs: r.latencyMs,
        ...(r.httpStatus ? { httpStatus: r.httpStatus } : {}),
      },
      'model call',
    );
  };
}
