import type { TopicSpec } from '@mandate/messaging';

const ON_EVENT = Symbol('mandate:on-event');

export interface OnEventOptions {
  /** Attempts before the message goes to the topic's dead-letter topic. */
  maxAttempts?: number;
  /**
   * Every replica gets every message (a consumer group of its own, read from the start of the
   * topic), instead of replicas sharing them. For control topics that each replica must apply.
   */
  broadcast?: boolean;
}

export interface OnEventBinding {
  topic: TopicSpec<unknown>;
  method: string;
  options: OnEventOptions;
}

/**
 * Marks a consumer method as the handler of one topic. The service's ConsumerHost subscribes it
 * with the service's consumer group, so each service (in its own process or embedded) gets every
 * message once, and replicas of one service share them.
 */
export function OnEvent<T>(topic: TopicSpec<T>, options: OnEventOptions = {}): MethodDecorator {
  return (target, propertyKey) => {
    const list: OnEventBinding[] = Reflect.getMetadata(ON_EVENT, target.constructor) ?? [];
    list.push({ topic: topic as TopicSpec<unknown>, method: String(propertyKey), options });
    Reflect.defineMetadata(ON_EVENT, list, target.constructor);
  };
}

export function eventBindingsOf(consumerClass: object): OnEventBinding[] {
  return Reflect.getMetadata(ON_EVENT, consumerClass) ?? [];
}
