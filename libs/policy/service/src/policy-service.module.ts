import { DynamicModule, Module } from '@nestjs/common';
import { BaselinePolicy, DECISIONS, DecisionService } from '@mandate/policy-domain';
import type { DecisionTokenIssuer } from '@mandate/decision-token';
import { serviceModule, type ServiceContext, type StoreProvider } from '@mandate/platform';
import { DECISION_STORE, ProposalConsumer } from './proposal.consumer';

export interface PolicyServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  issuer: DecisionTokenIssuer;
  relayIntervalMs?: number;
}

@Module({})
export class PolicyServiceModule {
  static async create(o: PolicyServiceOptions): Promise<DynamicModule> {
    const store = await o.stores.store(DECISIONS);
    return serviceModule({
      module: PolicyServiceModule,
      context: o.context,
      consumers: [ProposalConsumer],
      outbox: { sources: [store], intervalMs: o.relayIntervalMs },
      providers: [
        { provide: DecisionService, useValue: new DecisionService(new BaselinePolicy(), o.issuer) },
        { provide: DECISION_STORE, useValue: store },
      ],
      exports: [DecisionService],
    });
  }
}
