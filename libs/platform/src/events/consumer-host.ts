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
import { eventBindingsOf } from './on-event.decorator';

export const CONSUMER_CLASSES = Symbol('CONSUMER_CLASSES');

/**
 * Subscribes a service's @OnEvent handlers when the app has bootstrapped and unsubscribes them
 * on shutdown. Each handler runs in a consumer span continued from the message's traceparent and
 * is measured; a thrown error is left to the bus (retry with backoff, then dead-letter).
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
      const instance = this.moduleRef.get(cls, { strict: true }) as Record<
        string,
        (e: Envelope<unknown>) => Promise<void>
      >;
      for (const binding of eventBindingsOf(cls)) {
        const topic = binding.topic;
        const group = binding.options.broadcast ? this.replicaGroup : this.ctx.group;
        // Metric labels stay bounded: every replica group is reported as "<group>.replica".
        const metricGroup = binding.options.broadcast ? `${this.ctx.group}.replica` : group;
        const sub = await this.ctx.bus.subscribe(topic, {
          group,
          fromBeginning: binding.options.broadcast ? true : undefined,
          retry: binding.options.maxAttempts
            ? { maxAttempts: binding.options.maxAttempts }
            : undefined,
          handler: (env) =>
            inSpanFrom(
              { traceparent: env.traceparent, tracestate: env.tracestate },
              `${topic.name} process`,
              'consumer',
              async () => {
                const end = this.ctx.metrics.startHandlerTimer(topic.name, metricGroup);
                try {
                  await instance[binding.method].call(instance, env);
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

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.unsubscribe()));
  }
}
