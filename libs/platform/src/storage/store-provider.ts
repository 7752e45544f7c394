import type { CollectionDefinition, DocumentStore, OutboxSource } from '@mandate/storage';

/** A document store that also feeds the outbox relay. */
export type OutboxStore<T extends { id: string }> = DocumentStore<T> & OutboxSource;

/**
 * Where a service gets its stores: MongoDB in a service app, memory in the embedded process.
 * Service libs ask for collections by definition and never see which one they got.
 */
export interface StoreProvider {
  store<T extends { id: string }>(definition: CollectionDefinition<T>): Promise<OutboxStore<T>>;
}
