import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OutboxRelay, type OutboxSource } from '@mandate/storage';
import { outboxPublisher, Topics, type TopicCatalog } from '@mandate/messaging';
import type { ServiceContext } from '../service-context';

/**
 * Runs a service's outbox relay: entries written atomically with state changes are published to
 * the bus. `kick()` runs a pass at once (after a handler wrote), the loop catches anything left
 * behind by a crash. A pass that fails is retried on the next tick; entries are never dropped.
 */
export class OutboxRelayHost {
  private readonly relay: OutboxRelay;

  constructor(
    ctx: ServiceContext,
    sources: OutboxSource[],
    intervalMs = 500,
    catalog: TopicCatalog = Topics,
  ) {
    const publish = outboxPublisher(ctx.bus, catalog);
    this.relay = new OutboxRelay({
      sources,
      intervalMs,
      publish: async (entry) => {
        await publish(entry);
        ctx.metrics.published(entry.topic);
      },
      onError: (err, where) =>
        ctx.logger.warn({ err, ...where }, 'outbox relay pass failed; will retry'),
    });
  }

  start(): void {
    this.relay.start();
  }

  async kick(): Promise<void> {
    await this.relay.pollOnce();
  }

  stop(): Promise<void> {
    return this.relay.stop();
  }
}

/** Starts the service's relay loop with the app and stops it (after a last pass) on shutdown. */
@Injectable()
export class RelayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly relay: OutboxRelayHost) {}
  onApplicationBootstrap() {
    this.relay.start();
  }
  onApplicationShutdown() {
    return this.relay.stop();
  }
}
