import { KafkaEventBus } from '@mandate/messaging-kafka';
import type { CollectionDefinition } from '@mandate/storage';
import { MongoConnection, MongoDocumentStore, redactMongoUrl } from '@mandate/storage-mongo';
import type { Logger } from 'pino';
import { ProcessMetrics } from '../ops/metrics';
import { ReadinessRegistry } from '../ops/readiness';
import type { ServiceContext } from '../service-context';
import type { OutboxStore, StoreProvider } from '../storage/store-provider';
import { busLogger } from './bus-logger';

export interface DistributedRuntimeConfig {
  service: string;
  brokers: string[];
  mongoUrl: string;
  mongoDatabase: string;
  /** Consumer group; defaults to `mandate.<service>` so replicas share the work. */
  group?: string;
}

/** MongoDB collections, indexes ensured on first use. */
class MongoStoreProvider implements StoreProvider {
  constructor(private readonly connection: MongoConnection) {}

  async store<T extends { id: string }>(
    definition: CollectionDefinition<T>,
  ): Promise<OutboxStore<T>> {
    const store = new MongoDocumentStore<T>(this.connection, definition);
    await store.ensureIndexes();
    return store;
  }
}

/**
 * A service running on its own: Kafka for events, MongoDB for state, and readiness checks for
 * both. Connects eagerly so a wrong address fails at start-up, not at the first message.
 */
export class DistributedRuntime {
  readonly context: ServiceContext;
  readonly stores: StoreProvider;
  private readonly bus: KafkaEventBus;
  private readonly mongo: MongoConnection;

  private constructor(cfg: DistributedRuntimeConfig, logger: Logger) {
    const metrics = new ProcessMetrics().forService(cfg.service);
    const readiness = new ReadinessRegistry();
    this.bus = new KafkaEventBus({
      brokers: cfg.brokers,
      clientId: `mandate-${cfg.service}`,
      logger: busLogger(logger),
    });
    this.mongo = new MongoConnection({
      url: cfg.mongoUrl,
      database: cfg.mongoDatabase,
      appName: `mandate-${cfg.service}`,
    });
    readiness.register({
      name: 'kafka',
      check: async () => {
        const h = this.bus.health();
        if (!h.ready)
          throw new Error(`bus ${h.detail.state}${h.detail.error ? `: ${h.detail.error}` : ''}`);
      },
    });
    readiness.register({ name: 'mongodb', check: () => this.mongo.ping() });
    this.context = {
      name: cfg.service,
      group: cfg.group ?? `mandate.${cfg.service}`,
      bus: this.bus,
      logger,
      metrics,
      readiness,
    };
    this.stores = new MongoStoreProvider(this.mongo);
    logger.info(
      { brokers: cfg.brokers, mongo: redactMongoUrl(cfg.mongoUrl), database: cfg.mongoDatabase },
      'runtime configured',
    );
  }

  static async connect(cfg: DistributedRuntimeConfig, logger: Logger): Promise<DistributedRuntime> {
    const rt = new DistributedRuntime(cfg, logger);
    await rt.mongo.connect();
    await rt.bus.start();
    return rt;
  }

  async close(): Promise<void> {
    await this.bus.stop();
    await this.mongo.close();
  }
}
