export { MongoConnection } from './mongo-connection';
export type { MongoConnectionConfig } from './mongo-connection';
export { MongoDocumentStore } from './mongo-document-store';
export type { MongoDocumentStoreOptions } from './mongo-document-store';
export { redactMongoUrl } from './mongo-url';
export type { MongoServerInfo } from './mongo-connection';
