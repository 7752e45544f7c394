import { OfflineModel, OFFLINE_MODEL_LABEL } from '@mandate/model-gateway';
import {
  AGENT_IDS,
  OFFLINE_RESPONDERS,
  type AgentId,
  type AgentModelPort,
  type ModelRequestLike,
  type ModelResponseLike,
} from '@mandate/orchestrator-agents';

/**
 * The built-in offline model for all four agents: each agent's deterministic rules (not an LLM)
 * behind the same port as the LLM gateway. The embedded default, and the fallback for tenants
 * without a model route.
 */
export class OfflineAgentsModel implements AgentModelPort {
  readonly label = OFFLINE_MODEL_LABEL;
  private readonly models = new Map<string, OfflineModel>(
    AGENT_IDS.map((id) => [id, new OfflineModel(OFFLINE_RESPONDERS[id])]),
  );

  async invoke(req: ModelRequestLike): Promise<ModelResponseLike> {
    const model = this.models.get(req.agentId as AgentId);
    if (!model) throw new Error(`no offline rules for agent "${req.agentId}"`);
    return model.invoke(req);
  }
}
