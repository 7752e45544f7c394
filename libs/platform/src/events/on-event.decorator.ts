import type { Envelope, TopicSpec } from '@mandate/messaging';

const ON_EVENT = Symbol('mandate:on-event');

export interface OnEventOptions {
  /** Attempts before the message goes to the topic's dead-letter topic. */
  maxAttempts?: number;
  /**
   * Every replica gets every message (a consumer group of its own, read from the start of the
   * topic), instead of replicas sharing them. For control topics that each replica must apply.
   */
  broadcast?: boolean;
  /**
   * Batch consumption: the method receives `Envelope<T>[]` (up to `maxSize` messages of one
   * partition, in order) instead of one envelope. A batch that still fails after `maxAttempts` is
   * redelivered one message at a time (one-element arrays) so only the poison message is
   * dead-lettered. See the bus's `SubscribeOptions.batch`.
   */
  batch?: { maxSize: number };
}

export interface OnEventBinding {
  topic: TopicSpec<unknown>;
  method: string;
  options: OnEventOptions;
}

type BatchMethod<T> = (envelopes: Envelope<T>[]) => Promise<void>;

/**
 * Marks a consumer method as the handler of one topic. The service's ConsumerHost subscribes it
 * with the service's consumer group, so each service (in its own process or embedded) gets every
 * message once, and replicas of one service share them. With `batch`, the method must take an
 * array of envelopes (checked at compile time).
 */
export function OnEvent<T>(
  topic: TopicSpec<T>,
  options: OnEventOptions & { batch: { maxSize: number } },
): (
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<BatchMethod<T>>,
) => void;
export function OnEvent<T>(topic: TopicSpec<T>, options?: OnEventOptions): MethodDecorator;
export function OnEvent<T>(topic: TopicSpec<T>, options: OnEventOptions = {}): MethodDecorator {
  if (options.batch && (!Number.isInteger(options.batch.maxSize) || options.batch.maxSize < 1)) {
    throw new RangeError(`@OnEvent(${topic.name}): batch.maxSize must be an integer >= 1`);
  }
  return (target, propertyKey) => {
    const list: OnEventBinding[] = Reflect.getMetadata(ON_EVENT, target.constructor) ?? [];
    list.push({ topic: topic as TopicSpec<unknown>, method: String(propertyKey), options });
    Reflect.defineMetadata(ON_EVENT, list, target.constructor);
  };
}

export function eventBindingsOf(consumerClass: object): OnEventBinding[] {
  return Reflect.getMetadata(ON_EVENT, consumerClass) ?? [];
}
