export * from './ledger-service.module';
export * from './audit-record.consumer';
export * from './ledger.grpc-controller';
