import type { DeadLetterFailure } from './dead-letter';
import { decodeRecord, errorMessage, type DecodedEnvelope, type RawRecord } from './envelope';
import { MalformedMessageError, RejectedMessageError } from './errors';
import {
  backoffMs,
  type BatchEnvelopeHandler,
  type EnvelopeHandler,
  type RetryPolicy,
} from './event-bus';
import type { BusLogger } from './logger';
import type { TopicSpec } from './topic-spec';

/**
 * `handled` and `dead-lettered` mean "commit past this record"; `abandoned` means the consumer
 * is stopping (or lost the partition) before the record was settled: do not commit, so the next
 * owner of the partition gets it again.
 */
export type DeliveryOutcome = 'handled' | 'dead-lettered' | 'abandoned';

export interface DeliveryContext<T> {
  topic: TopicSpec<T>;
  group: string;
  handler: EnvelopeHandler<T>;
  retry: RetryPolicy;
  /** Aborted when the subscription stops or loses the partition. */
  signal: AbortSignal;
  deadLetter(record: RawRecord, failure: DeadLetterFailure): Promise<void>;
  /** Called before each handler attempt (Kafka heartbeats here during long retry sequences). */
  beforeAttempt?(): Promise<void>;
  logger: BusLogger;
  random?: () => number;
}

/**
 * Settles one record: the shared semantics of every adapter. Malformed records go straight to
 * the dead-letter topic; a failing handler is retried with backoff (the partition waits, which
 * keeps per-key order) until `maxAttempts`, then dead-lettered. Dead-letter topics themselves
 * are retried without limit, since there is nowhere further to put a message.
 * Throws only when dead-lettering itself fails, in which case nothing must be committed.
 */
export async function deliverRecord<T>(
  record: RawRecord,
  ctx: DeliveryContext<T>,
): Promise<DeliveryOutcome> {
  const decoded = await decodeOrDeadLetter(record, ctx);
  if (decoded === undefined) return 'dead-lettered';
  return deliverDecoded(record, decoded, ctx);
}

export interface BatchDeliveryContext<T> extends DeliveryContext<T> {
  /** The batch handler; `handler` (per message) isolates a poison message once batch retries are exhausted. */
  batchHandler: BatchEnvelopeHandler<T>;
}

/**
 * How far a batch got. Its first `settled` records were handled or dead-lettered and may be
 * committed; `abandoned` means the consumer is stopping and the rest must stay uncommitted.
 */
export interface BatchSettlement {
  outcome: 'handled' | 'abandoned';
  settled: number;
}

/**
 * Settles consecutive records of one partition as a batch: the shared semantics of every adapter.
 * Malformed records are dead-lettered one by one and left out of the batch. The batch handler
 * gets the rest in order and is retried with backoff (`attempt` counts batch attempts) up to
 * `maxAttempts` (on dead-letter topics too); after that the records are delivered one by one
 * through the per-message handler with the normal retry and dead-letter behaviour
 * (deliverRecord), so only the poison message ends up dead-lettered. Throws only when
 * dead-lettering itself fails, in which case nothing of the batch must be committed.
 */
export async function deliverBatch<T>(
  records: readonly RawRecord[],
  ctx: BatchDeliveryContext<T>,
): Promise<BatchSettlement> {
  // Index in `records` and envelope of every decodable record; malformed ones are dead-lettered.
  const good: Array<{ index: number; record: RawRecord; envelope: DecodedEnvelope<T> }> = [];
  for (const [index, record] of records.entries()) {
    const envelope = await decodeOrDeadLetter(record, ctx);
    if (envelope !== undefined) good.push({ index, record, envelope });
  }
  const first = good[0];
  if (first === undefined) return { outcome: 'handled', settled: records.length };
  // Malformed records before the first good one are settled even if the batch is abandoned.
  const abandoned: BatchSettlement = { outcome: 'abandoned', settled: first.index };
  const where = {
    ...position(first.record, ctx.group),
    size: good.length,
  };
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal.aborted) return abandoned;
    await ctx.beforeAttempt?.();
    try {
      await ctx.batchHandler(good.map((g) => ({ ...g.envelope, attempt })));
      return { outcome: 'handled', settled: records.length };
    } catch (err) {
      if (ctx.signal.aborted) return abandoned;
      const errorName = err instanceof Error ? err.name : typeof err;
      if (attempt >= ctx.retry.maxAttempts || err instanceof RejectedMessageError) {
        ctx.logger.error('batch handler failed, retries exhausted; delivering one by one', {
          ...where,
          attempt,
          errorName,
        });
        break;
      }
      const delay = backoffMs(ctx.retry, attempt, ctx.random);
      ctx.logger.warn('batch handler failed; retrying', {
        ...where,
        attempt,
        errorName,
        delayMs: delay,
      });
      if (!(await sleep(delay, ctx.signal))) return abandoned;
    }
  }
  // Poison isolation: every good record on its own, with the per-message retry and dead-letter.
  for (const { index, record, envelope } of good) {
    const outcome = await deliverDecoded(record, envelope, ctx);
    if (outcome === 'abandoned') return { outcome: 'abandoned', settled: index };
  }
  return { outcome: 'handled', settled: records.length };
}

/** Decodes a record, or dead-letters it as malformed and returns undefined. */
async function decodeOrDeadLetter<T>(
  record: RawRecord,
  ctx: DeliveryContext<T>,
): Promise<DecodedEnvelope<T> | undefined> {
  try {
    return decodeRecord(ctx.topic, record);
  } catch (err) {
    if (!(err instanceof MalformedMessageError)) throw err;
    ctx.logger.warn('malformed message dead-lettered', {
      ...position(record, ctx.group),
      reason: err.message,
    });
    await ctx.deadLetter(record, {
      kind: 'malformed',
      reason: err.message,
      attempts: 0,
      group: ctx.group,
    });
    return undefined;
  }
}

async function deliverDecoded<T>(
  record: RawRecord,
  decoded: DecodedEnvelope<T>,
  ctx: DeliveryContext<T>,
): Promise<DeliveryOutcome> {
  const where = position(record, ctx.group);
  const unbounded = ctx.topic.kind === 'dead-letter';
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal.aborted) return 'abandoned';
    await ctx.beforeAttempt?.();
    try {
      await ctx.handler({ ...decoded, attempt });
      return 'handled';
    } catch (err) {
      // Stopping: leave the record uncommitted rather than retry or dead-letter it.
      if (ctx.signal.aborted) return 'abandoned';
      // Log the error class only: messages from domain code may carry personal data; the full
      // reason goes into the dead-letter headers next to the (equally sensitive) payload.
      const errorName = err instanceof Error ? err.name : typeof err;
      if (err instanceof RejectedMessageError && !unbounded) {
        ctx.logger.warn('handler rejected the message; dead-lettering', { ...where, attempt });
        await ctx.deadLetter(record, {
          kind: 'rejected',
          reason: err.message,
          attempts: attempt,
          group: ctx.group,
        });
        return 'dead-lettered';
      }
      if (!unbounded && attempt >= ctx.retry.maxAttempts) {
        ctx.logger.error('handler failed, retries exhausted; dead-lettering', {
          ...where,
          attempt,
          errorName,
        });
        await ctx.deadLetter(record, {
          kind: 'handler-failed',
          reason: `handler failed after ${attempt} attempt(s): ${errorMessage(err)}`,
          attempts: attempt,
          group: ctx.group,
        });
        return 'dead-lettered';
      }
      const delay = backoffMs(ctx.retry, attempt, ctx.random);
      ctx.logger.warn('handler failed; retrying', { ...where, attempt, errorName, delayMs: delay });
      if (!(await sleep(delay, ctx.signal))) return 'abandoned';
    }
  }
}

function position(
  record: RawRecord,
  group: string,
): { topic: string; partition: number; offset: string; group: string } {
  return { topic: record.topic, partition: record.partition, offset: record.offset, group };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
