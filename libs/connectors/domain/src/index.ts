export * from './crm-action.applier';
export * from './demo-leads';
export * from './action-executor';
export * from './embedded-crm';
export * from './collections';
export * from './embedded-capabilities';
