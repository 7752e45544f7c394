import { DynamicModule, Module } from '@nestjs/common';
import { PLANS, PlanRunner } from '@mandate/orchestrator-domain';
import {
  OutboxRelayHost,
  RelayLifecycle,
  serviceModule,
  type ServiceContext,
  type StoreProvider,
} from '@mandate/platform';
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
      providers: [
        { provide: PlanRunner, useValue: new PlanRunner(plans) },
        {
          provide: OutboxRelayHost,
          useValue: new OutboxRelayHost(o.context, [plans], o.relayIntervalMs),
        },
        RelayLifecycle,
      ],
    });
  }
}
