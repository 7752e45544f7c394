import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per process. Every Mandate metric carries a `service` label, so the
 * embedded process can host all five services in one registry without name clashes, and a
 * service app's series look exactly the same as the embedded ones.
 */
export class ProcessMetrics {
  readonly registry = new Registry();
  readonly messagesHandled = new Counter({
    name: 'mandate_messages_handled_total',
    help: 'Messages handled by consumers, by outcome (ok, error)',
    labelNames: ['service', 'topic', 'group', 'outcome'],
    registers: [this.registry],
  });
  readonly handlerSeconds = new Histogram({
    name: 'mandate_message_handler_seconds',
    help: 'Time spent in message handlers',
    labelNames: ['service', 'topic', 'group'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly messagesPublished = new Counter({
    name: 'mandate_messages_published_total',
    help: 'Outbox messages published, by topic',
    labelNames: ['service', 'topic'],
    registers: [this.registry],
  });
  readonly grpcCalls = new Counter({
    name: 'mandate_grpc_calls_total',
    help: 'gRPC calls served, by method and status code',
    labelNames: ['service', 'method', 'code'],
    registers: [this.registry],
  });

  constructor(withDefaults = true) {
    if (withDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'mandate_' });
  }

  forService(service: string): ServiceMetrics {
    return new ServiceMetrics(service, this);
  }
}

/** A domain counter with its `service` label filled in (see `ServiceMetrics.counter`). */
export interface DomainCounter {
  inc(labels?: Record<string, string>, value?: number): void;
}

/** A domain gauge with its `service` label filled in (see `ServiceMetrics.gauge`). */
export interface DomainGauge {
  set(labels: Record<string, string>, value: number): void;
}

/** A service's view of the process metrics: the `service` label is filled in. */
export class ServiceMetrics {
  constructor(
    readonly service: string,
    readonly process: ProcessMetrics,
  ) {}

  get registry(): Registry {
    return this.process.registry;
  }

  handled(topic: string, group: string, outcome: 'ok' | 'error'): void {
    this.process.messagesHandled.inc({ service: this.service, topic, group, outcome });
  }

  startHandlerTimer(topic: string, group: string): () => void {
    const end = this.process.handlerSeconds.startTimer({ service: this.service, topic, group });
    return () => {
      end();
    };
  }

  published(topic: string): void {
    this.process.messagesPublished.inc({ service: this.service, topic });
  }

  grpcCall(method: string, code: string): void {
    this.process.grpcCalls.inc({ service: this.service, method, code });
  }

  /**
   * A domain counter, `mandate_<name>` with a `service` label plus `labelNames`; registered on
   * first use and shared by every service in the process. Label values must be bounded (verdicts,
   * bundle versions), never ids.
   */
  counter(name: string, help: string, labelNames: string[] = []): DomainCounter {
    const full = `mandate_${name}`;
    const counter =
      (this.registry.getSingleMetric(full) as Counter<string> | undefined) ??
      new Counter({
        name: full,
        help,
        labelNames: ['service', ...labelNames],
        registers: [this.registry],
      });
    return {
      inc: (labels = {}, value = 1) => counter.inc({ ...labels, service: this.service }, value),
    };
  }

  /** A domain gauge, `mandate_<name>`, same rules as `counter`. */
  gauge(name: string, help: string, labelNames: string[] = []): DomainGauge {
    const full = `mandate_${name}`;
    const gauge =
      (this.registry.getSingleMetric(full) as Gauge<string> | undefined) ??
      new Gauge({
        name: full,
        help,
        labelNames: ['service', ...labelNames],
        registers: [this.registry],
      });
    return { set: (labels, value) => gauge.set({ ...labels, service: this.service }, value) };
  }
}
