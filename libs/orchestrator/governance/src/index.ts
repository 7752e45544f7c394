export * from './field-access';
export * from './pseudonymiser';
export * from './untrusted';
export * from './consent';
export * from './entity-resolution';
