import { describeDocumentStoreContract } from './testing';
import { InMemoryDocumentStore } from './in-memory-document-store';

describeDocumentStoreContract(
  'InMemoryDocumentStore',
  async (definition) => new InMemoryDocumentStore(definition),
);
