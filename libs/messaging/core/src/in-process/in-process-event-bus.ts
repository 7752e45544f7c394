import { deadLetterHeaders, readDeadLetter, type DeadLetterInfo } from '../dead-letter';
import { deliverBatch, deliverRecord, sleep, type DeliveryContext } from '../delivery';
import {
  decodeRecord,
  encodeMessage,
  errorMessage,
  type PublishMeta,
  type RawRecord,
} from '../envelope';
import { EventBusError } from '../errors';
import {
  DEFAULT_RETRY,
  resolveBatch,
  resolveRetry,
  type BatchItem,
  type BusHealth,
  type EventBus,
  type RetryPolicy,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionState,
} from '../event-bus';
import { silentLogger, type BusLogger } from '../logger';
import { deadLetterTopic, type TopicSpec } from '../topic-spec';
import { InMemoryBroker, type GroupMember } from './in-memory-broker';

export interface InProcessEventBusOptions {
  /** Share one broker between buses to model several processes on one cluster. */
  broker?: InMemoryBroker;
  logger?: BusLogger;
  /** Defaults for subscriptions that do not set their own retry policy. */
  defaultRetry?: Partial<RetryPolicy>;
  /** How long stop/unsubscribe waits for an in-flight handler before abandoning it (uncommitted). */
  shutdownTimeoutMs?: number;
  /** Jitter source; tests may fix it. */
  random?: () => number;
}

type BusState = BusHealth['detail']['state'];

/**
 * EventBus in memory with Kafka's semantics: keyed partitions, consumer groups with partition
 * assignment, sequential delivery per partition, commit after success, retry with backoff and
 * dead-letter topics. Used by the embedded all-in-one process and by unit tests.
 */
export class InProcessEventBus implements EventBus {
  readonly broker: InMemoryBroker;
  private state: BusState = 'created';
  private readonly subscriptions = new Set<InProcessSubscription<unknown>>();
  private readonly logger: BusLogger;
  private readonly defaultRetry: RetryPolicy;
  private readonly shutdownTimeoutMs: number;
  private readonly random: () => number;

  constructor(options: InProcessEventBusOptions = {}) {
    this.broker = options.broker ?? new InMemoryBroker();
    this.logger = options.logger ?? silentLogger;
    this.defaultRetry = resolveRetry(options.defaultRetry, DEFAULT_RETRY);
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.random = options.random ?? Math.random;
  }

  async start(): Promise<void> {
    if (this.state !== 'created')
      throw new EventBusError(`cannot start a bus that is ${this.state}`);
    this.state = 'starting';
    await Promise.all([...this.subscriptions].map((s) => s.activate()));
    this.state = 'started';
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    // Subscriptions first: in-flight handlers may still publish follow-up events.
    await Promise.all([...this.subscriptions].map((s) => s.unsubscribe()));
    this.state = 'stopped';
  }

  async publish<T>(topic: TopicSpec<T>, value: T, meta: PublishMeta): Promise<void> {
    await this.publishBatch(topic, [{ value, meta }]);
  }

  async publishBatch<T>(topic: TopicSpec<T>, items: ReadonlyArray<BatchItem<T>>): Promise<void> {
    this.assertCanPublish();
    // Encode everything first, so an invalid item means nothing is written.
    const messages = items.map((item) => encodeMessage(topic, item.value, item.meta));
    this.ensureTopic(topic);
    for (const message of messages) this.broker.append(topic.name, message);
  }

  async subscribe<T>(topic: TopicSpec<T>, options: SubscribeOptions<T>): Promise<Subscription> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new EventBusError(`cannot subscribe on a bus that is ${this.state}`);
    }
    if (!options.group) throw new EventBusError('subscribe: group is required');
    resolveBatch(options.batch);
    this.ensureTopic(topic);
    const sub = new InProcessSubscription<T>(topic, options, {
      broker: this.broker,
      logger: this.logger,
      retry: resolveRetry(options.retry, this.defaultRetry),
      shutdownTimeoutMs: this.shutdownTimeoutMs,
      random: this.random,
      onStopped: (s) => this.subscriptions.delete(s as InProcessSubscription<unknown>),
    });
    this.subscriptions.add(sub as InProcessSubscription<unknown>);
    if (this.state === 'started' || this.state === 'starting') await sub.activate();
    return sub;
  }

  health(): BusHealth {
    const subscriptions = [...this.subscriptions].map((s) => s.health());
    return {
      ready: this.state === 'started' && subscriptions.every((s) => s.state === 'running'),
      detail: { transport: 'in-process', state: this.state, subscriptions },
    };
  }

  /** The dead letters of `topic` so far, oldest first (inspection for tests and the console). */
  deadLetters(topic: TopicSpec<unknown>): DeadLetterInfo[] {
    const spec = deadLetterTopic(topic);
    if (!this.broker.hasTopic(spec.name)) return [];
    return this.broker
      .records(spec.name)
      .map((record) => readDeadLetter({ ...decodeRecord(spec, record), attempt: 1 }));
  }

  private ensureTopic(topic: TopicSpec<unknown>): void {
    this.broker.createTopic(topic.name, topic.partitions);
    if (topic.kind === 'event') this.broker.createTopic(topic.deadLetter, topic.partitions);
  }

  private assertCanPublish(): void {
    // `stopping` still publishes: handlers finishing during shutdown may emit follow-up events.
    if (this.state !== 'started' && this.state !== 'stopping') {
      throw new EventBusError(`cannot publish on a bus that is ${this.state}`);
    }
  }
}

interface SubscriptionDeps {
  broker: InMemoryBroker;
  logger: BusLogger;
  retry: RetryPolicy;
  shutdownTimeoutMs: number;
  random: () => number;
  onStopped(sub: InProcessSubscription<unknown>): void;
}

interface PartitionWorker {
  controller: AbortController;
  done: Promise<void>;
  /** Set when the worker was given up on: its late result must not be committed. */
  fenced: boolean;
}

class InProcessSubscription<T> implements Subscription, GroupMember {
  readonly topic: string;
  readonly group: string;
  private state: SubscriptionState = 'pending';
  private lastError: string | undefined;
  private readonly workers = new Map<number, PartitionWorker>();
  private activating: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly spec: TopicSpec<T>,
    private readonly options: SubscribeOptions<T>,
    private readonly deps: SubscriptionDeps,
  ) {
    this.topic = spec.name;
    this.group = options.group;
  }

  activate(): Promise<void> {
    this.activating ??= this.deps.broker.join(this.group, this.topic, this).then(() => {
      if (this.state === 'pending') this.state = 'running';
    });
    return this.activating;
  }

  unsubscribe(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  health(): { topic: string; group: string; state: SubscriptionState; error?: string } {
    return {
      topic: this.topic,
      group: this.group,
      state: this.state,
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }

  owned(): readonly number[] {
    return [...this.workers.keys()];
  }

  assign(partitions: readonly number[]): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    for (const partition of partitions) {
      const worker: PartitionWorker = {
        controller: new AbortController(),
        done: Promise.resolve(),
        fenced: false,
      };
      worker.done = this.consume(partition, worker);
      this.workers.set(partition, worker);
    }
  }

  async revoke(partitions: readonly number[]): Promise<void> {
    await Promise.all(
      partitions.map(async (partition) => {
        const worker = this.workers.get(partition);
        if (!worker) return;
        worker.controller.abort();
        const settled = await Promise.race([
          worker.done.then(() => true),
          new Promise<boolean>((r) =>
            setTimeout(() => r(false), this.deps.shutdownTimeoutMs).unref(),
          ),
        ]);
        if (!settled) {
          worker.fenced = true;
          this.deps.logger.warn(
            'in-flight handler did not finish in time; abandoning it uncommitted',
            {
              topic: this.topic,
              group: this.group,
              partition,
            },
          );
        }
        this.workers.delete(partition);
      }),
    );
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopping';
    // A join in progress completes first (assign() ignores it now), so we never leave a ghost member.
    if (this.activating) await this.activating;
    await this.revoke(this.owned());
    if (this.activating) await this.deps.broker.leave(this.group, this.topic, this);
    this.state = 'stopped';
    this.deps.onStopped(this as InProcessSubscription<unknown>);
  }

  private async consume(partition: number, worker: PartitionWorker): Promise<void> {
    const { broker, logger } = this.deps;
    const signal = worker.controller.signal;
    const fromBeginning = this.options.fromBeginning ?? true;
    let offset =
      broker.committed(this.group, this.topic, partition) ??
      (fromBeginning ? 0 : broker.endOffset(this.topic, partition));
    const ctx: DeliveryContext<T> = {
      topic: this.spec,
      group: this.group,
      handler: this.options.handler,
      retry: this.deps.retry,
      signal,
      deadLetter: async (raw: RawRecord, failure) => {
        broker.append(this.spec.deadLetter, {
          key: raw.key,
          value: raw.value,
          headers: deadLetterHeaders(raw, failure),
        });
      },
      logger,
      random: this.deps.random,
    };
    const batch = this.options.batch;
    while (!signal.aborted) {
      // Whatever is available now, up to the batch size: never wait to fill a batch.
      const records: RawRecord[] = [];
      while (records.length < (batch?.maxSize ?? 1)) {
        const record = broker.read(this.topic, partition, offset + records.length);
        if (!record) break;
        records.push(record);
      }
      if (records.length === 0) {
        await broker.waitFor(this.topic, partition, offset, signal);
        continue;
      }
      try {
        let settled: number;
        let abandoned: boolean;
        if (batch) {
          const result = await deliverBatch(records, { ...ctx, batchHandler: batch.handler });
          settled = result.settled;
          abandoned = result.outcome === 'abandoned';
        } else {
          const [record] = records as [RawRecord];
          abandoned = (await deliverRecord(record, ctx)) === 'abandoned';
          settled = abandoned ? 0 : 1;
        }
        if (worker.fenced) return;
        if (settled > 0) {
          broker.commit(this.group, this.topic, partition, offset + settled);
          offset += settled;
        }
        if (abandoned) return;
      } catch (err) {
        // Only dead-lettering can throw here; keep the records and try again later.
        this.lastError = errorMessage(err);
        logger.error('could not settle message; will retry', {
          topic: this.topic,
          partition,
          offset,
          error: this.lastError,
        });
        if (!(await sleep(1000, signal))) return;
      }
    }
  }
}
