import { DynamicModule, Module } from '@nestjs/common';
import {
  LEDGER_CHECKPOINTS,
  LEDGER_LEAVES,
  LEDGER_PUBLICATION,
  LEDGER_SUBJECT_KEYS,
  LEDGER_TILES,
  LedgerPublisher,
  LedgerReader,
  LedgerWriter,
  PayloadCipher,
  SubjectKeyStore,
  type KeyEncryptionKey,
  type NoteSigner,
} from '@mandate/ledger-domain';
import { Topics } from '@mandate/messaging';
import {
  API_AUTHENTICATOR,
  serviceModule,
  type RequestAuthenticator,
  type ServiceContext,
  type StoreProvider,
} from '@mandate/platform';
import { AuditRecordConsumer } from './audit-record.consumer';
import { CHECKPOINT_OPTIONS, CheckpointHost } from './checkpoint.host';
import { ErasureController } from './erasure.controller';
import { MONITOR_OPTIONS, MonitorHost } from './monitor.host';

export interface LedgerServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  /** Signs checkpoints (C2SP signed note, Ed25519). */
  signer: NoteSigner;
  /** Log origin prefix: a tenant's log is `<origin>/<tenant>`. */
  origin: string;
  /** Key-encryption keys for the per-data-subject keys, current first. */
  keks: KeyEncryptionKey[];
  authenticator: RequestAuthenticator;
  checkpointIntervalMs?: number;
  checkpointBatchSize?: number;
  /** Test-only crash points (see apps/audit-ledger/README.md). */
  failpoints?: { hit(name: string): void };
  /** Monitor mode: tenants to watch, and the verifier keys the monitor trusts. */
  monitor?: { tenants: string[]; intervalMs?: number; verifierKeys: string[] };
  relayIntervalMs?: number;
}

@Module({})
export class LedgerServiceModule {
  static async create(o: LedgerServiceOptions): Promise<DynamicModule> {
    const leaves = await o.stores.store(LEDGER_LEAVES);
    const tiles = await o.stores.store(LEDGER_TILES);
    const checkpoints = await o.stores.store(LEDGER_CHECKPOINTS);
    const publication = await o.stores.store(LEDGER_PUBLICATION);
    const subjectKeys = await o.stores.store(LEDGER_SUBJECT_KEYS);
    const origin = (tenant: string) => `${o.origin}/${tenant}`;
    const keys = new SubjectKeyStore(subjectKeys, { keks: o.keks });
    const writer = new LedgerWriter({
      leaves,
      tiles,
      checkpoints,
      signer: o.signer,
      origin,
      cipher: new PayloadCipher(keys),
      failpoints: o.failpoints,
    });
    const reader = new LedgerReader(leaves, tiles, checkpoints, origin);
    const bus = o.context.bus;
    const publisher = new LedgerPublisher(
      reader,
      publication,
      (tenant, entries) =>
        bus.publishBatch(
          Topics.audit,
          entries.map((e) => ({
            value: e,
            meta: {
              tenantId: tenant,
              correlationId: e.record?.correlationId ?? '',
              source: 'audit-ledger',
              id: `${tenant}:${e.leafIndex}`,
            },
          })),
        ),
      1000,
      writer,
    );
    return serviceModule({
      module: LedgerServiceModule,
      context: o.context,
      consumers: [AuditRecordConsumer],
      controllers: [ErasureController],
      // Erasure receipts sit in the subject-key tombstone's outbox.
      outbox: { sources: [subjectKeys], intervalMs: o.relayIntervalMs },
      providers: [
        { provide: LedgerWriter, useValue: writer },
        { provide: LedgerReader, useValue: reader },
        { provide: LedgerPublisher, useValue: publisher },
        { provide: SubjectKeyStore, useValue: keys },
        {
          provide: CHECKPOINT_OPTIONS,
          useValue: {
            intervalMs: o.checkpointIntervalMs ?? 1000,
            batchSize: o.checkpointBatchSize ?? 10_000,
          },
        },
        CheckpointHost,
        {
          provide: MONITOR_OPTIONS,
          useValue: {
            tenants: o.monitor?.tenants ?? [],
            intervalMs: o.monitor?.intervalMs ?? 5000,
            verifierKeys: o.monitor?.verifierKeys ?? [o.signer.verifierKey],
            origin,
          },
        },
        MonitorHost,
        { provide: API_AUTHENTICATOR, useValue: o.authenticator },
      ],
      exports: [LedgerReader, LedgerWriter, CheckpointHost, MonitorHost, SubjectKeyStore],
    });
  }
}
