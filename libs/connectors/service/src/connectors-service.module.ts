import { DynamicModule, Module } from '@nestjs/common';
import {
  ActionExecutor,
  CRM_RECORDS,
  EXECUTIONS,
  EmbeddedCrm,
  NO_FAILPOINTS,
  type Failpoints,
} from '@mandate/connectors-domain';
import type { DecisionTokenVerifier } from '@mandate/decision-token';
import { serviceModule, type ServiceContext, type StoreProvider } from '@mandate/platform';
import { CrmController } from './crm.controller';
import { DecisionConsumer } from './decision.consumer';

export interface ConnectorsServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  verifier: DecisionTokenVerifier;
  failpoints?: Failpoints;
  relayIntervalMs?: number;
}

@Module({})
export class ConnectorsServiceModule {
  static async create(o: ConnectorsServiceOptions): Promise<DynamicModule> {
    const records = await o.stores.store(CRM_RECORDS);
    const executions = await o.stores.store(EXECUTIONS);
    return serviceModule({
      module: ConnectorsServiceModule,
      context: o.context,
      consumers: [DecisionConsumer],
      controllers: [CrmController],
      outbox: { sources: [records, executions], intervalMs: o.relayIntervalMs },
      providers: [
        {
          provide: ActionExecutor,
          useValue: new ActionExecutor(
            records,
            executions,
            o.verifier,
            o.failpoints ?? NO_FAILPOINTS,
          ),
        },
        { provide: EmbeddedCrm, useValue: new EmbeddedCrm(records) },
      ],
      exports: [EmbeddedCrm],
    });
  }
}
