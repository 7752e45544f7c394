export * from './merkle';
export * from './ledger.appender';
export * from './collections';
