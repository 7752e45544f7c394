export * from './hubspot.adapter';
export * from './hubspot.client';
export * from './hubspot.config';
export * from './hubspot.errors';
export * from './hubspot.mapping';
export * from './hubspot.webhook';
