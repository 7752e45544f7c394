import { decodeCloudEventHeaders } from './cloudevents';
import { encodeMessage, type PublishMeta } from './envelope';
import { EventBusError } from './errors';
import type { EventBus } from './event-bus';
import type { TopicCatalog, TopicSpec } from './topic-spec';

/** A message encoded now, to be stored in a transactional outbox and published later. */
export interface EncodedOutboxMessage {
  readonly topic: string;
  readonly key: string;
  readonly payload: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Encodes a message for the outbox with the same validation as `publish`, so a bad message
 * fails the state change that wanted to emit it, not the relay. The CloudEvents id and time are
 * fixed here: a relay that republishes after a crash sends the identical event.
 */
export function outboxMessage<T>(
  topic: TopicSpec<T>,
  value: T,
  meta: PublishMeta,
): EncodedOutboxMessage {
  const message = encodeMessage(topic, value, meta);
  return { topic: topic.name, key: message.key, payload: message.value, headers: message.headers };
}

/**
 * Publishes stored outbox entries through the typed bus: the entry is decoded with its topic's
 * codec and republished with its original id, time, source and trace context.
 */
export function outboxPublisher(
  bus: EventBus,
  catalog: TopicCatalog,
): (entry: EncodedOutboxMessage) => Promise<void> {
  const byName = new Map(Object.values(catalog).map((t) => [t.name, t]));
  return async (entry) => {
    const topic = byName.get(entry.topic);
    if (!topic) throw new EventBusError(`outbox entry for unknown topic "${entry.topic}"`);
    const attrs = decodeCloudEventHeaders(entry.headers);
    if (attrs.type !== topic.codec.typeName) {
      throw new EventBusError(
        `outbox entry for "${entry.topic}" has type ${attrs.type}, expected ${topic.codec.typeName}`,
      );
    }
    const value = topic.codec.decode(entry.payload);
    if (topic.key(value) !== entry.key) {
      throw new EventBusError(
        `outbox entry for "${entry.topic}": stored key does not match the payload`,
      );
    }
    await bus.publish(topic, value, {
      id: attrs.id,
      time: new Date(attrs.time),
      source: attrs.source,
      tenantId: attrs.tenantId,
      correlationId: attrs.correlationId,
      subject: attrs.subject,
      traceparent: attrs.traceparent,
      tracestate: attrs.tracestate,
    });
  };
}
