export { createKafkaClient, kafkaLogCreator, type KafkaConnectionConfig } from './kafka-client';
export { KafkaEventBus, kafkaGroupId, type KafkaEventBusOptions } from './kafka-event-bus';
export { headersToStrings } from './kafka-headers';
export {
  desiredTopicConfig,
  expandCatalog,
  KafkaTopicAdmin,
  type TopicApplyOptions,
  type TopicApplyReport,
} from './kafka-topic-admin';
