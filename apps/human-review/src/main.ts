import 'reflect-metadata';
import {
  REVIEW_TASK_STORE,
  ReviewServiceModule,
  registerReviewGrpc,
} from '@mandate/review-service';
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

bootServiceApp({
  name: 'human-review',
  schema: serviceConfigSchema('human-review', { http: 8083, grpc: 50053 }),
  module: (runtime) =>
    ReviewServiceModule.create({ context: runtime.context, stores: runtime.stores }),
  grpc: (host, app) => registerReviewGrpc(host, app.get(REVIEW_TASK_STORE)),
});
