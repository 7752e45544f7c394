export * from './connectors-service.module';
export * from './crm.controller';
export * from './decision.consumer';
export * from './connector.grpc-controller';
