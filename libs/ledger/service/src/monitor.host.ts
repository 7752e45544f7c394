import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LedgerMonitor, LedgerReader, type MonitorSource } from '@mandate/ledger-domain';
import { tenantId, type TenantId } from '@mandate/storage';
import {
  SERVICE_CONTEXT,
  type ServiceContext,
  type DomainCounter,
  type DomainGauge,
} from '@mandate/platform';

export const MONITOR_OPTIONS = Symbol('MONITOR_OPTIONS');

export interface MonitorOptions {
  /** Tenants whose logs to watch; none disables the monitor. */
  tenants: string[];
  intervalMs: number;
  /** The monitor's trust anchor: C2SP verifier keys of the log. */
  verifierKeys: string[];
  origin: (tenant: TenantId) => string;
}

/** The database as a monitor sees it: raw leaves and signed notes, never the tiles' word. */
export function readerSource(reader: LedgerReader, tenant: TenantId): MonitorSource {
  return {
    checkpoints: async (from) =>
      (await reader.listCheckpoints(tenant, from)).map((c) => ({
        size: Number(c.treeSize),
        note: c.signedNote,
      })),
    leaves: async (from, limit) =>
      (await reader.entries(tenant, from, limit)).map((e) => ({
        index: Number(e.leafIndex),
        leafData: Buffer.from(e.leafData),
        leafHash: Buffer.from(e.leafHash),
      })),
    consistencyProof: (a, b) => reader.consistencyProof(tenant, a, b),
  };
}

/**
 * Monitor mode (LEDGER_MONITOR_TENANTS): follows each tenant's checkpoints, checks every new
 * one is signed, consistent with the last and matches the stored leaves, and re-scans history;
 * any fork or rewrite is an alarm — logged at error level and counted in
 * `mandate_ledger_monitor_alarms_total{kind}`. (`mandate ledger monitor` does the same from
 * outside, over gRPC.)
 */
@Injectable()
export class MonitorHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly monitors = new Map<TenantId, LedgerMonitor>();
  private running: Promise<void> = Promise.resolve();

  private readonly alarms: DomainCounter;
  private readonly verified: DomainGauge;

  constructor(
    reader: LedgerReader,
    @Inject(MONITOR_OPTIONS) private readonly options: MonitorOptions,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {
    this.alarms = ctx.metrics.counter(
      'ledger_monitor_alarms_total',
      'Ledger monitor alarms, by kind',
      ['kind'],
    );
    this.verified = ctx.metrics.gauge(
      'ledger_monitor_verified_size',
      'Tree size the monitor verified',
      ['tenant'],
    );
    for (const raw of options.tenants) {
      const t = tenantId(raw);
      this.monitors.set(
        t,
        new LedgerMonitor(readerSource(reader, t), {
          verifierKeys: options.verifierKeys,
          origin: options.origin(t),
        }),
      );
    }
  }

  onApplicationBootstrap(): void {
    if (!this.monitors.size) return;
    this.timer = setInterval(() => void this.cycle(), this.options.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    return this.running;
  }

  /** One cycle over every watched tenant. */
  cycle(): Promise<void> {
    this.running = this.running.then(async () => {
      for (const [tenant, monitor] of this.monitors) {
        try {
          const alarms = await monitor.cycle();
          for (const alarm of alarms) {
            this.alarms.inc({ kind: alarm.kind });
            this.ctx.logger.error({ tenant, ...alarm }, 'LEDGER MONITOR ALARM');
          }
          this.verified.set({ tenant }, monitor.verifiedSize);
        } catch (err) {
          this.ctx.logger.warn({ err, tenant }, 'ledger monitor cycle failed; retrying');
        }
      }
    });
    return this.running;
  }
}
