export * from './ledger-monitor';
