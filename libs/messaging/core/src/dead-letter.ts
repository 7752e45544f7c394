import type { Envelope, RawRecord } from './envelope';

/** Headers the bus adds when it dead-letters a message (the original headers are kept). */
export const DLQ_HEADERS = Object.freeze({
  reason: 'mandate-dlq-reason',
  kind: 'mandate-dlq-kind',
  topic: 'mandate-dlq-original-topic',
  partition: 'mandate-dlq-original-partition',
  offset: 'mandate-dlq-original-offset',
  attempts: 'mandate-dlq-attempts',
  group: 'mandate-dlq-group',
  failedAt: 'mandate-dlq-failed-at',
});

/**
 * `malformed`: could not be decoded (never retried); `handler-failed`: retries exhausted;
 * `rejected`: the handler settled it but it cannot succeed (RejectedMessageError, not retried).
 */
export type DeadLetterKind = 'malformed' | 'handler-failed' | 'rejected';

export interface DeadLetterFailure {
  kind: DeadLetterKind;
  reason: string;
  /** Handler attempts made; 0 for malformed messages. */
  attempts: number;
  group: string;
}

export interface DeadLetterInfo extends DeadLetterFailure {
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  failedAt: string;
  key: string;
  /** The original payload bytes, unchanged. */
  payload: Uint8Array;
  /** The original message headers, without the `mandate-dlq-*` ones. */
  originalHeaders: Record<string, string>;
}

// Bounded so a huge error message cannot blow up a Kafka header.
const MAX_REASON_LENGTH = 1024;

/** Headers of the dead-letter copy of `record`: its own headers plus the failure headers. */
export function deadLetterHeaders(
  record: RawRecord,
  failure: DeadLetterFailure,
  now: Date = new Date(),
): Record<string, string> {
  return {
    ...stripDeadLetterHeaders(record.headers),
    [DLQ_HEADERS.reason]: failure.reason.slice(0, MAX_REASON_LENGTH),
    [DLQ_HEADERS.kind]: failure.kind,
    [DLQ_HEADERS.topic]: record.topic,
    [DLQ_HEADERS.partition]: String(record.partition),
    [DLQ_HEADERS.offset]: record.offset,
    [DLQ_HEADERS.attempts]: String(failure.attempts),
    [DLQ_HEADERS.group]: failure.group,
    [DLQ_HEADERS.failedAt]: now.toISOString(),
  };
}

/** Reads the failure details of an envelope consumed from a dead-letter topic. */
export function readDeadLetter(envelope: Envelope<Uint8Array>): DeadLetterInfo {
  const h = envelope.headers;
  return {
    kind: deadLetterKindOf(h[DLQ_HEADERS.kind]),
    reason: h[DLQ_HEADERS.reason] ?? '',
    attempts: Number(h[DLQ_HEADERS.attempts] ?? 0),
    group: h[DLQ_HEADERS.group] ?? '',
    originalTopic: h[DLQ_HEADERS.topic] ?? '',
    originalPartition: Number(h[DLQ_HEADERS.partition] ?? -1),
    originalOffset: h[DLQ_HEADERS.offset] ?? '',
    failedAt: h[DLQ_HEADERS.failedAt] ?? '',
    key: envelope.key,
    payload: envelope.value,
    originalHeaders: stripDeadLetterHeaders(h),
  };
}

function stripDeadLetterHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('mandate-dlq-')) out[name] = value;
  }
  return out;
}

function deadLetterKindOf(raw: string | undefined): DeadLetterKind {
  return raw === 'malformed' || raw === 'rejected' ? raw : 'handler-failed';
}
