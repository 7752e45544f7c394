import { mkdirSync } from 'node:fs';
import { InMemoryBroker, InProcessEventBus, type EventBus } from '@mandate/messaging';
import {
  FileDocumentJournal,
  InMemoryDocumentStore,
  type CollectionDefinition,
  type DocumentJournal,
} from '@mandate/storage';
import type { Logger } from 'pino';
import { ProcessMetrics } from '../ops/metrics';
import { ReadinessRegistry } from '../ops/readiness';
import type { ServiceContext } from '../service-context';
import type { OutboxStore, StoreProvider } from '../storage/store-provider';

export interface InMemoryStoreProviderOptions {
  /**
   * The journal a collection's store restores from and records to when it is first asked for;
   * `undefined` keeps that collection purely in memory. Default: every collection in memory.
   */
  readonly journalFor?: (collection: string) => DocumentJournal | undefined;
}

/** Stores kept in this process, one per collection name. */
export class InMemoryStoreProvider implements StoreProvider {
  private readonly stores = new Map<string, unknown>();

  constructor(private readonly options: InMemoryStoreProviderOptions = {}) {}

  async store<T extends { id: string }>(
    definition: CollectionDefinition<T>,
  ): Promise<OutboxStore<T>> {
    let store = this.stores.get(definition.name) as InMemoryDocumentStore<T> | undefined;
    if (!store) {
      const journal = this.options.journalFor?.(definition.name);
      store = new InMemoryDocumentStore<T>(definition, journal ? { journal } : {});
      this.stores.set(definition.name, store);
    }
    return store;
  }
}

export interface EmbeddedRuntimeOptions {
  /**
   * Where persistent collections are journaled (`<dataDir>/<collection>.jsonl`); created if
   * missing. Required when `persistentCollections` names any collection.
   */
  readonly dataDir?: string;
  /**
   * Collections that survive a restart of the process: restored from `dataDir` when first
   * asked for, every change appended there (dev-mode durability: no fsync, see
   * `FileDocumentJournal`). Every other collection stays in memory only. One process per
   * `dataDir`: nothing locks the files.
   */
  readonly persistentCollections?: readonly string[];
}

/**
 * Everything the embedded process shares between its services: one in-process broker (with
 * Kafka's semantics) and in-memory storage. Each service still gets its own context, consumer
 * group, metrics and readiness, exactly as if it ran alone.
 */
export class EmbeddedRuntime {
  readonly broker = new InMemoryBroker();
  readonly bus: EventBus;
  readonly stores: InMemoryStoreProvider;
  readonly contexts: ServiceContext[] = [];
  readonly metrics = new ProcessMetrics();

  constructor(
    readonly logger: Logger,
    options: EmbeddedRuntimeOptions = {},
  ) {
    this.stores = new InMemoryStoreProvider({ journalFor: journalsFor(options, logger) });
    this.bus = new InProcessEventBus({
      broker: this.broker,
      defaultRetry: { initialBackoffMs: 50, maxBackoffMs: 1000 },
    });
  }

  context(name: string): ServiceContext {
    const readiness = new ReadinessRegistry();
    readiness.register({
      name: `${name}:event-bus`,
      check: async () => {
        const h = this.bus.health();
        if (!h.ready)
          throw new Error(`bus ${h.detail.state}${h.detail.error ? `: ${h.detail.error}` : ''}`);
      },
    });
    const ctx: ServiceContext = {
      name,
      group: `mandate.${name}`,
      bus: this.bus,
      logger: this.logger.child({ service: name }),
      metrics: this.metrics.forService(name),
      readiness,
    };
    this.contexts.push(ctx);
    return ctx;
  }
}

/** The journal factory of the runtime's stores; `undefined` when nothing is persistent. */
function journalsFor(
  options: EmbeddedRuntimeOptions,
  logger: Logger,
): ((collection: string) => DocumentJournal | undefined) | undefined {
  const persistent = new Set(options.persistentCollections ?? []);
  const dir = options.dataDir;
  if (persistent.size === 0) {
    if (dir !== undefined)
      logger.warn(
        { dataDir: dir },
        'dataDir given but no persistent collections: everything stays in memory',
      );
    return undefined;
  }
  if (dir === undefined || dir.length === 0) {
    throw new Error('EmbeddedRuntime: persistentCollections requires a dataDir');
  }
  mkdirSync(dir, { recursive: true });
  // Made up front, so a bad collection name fails at start-up rather than at first use.
  const journals = new Map(
    [...persistent].map((collection) => [
      collection,
      new FileDocumentJournal({
        dir,
        collection,
        onWarning: (message) => logger.warn({ collection }, message),
      }),
    ]),
  );
  logger.info(
    { dataDir: dir, collections: [...persistent].sort() },
    'embedded storage: journaling collections to disk',
  );
  return (collection) => journals.get(collection);
}
