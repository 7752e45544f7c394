import { InMemoryBroker, InProcessEventBus, type EventBus } from '@mandate/messaging';
import { InMemoryDocumentStore, type CollectionDefinition } from '@mandate/storage';
import type { Logger } from 'pino';
import { ProcessMetrics } from '../ops/metrics';
import { ReadinessRegistry } from '../ops/readiness';
import type { ServiceContext } from '../service-context';
import type { OutboxStore, StoreProvider } from '../storage/store-provider';

/** Stores kept in this process, one per collection name. */
export class InMemoryStoreProvider implements StoreProvider {
  private readonly stores = new Map<string, unknown>();

  async store<T extends { id: string }>(
    definition: CollectionDefinition<T>,
  ): Promise<OutboxStore<T>> {
    let store = this.stores.get(definition.name) as InMemoryDocumentStore<T> | undefined;
    if (!store) {
      store = new InMemoryDocumentStore<T>(definition);
      this.stores.set(definition.name, store);
    }
    return store;
  }
}

/**
 * Everything the embedded process shares between its services: one in-process broker (with
 * Kafka's semantics) and in-memory storage. Each service still gets its own context, consumer
 * group, metrics and readiness, exactly as if it ran alone.
 */
export class EmbeddedRuntime {
  readonly broker = new InMemoryBroker();
  readonly bus: EventBus;
  readonly stores = new InMemoryStoreProvider();
  readonly contexts: ServiceContext[] = [];
  readonly metrics = new ProcessMetrics();

  constructor(readonly logger: Logger) {
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
