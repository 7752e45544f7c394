import {
  deadLetterHeaders,
  DEFAULT_RETRY,
  deliverBatch,
  deliverRecord,
  encodeMessage,
  errorMessage,
  EventBusError,
  resolveBatch,
  resolveRetry,
  silentLogger,
  type BatchItem,
  type BusHealth,
  type BusLogger,
  type DeadLetterFailure,
  type EventBus,
  type PublishMeta,
  type RawRecord,
  type RetryPolicy,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHealth,
  type SubscriptionState,
  type TopicSpec,
} from '@mandate/messaging';
import {
  Partitioners,
  type Consumer,
  type EachBatchPayload,
  type EachMessagePayload,
  type Kafka,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import { createKafkaClient, type KafkaConnectionConfig } from './kafka-client';
import { headersToStrings, toBuffer } from './kafka-headers';

const DEFAULT_MAX_REQUEST_BYTES = 512 * 1024;

export interface KafkaEventBusOptions extends KafkaConnectionConfig {
  /** Defaults for subscriptions that do not set their own retry policy. */
  defaultRetry?: Partial<RetryPolicy>;
  /** How long stop/unsubscribe waits for in-flight handlers before abandoning them uncommitted. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** How long subscribe waits for the consumer to join its group. Default 60 s. */
  joinTimeoutMs?: number;
  /**
   * Largest produce request `publishBatch` sends; a bigger batch goes out in several requests.
   * Default 512 KiB, under the broker's default `message.max.bytes` of 1 MiB.
   */
  maxRequestBytes?: number;
  /** Consumer session timeout. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Consumer heartbeat interval; also bounds how fast members notice a rebalance. Default 3 s. */
  heartbeatIntervalMs?: number;
  /** Fetch long-poll; bounds how long stop waits for an idle fetch. Default 1 s. */
  maxWaitTimeMs?: number;
  random?: () => number;
}

/**
 * Kafka consumer group id of a subscription. One consumer (and one Kafka group) per subscribed
 * topic: kafkajs's assigners only assign the leader's own topics, so members of one group
 * subscribed to different topics would starve; separate groups also keep a rebalance on one
 * topic from pausing the others.
 */
export function kafkaGroupId(group: string, topic: string): string {
  return `${group}.${topic}`;
}

type BusState = BusHealth['detail']['state'];

/**
 * EventBus on Apache Kafka (kafkajs). Producer: idempotent, acks=all, one request in flight, so
 * retries neither duplicate nor reorder. Consumers: manual commits only after the handler
 * succeeded or the message was dead-lettered; partitions are processed concurrently, each one
 * sequentially.
 */
export class KafkaEventBus implements EventBus {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly logger: BusLogger;
  private readonly defaultRetry: RetryPolicy;
  private readonly subscriptions = new Set<KafkaSubscription<unknown>>();
  private state: BusState = 'created';
  private producerConnected = false;
  private lastError: string | undefined;

  constructor(private readonly options: KafkaEventBusOptions) {
    this.kafka = createKafkaClient(options);
    this.logger = options.logger ?? silentLogger;
    this.defaultRetry = resolveRetry(options.defaultRetry, DEFAULT_RETRY);
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Explicit, so kafkajs does not warn about its v2 default change; same murmur2 as Java.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.producer.on(this.producer.events.CONNECT, () => (this.producerConnected = true));
    this.producer.on(this.producer.events.DISCONNECT, () => (this.producerConnected = false));
  }

  async start(): Promise<void> {
    if (this.state !== 'created')
      throw new EventBusError(`cannot start a bus that is ${this.state}`);
    this.state = 'starting';
    try {
      await this.producer.connect();
      await Promise.all([...this.subscriptions].map((s) => s.activate()));
      this.state = 'started';
    } catch (err) {
      this.lastError = errorMessage(err);
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const wasConnected = this.state !== 'created';
    this.state = 'stopping';
    // Consumers first: in-flight handlers may still publish follow-ups and dead letters.
    await Promise.all([...this.subscriptions].map((s) => s.unsubscribe()));
    if (wasConnected) await this.producer.disconnect();
    this.state = 'stopped';
  }

  async publish<T>(topic: TopicSpec<T>, value: T, meta: PublishMeta): Promise<void> {
    await this.publishBatch(topic, [{ value, meta }]);
  }

  async publishBatch<T>(topic: TopicSpec<T>, items: ReadonlyArray<BatchItem<T>>): Promise<void> {
    if (this.state !== 'started' && this.state !== 'stopping') {
      throw new EventBusError(`cannot publish on a bus that is ${this.state}`);
    }
    const messages = items.map((item) => encodeMessage(topic, item.value, item.meta));
    // A broker refuses a produce request over its message size (1 MiB by default): send the
    // batch in requests of at most `maxRequestBytes` (in order; not atomic, as before).
    const limit = this.options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    let chunk: { key: string | null; value: Buffer | null; headers: Record<string, string> }[] = [];
    let bytes = 0;
    const flush = async () => {
      if (!chunk.length) return;
      await this.producer.send({ topic: topic.name, acks: -1, messages: chunk });
      chunk = [];
      bytes = 0;
    };
    for (const m of messages) {
      const value = toBuffer(m.value);
      const size =
        (value?.length ?? 0) + (m.key?.length ?? 0) + JSON.stringify(m.headers).length + 64;
      if (bytes + size > limit) await flush();
      chunk.push({ key: m.key, value, headers: m.headers });
      bytes += size;
    }
    await flush();
  }

  async subscribe<T>(topic: TopicSpec<T>, options: SubscribeOptions<T>): Promise<Subscription> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new EventBusError(`cannot subscribe on a bus that is ${this.state}`);
    }
    if (!options.group) throw new EventBusError('subscribe: group is required');
    resolveBatch(options.batch);
    const sub = new KafkaSubscription<T>(topic, options, {
      kafka: this.kafka,
      options: this.options,
      logger: this.logger,
      retry: resolveRetry(options.retry, this.defaultRetry),
      deadLetter: (raw, failure) => this.sendDeadLetter(topic, raw, failure),
      onStopped: (s) => this.subscriptions.delete(s as KafkaSubscription<unknown>),
    });
    this.subscriptions.add(sub as KafkaSubscription<unknown>);
    if (this.state === 'started' || this.state === 'starting') {
      try {
        await sub.activate();
      } catch (err) {
        await sub.unsubscribe();
        throw err;
      }
    }
    return sub;
  }

  health(): BusHealth {
    const subscriptions = [...this.subscriptions].map((s) => s.health());
    return {
      ready:
        this.state === 'started' &&
        this.producerConnected &&
        subscriptions.every((s) => s.state === 'running'),
      detail: {
        transport: 'kafka',
        state: this.state,
        subscriptions,
        ...(this.lastError ? { error: this.lastError } : {}),
      },
    };
  }

  private async sendDeadLetter(
    topic: TopicSpec<unknown>,
    raw: RawRecord,
    failure: DeadLetterFailure,
  ): Promise<void> {
    await this.producer.send({
      topic: topic.deadLetter,
      acks: -1,
      messages: [
        { key: raw.key, value: toBuffer(raw.value), headers: deadLetterHeaders(raw, failure) },
      ],
    });
  }
}

interface SubscriptionDeps {
  kafka: Kafka;
  options: KafkaEventBusOptions;
  logger: BusLogger;
  retry: RetryPolicy;
  deadLetter(raw: RawRecord, failure: DeadLetterFailure): Promise<void>;
  onStopped(sub: KafkaSubscription<unknown>): void;
}

class KafkaSubscription<T> implements Subscription {
  readonly topic: string;
  readonly group: string;
  private state: SubscriptionState = 'pending';
  private lastError: string | undefined;
  private consumer: Consumer | undefined;
  private readonly stopSignal = new AbortController();
  /** Set when shutdown gave up waiting: late results of abandoned handlers must not be committed. */
  private fenced = false;
  private activating: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** Settling messages (tracked only to wait for them: their errors are kafkajs's to handle). */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly spec: TopicSpec<T>,
    private readonly options: SubscribeOptions<T>,
    private readonly deps: SubscriptionDeps,
  ) {
    this.topic = spec.name;
    this.group = options.group;
  }

  activate(): Promise<void> {
    this.activating ??= this.run();
    return this.activating;
  }

  unsubscribe(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  health(): SubscriptionHealth {
    return {
      topic: this.topic,
      group: this.group,
      state: this.state,
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }

  private async run(): Promise<void> {
    const o = this.deps.options;
    const consumer = this.deps.kafka.consumer({
      groupId: kafkaGroupId(this.group, this.topic),
      sessionTimeout: o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: o.heartbeatIntervalMs ?? 3_000,
      maxWaitTimeInMs: o.maxWaitTimeMs ?? 1_000,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    const { GROUP_JOIN, CRASH } = consumer.events;
    let joined!: () => void;
    const firstJoin = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(GROUP_JOIN, () => {
      if (this.state === 'pending') this.state = 'running';
      joined();
    });
    consumer.on(CRASH, ({ payload }) => {
      this.lastError = payload.error.message;
      if (this.state === 'running' || this.state === 'pending')
        this.state = payload.restart ? 'pending' : 'failed';
      this.deps.logger.error('consumer crashed', {
        topic: this.topic,
        group: this.group,
        restart: payload.restart,
        error: payload.error.message,
      });
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [this.topic],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.spec.partitions,
      ...(this.options.batch
        ? {
            // Offsets are resolved and committed by settleBatch, chunk by chunk.
            eachBatchAutoResolve: false,
            eachBatch: (payload) => this.track(this.settleBatch(payload)),
          }
        : { eachMessage: (payload) => this.handle(payload) }),
    });
    const timeoutMs = o.joinTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new EventBusError(
              `subscription to ${this.topic} did not join group ${this.group} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([firstJoin, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private handle(payload: EachMessagePayload): Promise<void> {
    // Once stopping, settle nothing new: kafkajs may still offer the rest of a fetched batch.
    if (this.stopSignal.signal.aborted) return Promise.resolve();
    return this.track(this.settle(payload));
  }

  /** Registers settling work so shutdown can wait for it; returns it unchanged. */
  private track(work: Promise<void>): Promise<void> {
    const tracked = work.catch(() => undefined);
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return work;
  }

  /**
   * Batch mode: splits kafkajs's fetched batch into chunks of at most `maxSize` and settles them
   * in order, resolving and committing each chunk's settled prefix before the next one starts.
   * What is left unresolved (stop, rebalance) is fetched again by whoever owns the partition next.
   */
  private async settleBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const batchOptions = this.options.batch;
    if (!batchOptions) throw new Error('unreachable: eachBatch without batch options');
    const { topic, partition } = batch;
    const records = batch.messages.map((m) => toRawRecord(topic, partition, m));
    try {
      for (let start = 0; start < records.length; start += batchOptions.maxSize) {
        // Once stopping, settle nothing new; a seek or a lost partition makes the rest stale.
        if (this.stopSignal.signal.aborted || !isRunning() || isStale()) return;
        const chunk = records.slice(start, start + batchOptions.maxSize);
        const { outcome, settled } = await deliverBatch(chunk, {
          ...this.deliveryContext(heartbeat),
          batchHandler: batchOptions.handler,
        });
        if (this.fenced) return;
        const last = chunk[settled - 1];
        if (last) {
          resolveOffset(last.offset);
          await commitOffsetsIfNecessary({
            topics: [
              {
                topic,
                partitions: [{ partition, offset: (BigInt(last.offset) + 1n).toString() }],
              },
            ],
          });
        }
        if (outcome === 'abandoned') return;
        await heartbeat();
      }
    } catch (err) {
      // Unresolved and uncommitted: kafkajs rejoins or restarts the consumer and the rest comes again.
      this.lastError = errorMessage(err);
      throw err;
    }
  }

  /** What delivering one message or batch needs (shared by both consumption modes). */
  private deliveryContext(heartbeat: () => Promise<void>) {
    return {
      topic: this.spec,
      group: this.group,
      handler: this.options.handler,
      retry: this.deps.retry,
      signal: this.stopSignal.signal,
      deadLetter: this.deps.deadLetter,
      // Long retry sequences must not cost the group membership (kafkajs throttles this call).
      beforeAttempt: heartbeat,
      logger: this.deps.logger,
      random: this.deps.options.random,
    };
  }

  private async settle({
    topic,
    partition,
    message,
    heartbeat,
  }: EachMessagePayload): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) throw new Error('unreachable: a message arrived before the consumer existed');
    const record = toRawRecord(topic, partition, message);
    try {
      const outcome = await deliverRecord(record, this.deliveryContext(heartbeat));
      if (outcome === 'abandoned' || this.fenced) return;
      await consumer.commitOffsets([
        { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
      ]);
    } catch (err) {
      // Uncommitted: kafkajs rejoins or restarts the consumer and the message comes again.
      this.lastError = errorMessage(err);
      throw err;
    }
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopping';
    this.stopSignal.abort();
    // An activation failure was already reported to subscribe()/start(); here we only clean up.
    if (this.activating) await this.activating.catch(() => undefined);
    try {
      if (this.consumer) await this.disconnect(this.consumer);
    } finally {
      this.state = 'stopped';
      this.deps.onStopped(this as KafkaSubscription<unknown>);
    }
  }

  private async disconnect(consumer: Consumer): Promise<void> {
    const timeoutMs = this.deps.options.shutdownTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>(
      (resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)),
    );
    try {
      // Settle in-flight messages before telling kafkajs to stop: once its runner stops, kafkajs
      // silently drops commits, and a handler that finished during shutdown would be redelivered.
      const settled = await Promise.race([Promise.all(this.inFlight).then(() => true), deadline]);
      const disconnected = await Promise.race([consumer.disconnect().then(() => true), deadline]);
      if (!settled || !disconnected) {
        this.fenced = true;
        this.deps.logger.warn(
          'in-flight handler did not finish in time; abandoning it uncommitted',
          {
            topic: this.topic,
            group: this.group,
          },
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

function toRawRecord(topic: string, partition: number, message: KafkaMessage): RawRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key === null ? null : message.key.toString('utf8'),
    value:
      message.value === null
        ? null
        : new Uint8Array(message.value.buffer, message.value.byteOffset, message.value.byteLength),
    headers: headersToStrings(message.headers),
  };
}
