import { DynamicModule, Module } from '@nestjs/common';
import { LEDGER_LEAVES, LedgerAppender, LedgerReader } from '@mandate/ledger-domain';
import { serviceModule, type ServiceContext, type StoreProvider } from '@mandate/platform';
import { AuditRecordConsumer } from './audit-record.consumer';

export interface LedgerServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  relayIntervalMs?: number;
}

@Module({})
export class LedgerServiceModule {
  static async create(o: LedgerServiceOptions): Promise<DynamicModule> {
    const leaves = await o.stores.store(LEDGER_LEAVES);
    return serviceModule({
      module: LedgerServiceModule,
      context: o.context,
      consumers: [AuditRecordConsumer],
      outbox: { sources: [leaves], intervalMs: o.relayIntervalMs },
      providers: [
        { provide: LedgerAppender, useValue: new LedgerAppender(leaves) },
        { provide: LedgerReader, useValue: new LedgerReader(leaves) },
      ],
      exports: [LedgerReader],
    });
  }
}
