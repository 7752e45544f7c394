export * from './policy-service.module';
export * from './policy.grpc-controller';
export * from './oversight.adapter';
export * from './proposal.consumer';
export * from './connector-record.reader';
