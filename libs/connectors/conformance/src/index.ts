export * from './harness';
export * from './checks';
export * from './decisions';
export * from './describe-conformance';
