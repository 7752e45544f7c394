export * from './embedded-harness';
