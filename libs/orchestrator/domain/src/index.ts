export * from './offline-lead-model';
export * from './lead-qualification.agent';
export * from './plan.runner';
export * from './collections';
