import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { SlaSweeper, SlaSweepReport, TenantSource } from '@mandate/review-domain';
import { OutboxRelayHost, SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';
import type { TenantId } from '@mandate/storage';

export const SLA_SWEEPER = Symbol('SLA_SWEEPER');
export const SLA_TENANTS = Symbol('SLA_TENANTS');
export const SLA_INTERVAL_MS = Symbol('SLA_INTERVAL_MS');

/**
 * Runs `SlaSweeper.sweep` on an interval (warnings, escalations, the fail-safe on expiry, lapsed
 * claims). The timers are data on the tasks, so a restarted process (or another replica) picks
 * them up where they were; sweeps never overlap within one process. `sweepNow()` runs one now.
 * An interval of 0 disables the timer (tests call `sweepNow`).
 */
@Injectable()
export class SlaSweeperHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<SlaSweepReport>;

  constructor(
    @Inject(SLA_SWEEPER) private readonly sweeper: SlaSweeper,
    @Inject(SLA_TENANTS) private readonly tenants: TenantSource,
    @Inject(SLA_INTERVAL_MS) private readonly intervalMs: number,
    private readonly relay: OutboxRelayHost,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  onApplicationBootstrap(): void {
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => {
        this.sweepNow().catch((err: unknown) =>
          this.ctx.logger.error({ err }, 'SLA sweep failed; the next one retries'),
        );
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One sweep of every known tenant at `now` (default: the clock); waits for a running one. */
  async sweepNow(now?: Date, tenants?: readonly TenantId[]): Promise<SlaSweepReport> {
    while (this.running) await this.running.catch(() => undefined);
    const run = (async () => {
      const report = await this.sweeper.sweep(now, tenants ?? (await this.tenants()));
      if (report.warned + report.escalated + report.expired + report.leasesExpired > 0) {
        this.ctx.logger.info({ ...report }, 'SLA sweep');
        await this.relay.kick();
      }
      return report;
    })();
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = undefined;
    }
  }
}
