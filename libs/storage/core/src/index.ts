export { TENANT_ID_PATTERN, isTenantId, tenantId } from './tenant-id';
export type { TenantId, TenantScope } from './tenant-id';
export {
  BulkInsertError,
  ConcurrencyError,
  DocumentNotFoundError,
  DuplicateKeyError,
  InvalidStorageRequestError,
  InvalidTenantIdError,
  StorageError,
  StorageUnavailableError,
} from './storage.errors';
export { DEFAULT_FIND_LIMIT, MAX_FIND_LIMIT, MAX_INSERT_MANY } from './document-store.port';
export type {
  ArrayKeys,
  DeleteOptions,
  DocumentStore,
  ElementOf,
  ExpirySweeper,
  FieldCondition,
  Filter,
  FindOptions,
  InsertManyOptions,
  InsertManyResult,
  NumericKeys,
  OptionalKeys,
  ReplaceOptions,
  ScalarArrayKeys,
  ScalarKeys,
  ScalarValue,
  Sort,
  SortDirection,
  UpdateOptions,
  UpdateSpec,
  Versioned,
  WritableFields,
  WriteOptions,
} from './document-store.port';
export { createOutboxEntries } from './outbox';
export type {
  OutboxEntry,
  OutboxMessage,
  OutboxOrigin,
  OutboxSource,
  PendingOutbox,
  PendingOutboxQuery,
} from './outbox';
export { OutboxRelay } from './outbox-relay';
export type {
  OutboxPollResult,
  OutboxPublisher,
  OutboxRelayErrorContext,
  OutboxRelayOptions,
} from './outbox-relay';
export { BASE_INDEXES, defineCollection, physicalIndexes, validateIndexSpecs } from './index-spec';
export type { CollectionDefinition, IndexField, IndexSpec, PhysicalIndex } from './index-spec';
export { InMemoryDocumentStore } from './in-memory-document-store';
export type { InMemoryDocumentStoreOptions } from './in-memory-document-store';
// Building blocks for other adapters (the MongoDB one): shared validation and layout, so
// every adapter accepts, refuses and stores exactly the same things.
export {
  MAX_DOCUMENT_ID_LENGTH,
  StorageFields,
  newEtag,
  storageKey,
  tenantKeyPrefix,
} from './storage-layout';
export {
  assertDocumentId,
  copyValue,
  isScalarValue,
  normalizeDocument,
  normalizeValue,
} from './document-values';
export { prepareInsertMany } from './insert-many';
export type { PreparedInsert } from './insert-many';
export { normalizeFilter, normalizeFindOptions } from './query';
export type { Condition, FieldConditions, NormalizedFilter, NormalizedFindOptions } from './query';
export { applyUpdate, isEmptyUpdate, normalizeUpdate } from './update-spec';
export type { NormalizedUpdate } from './update-spec';
export { CorruptJournalError, FileDocumentJournal } from './document-journal';
export type { DocumentJournal, FileDocumentJournalOptions, JournalSlot } from './document-journal';
