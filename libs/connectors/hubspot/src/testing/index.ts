export * from './fake-hubspot';
export * from './harness';
