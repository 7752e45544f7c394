export * from './model-port';
export * from './tools';
export * from './agent-definitions';
export * from './agent-input';
export * from './offline';
export * from './proposals';
export * from './context';
export * from './step-runner';
