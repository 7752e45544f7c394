import type { Envelope, PublishMeta } from './envelope';
import type { TopicSpec } from './topic-spec';

export type EnvelopeHandler<T> = (envelope: Envelope<T>) => Promise<void>;

/** Handles several envelopes of one partition at once, in offset order. */
export type BatchEnvelopeHandler<T> = (envelopes: Envelope<T>[]) => Promise<void>;

/**
 * Batch consumption: the subscription hands `handler` up to `maxSize` messages of one partition
 * at a time (whatever is available now: it never waits to fill a batch). Malformed messages are
 * dead-lettered one by one and left out. The batch is committed once the handler succeeded; a
 * failing batch is retried with the subscription's retry policy (every envelope's `attempt` is the
 * batch attempt) and, once that is exhausted, its messages are redelivered one by one to the
 * subscription's per-message `handler` with the normal retry and dead-letter behaviour, which
 * isolates the poison message. Then batching resumes.
 */
export interface BatchOptions<T> {
  /** Most messages per call; an integer >= 1. Batches never span partitions. */
  maxSize: number;
  handler: BatchEnvelopeHandler<T>;
}

/** In-process retry of a failing handler before the message is dead-lettered. */
export interface RetryPolicy {
  /** Total handler attempts, including the first. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  initialBackoffMs: 200,
  maxBackoffMs: 30_000,
});

export interface SubscribeOptions<T> {
  /** Consumer group: subscriptions in one group share the messages; each group gets all of them. */
  group: string;
  /** The per-message handler; with `batch` set it is the fallback that isolates a poison message. */
  handler: EnvelopeHandler<T>;
  /** Deliver in batches (see BatchOptions); `handler` is still required. */
  batch?: BatchOptions<T>;
  retry?: Partial<RetryPolicy>;
  /** Where a group with no committed position starts: the oldest retained message (default) or new ones only. */
  fromBeginning?: boolean;
}

export type SubscriptionState = 'pending' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface Subscription {
  readonly topic: string;
  readonly group: string;
  /** Graceful: lets an in-flight handler finish (and commits it if it succeeded), then leaves the group. */
  unsubscribe(): Promise<void>;
}

export interface SubscriptionHealth {
  topic: string;
  group: string;
  state: SubscriptionState;
  error?: string;
}

export interface BusHealth {
  /** Started, not stopping, transport connected and every subscription running. */
  ready: boolean;
  detail: {
    transport: 'in-process' | 'kafka';
    state: 'created' | 'starting' | 'started' | 'stopping' | 'stopped';
    subscriptions: SubscriptionHealth[];
    error?: string;
  };
}

export interface BatchItem<T> {
  value: T;
  meta: PublishMeta;
}

/**
 * The event bus port. Delivery is at-least-once: a message's position is committed only after its
 * handler succeeded (or after it was dead-lettered), so a crash or a stop mid-handler means
 * redelivery. Handlers must be idempotent (deduplicate on `envelope.id`).
 */
export interface EventBus {
  /** Connects; subscriptions made before start begin consuming now. */
  start(): Promise<void>;
  /** Stops every subscription gracefully, then the producer. Terminal: a stopped bus is not restarted. */
  stop(): Promise<void>;
  /** Resolves once the broker has durably accepted the message. */
  publish<T>(topic: TopicSpec<T>, value: T, meta: PublishMeta): Promise<void>;
  /** Publishes in order. Not transactional on Kafka: on error some messages may have been written. */
  publishBatch<T>(topic: TopicSpec<T>, items: ReadonlyArray<BatchItem<T>>): Promise<void>;
  /** Resolves once the subscription has joined its group (or at start(), if the bus is not started yet). */
  subscribe<T>(topic: TopicSpec<T>, options: SubscribeOptions<T>): Promise<Subscription>;
  health(): BusHealth;
}

export function resolveRetry(
  retry: Partial<RetryPolicy> | undefined,
  defaults: RetryPolicy = DEFAULT_RETRY,
): RetryPolicy {
  const r = { ...defaults, ...stripUndefined(retry ?? {}) };
  if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 1)
    throw new RangeError('retry.maxAttempts must be >= 1');
  if (r.initialBackoffMs < 0 || r.maxBackoffMs < r.initialBackoffMs)
    throw new RangeError('retry backoff must satisfy 0 <= initial <= max');
  return r;
}

/** Validates batch options (throws RangeError), or returns undefined when batching is off. */
export function resolveBatch<T>(batch: BatchOptions<T> | undefined): BatchOptions<T> | undefined {
  if (batch === undefined) return undefined;
  if (!Number.isInteger(batch.maxSize) || batch.maxSize < 1)
    throw new RangeError('batch.maxSize must be an integer >= 1');
  if (typeof batch.handler !== 'function') throw new RangeError('batch.handler is required');
  return batch;
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Backoff before attempt `failedAttempt + 1`: exponential, capped, with "equal jitter" (half
 * fixed, half random) so retries of many consumers spread out but never fire immediately.
 */
export function backoffMs(
  retry: RetryPolicy,
  failedAttempt: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(
    retry.maxBackoffMs,
    retry.initialBackoffMs * 2 ** Math.max(0, failedAttempt - 1),
  );
  return Math.round(exp / 2 + (random() * exp) / 2);
}
