export * from './review-service.module';
export * from './decision.consumer';
export * from './review.grpc-controller';
