import { EventBusError } from './errors';

/** Turns a topic's value type into bytes and back. `typeName` is also the CloudEvents `type`. */
export interface Codec<T> {
  /** Fully qualified message type, e.g. `mandate.v1.ActionProposal`; sent as `ce_type`. */
  readonly typeName: string;
  /** MIME type of the encoded bytes; defaults to `application/protobuf`. */
  readonly contentType?: string;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export type CleanupPolicy = 'delete' | 'compact';

/**
 * Everything the platform knows about one topic. Method syntax (not arrow properties) keeps
 * `TopicSpec<Foo>` assignable to `TopicSpec<unknown>`, so catalogs can hold mixed specs.
 */
export interface TopicSpec<T> {
  readonly name: string;
  readonly description: string;
  /**
   * Partition key: tenant first, then the record id (`tenant/object/record`), so changes to one
   * record stay ordered and a key never spans tenants. The bus refuses keys outside the tenant.
   */
  key(value: T): string;
  readonly codec: Codec<T>;
  readonly partitions: number;
  /** Retention in ms; -1 keeps forever; undefined leaves the broker default. */
  readonly retentionMs?: number;
  readonly cleanupPolicy: CleanupPolicy;
  /** Name of the dead-letter topic (`<name>.dlq`); empty for a dead-letter topic itself. */
  readonly deadLetter: string;
  /** `dead-letter` topics carry raw bytes and failure headers rather than CloudEvents. */
  readonly kind: 'event' | 'dead-letter';
}

/** A named set of topic specs; values may be of different types. */
export type TopicCatalog = Readonly<Record<string, TopicSpec<unknown>>>;

export interface TopicDefinition<T> {
  name: string;
  description: string;
  key: (value: T) => string;
  codec: Codec<T>;
  partitions: number;
  retentionMs?: number;
  cleanupPolicy?: CleanupPolicy;
}

export const DEAD_LETTER_SUFFIX = '.dlq';
/** Dead letters are kept at least this long so operators can inspect and replay them. */
export const DEAD_LETTER_MIN_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/;
// Kafka's limit is 249; leave room for the dead-letter suffix.
const MAX_NAME_LENGTH = 249 - DEAD_LETTER_SUFFIX.length;

export function deadLetterTopicName(name: string): string {
  return `${name}${DEAD_LETTER_SUFFIX}`;
}

/** Validates a topic definition and derives its dead-letter topic name. */
export function defineTopic<T>(def: TopicDefinition<T>): TopicSpec<T> {
  if (!LEGAL_NAME.test(def.name) || def.name.length > MAX_NAME_LENGTH) {
    throw new EventBusError(`illegal topic name "${def.name}"`);
  }
  if (def.name.endsWith(DEAD_LETTER_SUFFIX)) {
    throw new EventBusError(`topic "${def.name}" must not end in ${DEAD_LETTER_SUFFIX}`);
  }
  if (!Number.isInteger(def.partitions) || def.partitions < 1) {
    throw new EventBusError(`topic "${def.name}": partitions must be a positive integer`);
  }
  if (def.retentionMs !== undefined && def.retentionMs !== -1 && !(def.retentionMs > 0)) {
    throw new EventBusError(`topic "${def.name}": retentionMs must be -1 or positive`);
  }
  const key = def.key;
  return Object.freeze({
    name: def.name,
    description: def.description,
    key: (value: T) => key(value),
    codec: def.codec,
    partitions: def.partitions,
    retentionMs: def.retentionMs,
    cleanupPolicy: def.cleanupPolicy ?? 'delete',
    deadLetter: deadLetterTopicName(def.name),
    kind: 'event' as const,
  });
}

/** Passes bytes through unchanged: the value type of dead-letter topics. */
export const rawBytesCodec: Codec<Uint8Array> = Object.freeze({
  typeName: 'mandate.DeadLetter',
  contentType: 'application/octet-stream',
  encode: (value: Uint8Array) => value,
  decode: (bytes: Uint8Array) => bytes,
});

/**
 * The dead-letter topic of `topic`, to subscribe to or inspect. Values are the original raw
 * bytes; use `readDeadLetter(envelope)` for the failure headers. It cannot be published to.
 */
export function deadLetterTopic(topic: TopicSpec<unknown>): TopicSpec<Uint8Array> {
  if (topic.kind === 'dead-letter') {
    throw new EventBusError(`"${topic.name}" is already a dead-letter topic`);
  }
  const source = topic.retentionMs;
  const retentionMs = source === -1 ? -1 : Math.max(source ?? 0, DEAD_LETTER_MIN_RETENTION_MS);
  return Object.freeze({
    name: topic.deadLetter,
    description: `Dead letters of ${topic.name}: raw bytes plus mandate-dlq-* failure headers.`,
    key: (): string => {
      throw new EventBusError('dead-letter topics are written by the bus only');
    },
    codec: rawBytesCodec,
    partitions: topic.partitions,
    retentionMs,
    cleanupPolicy: 'delete' as const,
    deadLetter: '',
    kind: 'dead-letter' as const,
  });
}

/** Builds a tenant-scoped partition key: `tenant/part/part`. */
export function tenantKey(tenantId: string, ...parts: string[]): string {
  return [tenantId, ...parts].join('/');
}

/** True when `key` is `tenantId` itself or starts with `tenantId/`. */
export function isKeyInTenant(key: string, tenantId: string): boolean {
  return key === tenantId || key.startsWith(`${tenantId}/`);
}
