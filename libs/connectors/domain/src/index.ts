export * from './crm-action.applier';
export * from './demo-leads';
export * from './embedded-crm';
export * from './embedded-adapter';
export * from './collections';
export * from './embedded-capabilities';
export * from './connector-registry';
export * from './change-ingestor';
