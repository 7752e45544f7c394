/**
 * The audit ledger's export format and its offline verifier (see export.ts and the lib README).
 */
export * from './export';
