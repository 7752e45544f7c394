export {
  CONTRACT_TTL_SECONDS,
  contractCollection,
  describeDocumentStoreContract,
} from './document-store.contract';
export type { ContractDoc, ContractStore, DocumentStoreFactory } from './document-store.contract';
