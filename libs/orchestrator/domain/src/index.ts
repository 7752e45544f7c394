export * from './triggers';
export * from './plan-engine';
export * from './collections';
