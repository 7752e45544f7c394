import {
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Envelope, Subscription } from '@mandate/messaging';
import { SERVICE_CONTEXT, ServiceContext } from '../service-context';
import { inSpanFrom } from '../tracing/tracing';
import { inBatchSpan } from './batch-span';
import { eventBindingsOf } from './on-event.decorator';

export const CONSUMER_CLASSES = Symbol('CONSUMER_CLASSES');

/**
 * Subscribes a service's @OnEvent handlers when the app has bootstrapped and unsubscribes them
 * on shutdown. Each handler runs in a consumer span continued from the message's traceparent and
 * is measured; a thrown error is left to the bus (retry with backoff, then dead-letter).
 * `@OnEvent(topic, { batch: { maxSize } })` methods get `Envelope<T>[]`: one consumer span per
 * batch (continued from the first message, linked to the others), the handler timer per batch
 * and the handled counter per message.
 */
@Injectable()
export class ConsumerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly subscriptions: Subscription[] = [];
  /**
   * Group of this replica's broadcast subscriptions: new at every start, so the replica replays
   * the topic from its beginning. (Kafka expires an abandoned group's offsets after
   * `offsets.retention.minutes`, 7 days by default.)
   */
  readonly replicaGroup: string;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
    @Inject(CONSUMER_CLASSES) private readonly consumers: Type[],
  ) {
    const host = hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 40);
    this.replicaGroup = `${ctx.group}.replica.${host}.${process.pid}.${randomBytes(4).toString('hex')}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const cls of this.consumers) {
      const instance = this.moduleRef.get(cls, { strict: true }) as Record<string, unknown>;
      for (const binding of eventBindingsOf(cls)) {
        const topic = binding.topic;
        const group = binding.options.broadcast ? this.replicaGroup : this.ctx.group;
        // Metric labels stay bounded: every replica group is reported as "<group>.replica".
        const metricGroup = binding.options.broadcast ? `${this.ctx.group}.replica` : group;
        const method = instance[binding.method] as (arg: unknown) => Promise<void>;
        const retry = binding.options.maxAttempts
          ? { maxAttempts: binding.options.maxAttempts }
          : undefined;
        const fromBeginning = binding.options.broadcast ? true : undefined;
        const batch = binding.options.batch;
        const sub = batch
          ? await this.ctx.bus.subscribe(topic, {
              group,
              fromBeginning,
              retry,
              // Poison isolation after a failed batch: the same method, one message at a time.
              handler: (env) => this.runBatch(topic.name, metricGroup, [env], instance, method),
              batch: {
                maxSize: batch.maxSize,
                handler: (envs) => this.runBatch(topic.name, metricGroup, envs, instance, method),
              },
            })
          : await this.ctx.bus.subscribe(topic, {
              group,
              fromBeginning,
              retry,
              handler: (env) =>
                inSpanFrom(
                  { traceparent: env.traceparent, tracestate: env.tracestate },
                  `${topic.name} process`,
                  'consumer',
                  async () => {
                    const end = this.ctx.metrics.startHandlerTimer(topic.name, metricGroup);
                    try {
                      await method.call(instance, env);
                      this.ctx.metrics.handled(topic.name, metricGroup, 'ok');
                    } catch (err) {
                      this.ctx.metrics.handled(topic.name, metricGroup, 'error');
                      this.ctx.logger.warn(
                        {
                          err,
                          topic: topic.name,
                          eventId: env.id,
                          attempt: env.attempt,
                          correlationId: env.correlationId,
                        },
                        'handler failed; the bus will retry or dead-letter',
                      );
                      throw err;
                    } finally {
                      end();
                    }
                  },
                ),
            });
        this.subscriptions.push(sub);
        this.ctx.logger.info({ topic: topic.name, group }, 'subscribed');
      }
    }
  }

  /**
   * One call of a batch method: one consumer span for the whole batch (see inBatchSpan), the
   * handler timer once per batch, the handled counter once per message.
   */
  private runBatch(
    topic: string,
    metricGroup: string,
    envs: Envelope<unknown>[],
    instance: object,
    method: (arg: unknown) => Promise<void>,
  ): Promise<void> {
    return inBatchSpan(envs, `${topic} process`, async () => {
      const end = this.ctx.metrics.startHandlerTimer(topic, metricGroup);
      try {
        await method.call(instance, envs);
        for (let i = 0; i < envs.length; i++) this.ctx.metrics.handled(topic, metricGroup, 'ok');
      } catch (err) {
        for (let i = 0; i < envs.length; i++) this.ctx.metrics.handled(topic, metricGroup, 'error');
        const first = envs[0];
        this.ctx.logger.warn(
          {
            err,
            topic,
            batchSize: envs.length,
            firstEventId: first?.id,
            attempt: first?.attempt,
            correlationId: first?.correlationId,
          },
          envs.length > 1
            ? 'batch handler failed; the bus will retry the batch or deliver it one by one'
            : 'handler failed; the bus will retry or dead-letter',
        );
        throw err;
      } finally {
        end();
      }
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.unsubscribe()));
  }
}
