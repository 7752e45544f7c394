import { DynamicModule, Module } from '@nestjs/common';
import { REVIEW_TASKS, ReviewTaskOpener } from '@mandate/review-domain';
import { serviceModule, type ServiceContext, type StoreProvider } from '@mandate/platform';
import { REVIEW_TASK_STORE, ReviewDecisionConsumer } from './decision.consumer';

export interface ReviewServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  relayIntervalMs?: number;
  /** Share of AUTO_WITH_NOTICE decisions sampled for post-hoc review (0..1, default 0.2). */
  noticeSampleRate?: number;
}

@Module({})
export class ReviewServiceModule {
  static async create(o: ReviewServiceOptions): Promise<DynamicModule> {
    const store = await o.stores.store(REVIEW_TASKS);
    return serviceModule({
      module: ReviewServiceModule,
      context: o.context,
      consumers: [ReviewDecisionConsumer],
      outbox: { sources: [store], intervalMs: o.relayIntervalMs },
      providers: [
        {
          provide: ReviewTaskOpener,
          useValue: new ReviewTaskOpener({ noticeSampleRate: o.noticeSampleRate }),
        },
        { provide: REVIEW_TASK_STORE, useValue: store },
      ],
      exports: [REVIEW_TASK_STORE],
    });
  }
}
