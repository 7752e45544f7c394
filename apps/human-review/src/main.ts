import 'reflect-metadata';
import { z } from 'zod';
import {
  REVIEW_TASK_STORE,
  ReviewServiceModule,
  registerReviewGrpc,
} from '@mandate/review-service';
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

const schema = serviceConfigSchema('human-review', { http: 8083, grpc: 50053 }).extend({
  /** Share of AUTO_WITH_NOTICE decisions (executed at once) sampled for post-hoc review. */
  REVIEW_NOTICE_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0.2),
});

bootServiceApp({
  name: 'human-review',
  schema,
  module: (runtime, config) =>
    ReviewServiceModule.create({
      context: runtime.context,
      stores: runtime.stores,
      noticeSampleRate: config.REVIEW_NOTICE_SAMPLE_RATE,
    }),
  grpc: (host, app) => registerReviewGrpc(host, app.get(REVIEW_TASK_STORE)),
});
