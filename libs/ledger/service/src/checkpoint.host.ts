import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LedgerPublisher, LedgerWriter } from '@mandate/ledger-domain';
import type { TenantId } from '@mandate/storage';
import { SERVICE_CONTEXT, type ServiceContext, type DomainGauge } from '@mandate/platform';

export const CHECKPOINT_OPTIONS = Symbol('CHECKPOINT_OPTIONS');

export interface CheckpointOptions {
  /** Sign a checkpoint of every grown log this often. */
  intervalMs: number;
  /** …and at once when this many records were appended since the last one. */
  batchSize: number;
}

/**
 * Signs checkpoints (every `intervalMs`, or after `batchSize` appends) of the logs this
 * instance writes, and publishes the entries each one covers to the audit topic. Runs one pass
 * at a time; a failed pass is logged and retried on the next tick (nothing is lost: the
 * publication cursor only advances after a page is published).
 */
@Injectable()
export class CheckpointHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private readonly sinceLast = new Map<TenantId, number>();

  private readonly checkpointSize: DomainGauge;

  constructor(
    private readonly writer: LedgerWriter,
    private readonly publisher: LedgerPublisher,
    @Inject(CHECKPOINT_OPTIONS) private readonly options: CheckpointOptions,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {
    this.checkpointSize = ctx.metrics.gauge(
      'ledger_checkpoint_size',
      'Tree size of the latest checkpoint',
      ['tenant'],
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.pass(), this.options.intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.pass(); // sign what was appended before stopping
  }

  /** Called after each append: checkpoints at once when the batch size is reached. */
  async appended(tenant: TenantId, n: number): Promise<void> {
    const total = (this.sinceLast.get(tenant) ?? 0) + n;
    this.sinceLast.set(tenant, total);
    if (total >= this.options.batchSize) await this.pass([tenant]);
  }

  /** One checkpoint-and-publish pass over `tenants` (default: every log this writer knows). */
  pass(tenants?: TenantId[]): Promise<void> {
    this.running = this.running.then(() => this.run(tenants ?? this.writer.tenants()));
    return this.running;
  }

  private async run(tenants: TenantId[]): Promise<void> {
    for (const tenant of tenants) {
      try {
        const cp = await this.writer.checkpoint(tenant);
        this.sinceLast.set(tenant, 0);
        if (!cp) continue;
        const published = await this.publisher.publishUpTo(tenant, cp);
        this.checkpointSize.set({ tenant }, cp.size);
        this.ctx.logger.debug({ tenant, size: cp.size, published }, 'checkpoint signed');
      } catch (err) {
        this.ctx.logger.warn({ err, tenant }, 'checkpoint pass failed; retrying on the next tick');
      }
    }
  }
}
