// Entry point for service apps that run on Kafka and MongoDB. Kept apart from the main entry so
// the embedded process never loads the Kafka and MongoDB drivers.
export * from './runtime/distributed.runtime';
export * from './bootstrap/service-app';
