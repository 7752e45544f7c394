import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ChangeFeedPoller, type CursorStore } from '@mandate/connector-sdk';
import {
  ChangeIngestor,
  ConnectorRegistry,
  type ChangeCursorDoc,
} from '@mandate/connectors-domain';
import { tenantId, type DocumentStore } from '@mandate/storage';
import { OutboxRelayHost, SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';

export const CHANGE_FEED_OPTIONS = Symbol('CHANGE_FEED_OPTIONS');
export const CURSOR_STORE = Symbol('CURSOR_STORE');

export interface ChangeFeedOptions {
  /** Poll every configured polling connector this often; 0 disables polling. */
  intervalMs: number;
}

/**
 * Polls the change feeds of tenants whose CRM is polled (Salesforce): page after page from the
 * durable cursor, each change announced once through the ChangeIngestor before the cursor moves.
 * The embedded CRM announces its own changes and webhook CRMs push theirs, so neither is polled.
 * A failed poll is logged and retried on the next tick; the cursor has not moved.
 */
@Injectable()
export class ChangeFeedHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  /** Each tenant's position, one document per connector in its tenant's partition. */
  private readonly cursorStore: CursorStore = {
    load: async (t, c) => (await this.cursors.get(tenantId(t), c))?.cursor,
    save: async (t, c, cursor) => {
      await this.cursors.upsert(tenantId(t), { id: c, cursor, updatedAt: new Date() });
    },
  };

  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly ingestor: ChangeIngestor,
    private readonly relay: OutboxRelayHost,
    @Inject(CURSOR_STORE) private readonly cursors: DocumentStore<ChangeCursorDoc>,
    @Inject(CHANGE_FEED_OPTIONS) private readonly options: ChangeFeedOptions,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.pass(), this.options.intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One poll of every polled tenant (until each feed is drained); serialised. */
  pass(): Promise<void> {
    this.running = this.running.then(() => this.pollAll());
    return this.running;
  }

  private async pollAll(): Promise<void> {
    for (const raw of this.registry.configuredTenants()) {
      const tenant = tenantId(raw);
      const connector = this.registry.resolve(tenant);
      if (
        !connector ||
        connector.connector === 'embedded' ||
        connector.capabilities.changeFeed !== 'polling'
      )
        continue;
      const poller = new ChangeFeedPoller(connector, this.cursorStore, async (events) => {
        await this.ingestor.ingest(tenant, events);
      });
      try {
        const n = await poller.drain();
        if (n > 0) {
          await this.relay.kick();
          this.ctx.logger.info(
            { tenant, connector: connector.connector, changes: n },
            'changes ingested',
          );
        }
      } catch (err) {
        this.ctx.logger.warn(
          {
            tenant,
            connector: connector.connector,
            error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
          },
          'change feed poll failed; retrying next tick',
        );
      }
    }
  }
}
