import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  BundleRegistry,
  BundleStore,
  BundleSync,
  readBundleFiles,
  type BundleSyncStatus,
} from '@mandate/policy-domain';
import { SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';

export const BUNDLE_SYNC_OPTIONS = Symbol('BUNDLE_SYNC_OPTIONS');

export interface BundleSyncHostOptions {
  /** The repository bundle that seeds an empty store. */
  seedBundleDir: string;
  intervalMs: number;
  maxAgeMs: number;
}

/** Principal recorded as the pusher of the seeded bundle (a second admin must approve changes). */
export const BOOTSTRAP_PRINCIPAL = 'mandate-bootstrap';

/**
 * Keeps this replica's bundles in line with the store: seeds an empty store from the repository
 * bundle, syncs at start (before the replica is ready) and every `intervalMs`, and on every
 * bundle control event. A sync that fails does not confirm the bundle, so after `maxAgeMs`
 * without a good sync the engine denies STALE_BUNDLE — and /ready says why.
 */
@Injectable()
export class BundleSyncHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private last?: BundleSyncStatus;
  private running?: Promise<BundleSyncStatus>;

  constructor(
    private readonly sync: BundleSync,
    private readonly store: BundleStore,
    private readonly registry: BundleRegistry,
    @Inject(BUNDLE_SYNC_OPTIONS) private readonly options: BundleSyncHostOptions,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {
    ctx.readiness.register({
      name: 'policy-bundle',
      check: async () => {
        const active = this.registry.active();
        if (!active)
          throw new Error(`no policy bundle is active (${this.last?.errors.join('; ')})`);
        if (this.registry.stale(new Date(), this.options.maxAgeMs))
          throw new Error(`policy bundle ${active.identity.version} is stale`);
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const seeded = await this.store.seedFromDirectory(
      await readBundleFiles(this.options.seedBundleDir),
      BOOTSTRAP_PRINCIPAL,
    );
    if (!seeded.ok)
      this.ctx.logger.error(
        { errors: seeded.errors },
        'the repository bundle was refused; policy denies until a valid bundle is activated',
      );
    else if (seeded.status !== 'skipped')
      this.ctx.logger.info({ dir: this.options.seedBundleDir }, 'bundle store seeded');
    await this.syncNow();
    this.timer = setInterval(() => void this.syncNow(), this.options.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One sync (concurrent callers share it). Never throws: failures are logged and reported. */
  syncNow(): Promise<BundleSyncStatus> {
    this.running ??= this.sync
      .sync(new Date())
      .catch((err): BundleSyncStatus => ({
        active: 'unavailable',
        shadow: 'unavailable',
        errors: [err instanceof Error ? err.message : String(err)],
      }))
      .then((status) => {
        this.last = status;
        if (status.errors.length)
          this.ctx.logger.warn({ ...status }, 'bundle sync did not confirm the bundle');
        else if (status.active === 'activated' || status.shadow === 'activated')
          this.ctx.logger.info(
            { ...status, version: this.registry.active()?.identity.version },
            'policy bundle changed',
          );
        return status;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
