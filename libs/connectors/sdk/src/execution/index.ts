export * from './execution-record';
export * from './safe-executor';
