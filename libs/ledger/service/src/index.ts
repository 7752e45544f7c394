export * from './ledger-service.module';
export * from './audit-record.consumer';
export * from './checkpoint.host';
export * from './erasure.controller';
export * from './ledger.grpc-controller';
export * from './monitor.host';
