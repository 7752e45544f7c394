export * from './connectors-service.module';
export * from './crm.controller';
export * from './decision.consumer';
export * from './connector.grpc-controller';
export * from './connector-telemetry';
export * from './webhook.controller';
export * from './execution.controller';
export * from './change-feed.host';
