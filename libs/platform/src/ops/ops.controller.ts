import {
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Registry } from 'prom-client';
import { ServiceMetrics } from './metrics';
import { ReadinessRegistry } from './readiness';

/** The services a process hosts: one for a service app, all five for the embedded process. */
export interface OpsTargets {
  metrics: ServiceMetrics[];
  readiness: ReadinessRegistry[];
}
export const OPS_TARGETS = Symbol('OPS_TARGETS');

/**
 * Liveness (/health: the process answers), readiness (/ready: every dependency answers; 503
 * otherwise, so Kubernetes stops routing to it) and Prometheus metrics (/metrics).
 */
@Controller()
export class OpsController {
  constructor(@Inject(OPS_TARGETS) private readonly targets: OpsTargets) {}

  @Get('health')
  @HttpCode(200)
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    const reports = await Promise.all(this.targets.readiness.map((r) => r.report()));
    const checks = reports.flatMap((r) => r.checks);
    if (!reports.every((r) => r.ready))
      throw new ServiceUnavailableException({ status: 'not-ready', checks });
    return { status: 'ready', checks };
  }

  @Get('metrics')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  async metrics(): Promise<string> {
    // Services of one process share its registry; each registry is rendered once.
    const registries = [...new Set(this.targets.metrics.map((m) => m.registry))];
    return (await Promise.all(registries.map((r) => r.metrics()))).join('\n');
  }
}
