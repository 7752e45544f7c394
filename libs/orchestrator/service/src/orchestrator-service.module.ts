import { DynamicModule, Module } from '@nestjs/common';
import { PLANS, PlanRunner } from '@mandate/orchestrator-domain';
import { serviceModule, type ServiceContext, type StoreProvider } from '@mandate/platform';
import { OrchestratorConsumers } from './orchestrator.consumers';

export interface OrchestratorServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  relayIntervalMs?: number;
}

@Module({})
export class OrchestratorServiceModule {
  static async create(o: OrchestratorServiceOptions): Promise<DynamicModule> {
    const plans = await o.stores.store(PLANS);
    return serviceModule({
      module: OrchestratorServiceModule,
      context: o.context,
      consumers: [OrchestratorConsumers],
      outbox: { sources: [plans], intervalMs: o.relayIntervalMs },
      providers: [{ provide: PlanRunner, useValue: new PlanRunner(plans) }],
    });
  }
}
