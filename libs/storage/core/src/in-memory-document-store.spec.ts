import { describeDocumentStoreContract } from '@mandate/storage/testing';
import { InMemoryDocumentStore } from './in-memory-document-store';

describeDocumentStoreContract('InMemoryDocumentStore', async (definition) => new InMemoryDocumentStore(definition));
