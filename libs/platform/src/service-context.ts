import type { EventBus } from '@mandate/messaging';
import type { Logger } from 'pino';
import { ServiceMetrics } from './ops/metrics';
import { ReadinessRegistry } from './ops/readiness';

/**
 * What one service instance is given by whoever hosts it (its own app, or the embedded process):
 * its identity, bus, logger, metrics and readiness registry. Service libs depend on this, never on
 * how the process was started.
 */
export interface ServiceContext {
  /** Service name, e.g. "policy"; also the CloudEvents source. */
  name: string;
  /** Kafka consumer group (or in-process group) shared by this service's replicas. */
  group: string;
  bus: EventBus;
  logger: Logger;
  metrics: ServiceMetrics;
  readiness: ReadinessRegistry;
}

export const SERVICE_CONTEXT = Symbol('SERVICE_CONTEXT');
