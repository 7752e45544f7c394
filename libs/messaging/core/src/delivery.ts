import type { DeadLetterFailure } from './dead-letter';
import { decodeRecord, errorMessage, type DecodedEnvelope, type RawRecord } from './envelope';
import { MalformedMessageError } from './errors';
import { backoffMs, type EnvelopeHandler, type RetryPolicy } from './event-bus';
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
  const where = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    group: ctx.group,
  };
  let decoded: DecodedEnvelope<T>;
  try {
    decoded = decodeRecord(ctx.topic, record);
  } catch (err) {
    if (!(err instanceof MalformedMessageError)) throw err;
    ctx.logger.warn('malformed message dead-lettered', { ...where, reason: err.message });
    await ctx.deadLetter(record, {
      kind: 'malformed',
      reason: err.message,
      attempts: 0,
      group: ctx.group,
    });
    return 'dead-lettered';
  }
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
