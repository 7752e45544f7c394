import { randomUUID } from 'node:crypto';
import {
  CE_HEADERS,
  contentTypeMatches,
  currentTraceContext,
  decodeCloudEventHeaders,
  encodeCloudEventHeaders,
  isValidTraceparent,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
} from './cloudevents';
import { EventBusError, MalformedMessageError } from './errors';
import { isKeyInTenant, type TopicSpec } from './topic-spec';

export const DEFAULT_CONTENT_TYPE = 'application/protobuf';

/** One consumed message: CloudEvents attributes, the decoded value and where it came from. */
export interface Envelope<T> {
  /** CloudEvents id; consumers deduplicate redeliveries on it. */
  readonly id: string;
  /** CloudEvents type: the codec's type name, e.g. `mandate.v1.ActionProposal`. */
  readonly type: string;
  /** CloudEvents source: the publishing service, e.g. `policy`. */
  readonly source: string;
  readonly subject?: string;
  /** RFC 3339 time the event was published (or `PublishMeta.time`). */
  readonly time: string;
  readonly tenantId: string;
  readonly correlationId: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Partition key. */
  readonly key: string;
  readonly value: T;
  /** 1 on first delivery in this consumer, +1 per in-process retry; resets on redelivery elsewhere. */
  readonly attempt: number;
  /** All transport headers as strings, including the `ce_*` ones. */
  readonly headers: Readonly<Record<string, string>>;
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset (an int64, hence a string); the in-process bus uses the same numbering. */
  readonly offset: string;
}

/** What a publisher states about a message besides its value. */
export interface PublishMeta {
  tenantId: string;
  correlationId: string;
  /** Publishing service, e.g. `orchestrator`. */
  source: string;
  subject?: string;
  /** W3C traceparent; defaults to the active OpenTelemetry context or a new root. */
  traceparent?: string;
  tracestate?: string;
  /** Event id; defaults to a random UUID. Set it to make republishing (outbox relays) idempotent downstream. */
  id?: string;
  /** Event time; defaults to now. */
  time?: Date;
}

/** A message as the transport stores it. */
export interface RawMessage {
  key: string | null;
  value: Uint8Array | null;
  headers: Record<string, string>;
}

/** A message as read from a topic partition. */
export interface RawRecord extends RawMessage {
  topic: string;
  partition: number;
  offset: string;
  /** Broker timestamp, ms since epoch. */
  timestamp: number;
}

/** A message the bus encoded: always keyed, always with a value. */
export interface EncodedMessage extends RawMessage {
  key: string;
  value: Uint8Array;
}

/** Validates metadata, computes the key, encodes the value and the CloudEvents headers. */
export function encodeMessage<T>(topic: TopicSpec<T>, value: T, meta: PublishMeta): EncodedMessage {
  if (topic.kind !== 'event') {
    throw new EventBusError(`cannot publish to dead-letter topic "${topic.name}"`);
  }
  for (const field of ['tenantId', 'correlationId', 'source'] as const) {
    if (typeof meta[field] !== 'string' || meta[field] === '') {
      throw new EventBusError(`publish to "${topic.name}": meta.${field} is required`);
    }
  }
  const key = topic.key(value);
  if (!key || !isKeyInTenant(key, meta.tenantId)) {
    // Invariant 7: a key outside the tenant would mix tenants in one ordered stream.
    throw new EventBusError(`publish to "${topic.name}": key is not scoped to the tenant`);
  }
  if (meta.traceparent !== undefined && !isValidTraceparent(meta.traceparent)) {
    throw new EventBusError(`publish to "${topic.name}": invalid traceparent`);
  }
  const trace =
    meta.traceparent !== undefined
      ? { traceparent: meta.traceparent, tracestate: meta.tracestate }
      : currentTraceContext();
  const headers = encodeCloudEventHeaders({
    id: meta.id ?? randomUUID(),
    type: topic.codec.typeName,
    source: meta.source,
    time: (meta.time ?? new Date()).toISOString(),
    subject: meta.subject,
    tenantId: meta.tenantId,
    correlationId: meta.correlationId,
    contentType: topic.codec.contentType ?? DEFAULT_CONTENT_TYPE,
    traceparent: trace.traceparent,
    tracestate: trace.tracestate,
  });
  return { key, value: topic.codec.encode(value), headers };
}

/** An envelope without the delivery attempt, which the consumer loop adds. */
export type DecodedEnvelope<T> = Omit<Envelope<T>, 'attempt'>;

/**
 * Turns a consumed record into an envelope, or throws MalformedMessageError. Event topics fail
 * closed: wrong type, wrong content type, a key outside the tenant or undecodable bytes are all
 * malformed. Dead-letter topics accept anything (that is what they are for).
 */
export function decodeRecord<T>(topic: TopicSpec<T>, record: RawRecord): DecodedEnvelope<T> {
  const position = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    headers: record.headers,
  };
  if (topic.kind === 'dead-letter') {
    const h = record.headers;
    return {
      ...position,
      id: h[CE_HEADERS.id] ?? `${record.topic}:${record.partition}:${record.offset}`,
      type: h[CE_HEADERS.type] ?? '',
      source: h[CE_HEADERS.source] ?? '',
      time: h[CE_HEADERS.time] ?? new Date(record.timestamp).toISOString(),
      tenantId: h[CE_HEADERS.tenantId] ?? '',
      correlationId: h[CE_HEADERS.correlationId] ?? '',
      ...(h[TRACEPARENT_HEADER] ? { traceparent: h[TRACEPARENT_HEADER] } : {}),
      ...(h[TRACESTATE_HEADER] ? { tracestate: h[TRACESTATE_HEADER] } : {}),
      key: record.key ?? '',
      value: topic.codec.decode(record.value ?? new Uint8Array()),
    };
  }
  const attrs = decodeCloudEventHeaders(record.headers);
  if (attrs.type !== topic.codec.typeName) {
    throw new MalformedMessageError(
      `unexpected ${CE_HEADERS.type} "${attrs.type}" (topic carries ${topic.codec.typeName})`,
    );
  }
  const expectedContentType = topic.codec.contentType ?? DEFAULT_CONTENT_TYPE;
  if (!contentTypeMatches(expectedContentType, attrs.contentType)) {
    throw new MalformedMessageError(
      `unexpected content-type "${attrs.contentType}" (expected ${expectedContentType})`,
    );
  }
  if (record.key === null || !isKeyInTenant(record.key, attrs.tenantId)) {
    throw new MalformedMessageError(`message key is not scoped to ${CE_HEADERS.tenantId}`);
  }
  if (record.value === null) {
    throw new MalformedMessageError('message has no value');
  }
  let value: T;
  try {
    value = topic.codec.decode(record.value);
  } catch (err) {
    throw new MalformedMessageError(
      `payload is not a valid ${topic.codec.typeName}: ${errorMessage(err)}`,
    );
  }
  return {
    ...position,
    id: attrs.id,
    type: attrs.type,
    source: attrs.source,
    time: attrs.time,
    tenantId: attrs.tenantId,
    correlationId: attrs.correlationId,
    ...(attrs.subject !== undefined ? { subject: attrs.subject } : {}),
    ...(attrs.traceparent !== undefined ? { traceparent: attrs.traceparent } : {}),
    ...(attrs.tracestate !== undefined ? { tracestate: attrs.tracestate } : {}),
    key: record.key,
    value,
  };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
