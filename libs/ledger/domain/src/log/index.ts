export * from './tiles';
export * from './ledger-writer';
export * from './ledger-reader';
export * from './ledger-publisher';
export * from './ledger-export';
