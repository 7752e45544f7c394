export * from './orchestrator-service.module';
export * from './orchestrator.consumers';
