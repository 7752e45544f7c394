export * from './orchestrator-service.module';
export * from './orchestrator.consumers';
export * from './offline-agents.model';
export * from './connector-context.source';
export * from './orchestrator-config';
export * from './orchestrator.controller';
export * from './metered-model';
