export * from './cloudevents';
export * from './codecs';
export * from './dead-letter';
export {
  deliverBatch,
  deliverRecord,
  sleep,
  type BatchDeliveryContext,
  type BatchSettlement,
  type DeliveryContext,
  type DeliveryOutcome,
} from './delivery';
export * from './envelope';
export * from './errors';
export * from './event-bus';
export * from './logger';
export * from './partitioner';
export * from './topic-spec';
export { InMemoryBroker, type GroupMember } from './in-process/in-memory-broker';
export {
  InProcessEventBus,
  type InProcessEventBusOptions,
} from './in-process/in-process-event-bus';
export * from './outbox';
export { allTopics, controlTenant, SYSTEM_TENANT, Topics } from './topic-catalog';
