import { DynamicModule, Module } from '@nestjs/common';
import {
  PLANS,
  PLAN_PROPOSALS,
  PlanEngine,
  type TenantSettings,
} from '@mandate/orchestrator-domain';
import type { AgentModelPort, CrmContextSource } from '@mandate/orchestrator-agents';
import {
  PROMPT_POINTERS,
  PROMPT_VERSIONS,
  PromptRegistry,
  seedFromDirectory,
} from '@mandate/prompt-registry';
import {
  apiAuthenticatorProvider,
  serviceModule,
  type RequestAuthenticator,
  type ServiceContext,
  type StoreProvider,
} from '@mandate/platform';
import { OrchestratorController, PLAN_STORE } from './orchestrator.controller';
import { meteredModels } from './metered-model';
import { OfflineAgentsModel } from './offline-agents.model';
import { OrchestratorConsumers } from './orchestrator.consumers';

export interface OrchestratorServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  /** The CRM the agents read their context from (through the tenant's connector). */
  source: CrmContextSource;
  /** The model of each tenant; default: the built-in offline rules (not an LLM) for everyone. */
  modelFor?: (tenantId: string) => AgentModelPort;
  /** prompts/ directory seeded into the registry at start (new prompts only become active). */
  promptsDir: string;
  /** Time zone, rules and plan budget per tenant; default UTC, no rules, default budget. */
  settings?: (tenantId: string) => TenantSettings;
  /** Operators of the prompt and plan API (MANDATE_API_TOKENS); none: every call 401. */
  authenticator: RequestAuthenticator;
  relayIntervalMs?: number;
}

@Module({})
export class OrchestratorServiceModule {
  static async create(o: OrchestratorServiceOptions): Promise<DynamicModule> {
    const plans = await o.stores.store(PLANS);
    const planProposals = await o.stores.store(PLAN_PROPOSALS);
    const prompts = new PromptRegistry({
      versions: await o.stores.store(PROMPT_VERSIONS),
      pointers: await o.stores.store(PROMPT_POINTERS),
    });
    const seeded = await seedFromDirectory(prompts, o.promptsDir);
    o.context.logger.info(
      { prompts: seeded.map((s) => `${s.promptId}:${s.outcome}`) },
      'prompt registry seeded',
    );
    const offline = new OfflineAgentsModel();
    const engine = new PlanEngine({
      plans,
      planProposals,
      prompts,
      source: o.source,
      modelFor: meteredModels(o.context.metrics, o.modelFor ?? (() => offline)),
      settings: o.settings,
    });
    return serviceModule({
      module: OrchestratorServiceModule,
      context: o.context,
      consumers: [OrchestratorConsumers],
      controllers: [OrchestratorController],
      outbox: { sources: [plans], intervalMs: o.relayIntervalMs },
      providers: [
        { provide: PlanEngine, useValue: engine },
        { provide: PromptRegistry, useValue: prompts },
        { provide: PLAN_STORE, useValue: plans },
        apiAuthenticatorProvider(o.authenticator),
      ],
    });
  }
}
