import 'reflect-metadata';
import type { ModuleRef } from '@nestjs/core';
import { AuditRecord, CrmChangeEvent } from '@mandate/contracts';
import { InMemoryBroker, InProcessEventBus, Topics, type Envelope } from '@mandate/messaging';
import { createLogger } from '../logging/logger';
import { ProcessMetrics } from '../ops/metrics';
import { ReadinessRegistry } from '../ops/readiness';
import type { ServiceContext } from '../service-context';
import { ConsumerHost } from './consumer-host';
import { OnEvent } from './on-event.decorator';

class Replica {
  shared: string[] = [];
  broadcast: string[] = [];

  @OnEvent(Topics.crmChanges)
  async onShared(env: Envelope<CrmChangeEvent>) {
    this.shared.push(env.value.eventId);
  }

  @OnEvent(Topics.auditRecords, { broadcast: true })
  async onBroadcast(env: Envelope<AuditRecord>) {
    this.broadcast.push(env.value.recordId);
  }
}

const waitFor = async (what: string, ok: () => boolean) => {
  const deadline = Date.now() + 5_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('ConsumerHost', () => {
  it('shares ordinary subscriptions between replicas but gives each replica every broadcast message, replayed from the start', async () => {
    const bus = new InProcessEventBus({ broker: new InMemoryBroker() });
    await bus.start();
    const ctx: ServiceContext = {
      name: 'policy',
      group: 'policy',
      bus,
      logger: createLogger('test', 'silent'),
      metrics: new ProcessMetrics(false).forService('policy'),
      readiness: new ReadinessRegistry(),
    };
    const meta = { tenantId: 'acme', correlationId: 'c', source: 'test' };
    // A control message published before either replica started: both must still apply it.
    await bus.publish(
      Topics.auditRecords,
      AuditRecord.fromPartial({ recordId: 'before-start', tenantId: 'acme' }),
      meta,
    );

    const replicas = [new Replica(), new Replica()];
    const hosts = replicas.map(
      (r) => new ConsumerHost({ get: () => r } as unknown as ModuleRef, ctx, [Replica]),
    );
    expect(hosts[0].replicaGroup).not.toBe(hosts[1].replicaGroup);
    for (const h of hosts) await h.onApplicationBootstrap();

    for (let i = 0; i < 6; i++)
      await bus.publish(
        Topics.crmChanges,
        CrmChangeEvent.fromPartial({ eventId: `e${i}`, tenantId: 'acme', recordId: `r${i}` }),
        meta,
      );
    await bus.publish(
      Topics.auditRecords,
      AuditRecord.fromPartial({ recordId: 'after-start', tenantId: 'acme' }),
      meta,
    );

    await waitFor(
      'every message',
      () =>
        replicas.every((r) => r.broadcast.length === 2) &&
        replicas.reduce((n, r) => n + r.shared.length, 0) === 6,
    );
    for (const r of replicas) expect(r.broadcast).toEqual(['before-start', 'after-start']);
    expect(replicas.flatMap((r) => r.shared).sort()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);

    for (const h of hosts) await h.onApplicationShutdown();
    await bus.stop();
  });

  it('hands a batch method arrays in order, at most maxSize each, and isolates a poison message one by one', async () => {
    class Ledger {
      calls: string[][] = [];

      @OnEvent(Topics.auditRecords, { batch: { maxSize: 3 }, maxAttempts: 2 })
      async append(envs: Envelope<AuditRecord>[]) {
        const ids = envs.map((e) => e.value.recordId);
        this.calls.push(ids);
        if (ids.includes('poison')) throw new Error('cannot append poison');
      }
    }
    const bus = new InProcessEventBus({
      broker: new InMemoryBroker(),
      defaultRetry: { initialBackoffMs: 1, maxBackoffMs: 2 },
    });
    await bus.start();
    const metrics = new ProcessMetrics(false);
    const ctx: ServiceContext = {
      name: 'ledger',
      group: 'ledger',
      bus,
      logger: createLogger('test', 'silent'),
      metrics: metrics.forService('ledger'),
      readiness: new ReadinessRegistry(),
    };
    const ledger = new Ledger();
    const host = new ConsumerHost({ get: () => ledger } as unknown as ModuleRef, ctx, [Ledger]);
    const meta = { tenantId: 'acme', correlationId: 'c', source: 'test' };
    // One tenant: one partition, so one ordered stream.
    const ids = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];
    await bus.publishBatch(
      Topics.auditRecords,
      ids.map((recordId) => ({
        value: AuditRecord.fromPartial({ recordId, tenantId: 'acme' }),
        meta,
      })),
    );
    await host.onApplicationBootstrap();
    await waitFor('seven records', () => ledger.calls.flat().length === 7);
    expect(ledger.calls).toEqual([['a1', 'a2', 'a3'], ['a4', 'a5', 'a6'], ['a7']]);

    // A poison record: the batch is retried (maxAttempts 2), then each record comes alone.
    ledger.calls = [];
    await bus.publishBatch(
      Topics.auditRecords,
      ['b1', 'poison', 'b2'].map((recordId) => ({
        value: AuditRecord.fromPartial({ recordId, tenantId: 'acme' }),
        meta,
      })),
    );
    await waitFor('the dead letter', () => bus.deadLetters(Topics.auditRecords).length === 1);
    expect(ledger.calls).toEqual([
      ['b1', 'poison', 'b2'],
      ['b1', 'poison', 'b2'],
      ['b1'],
      ['poison'],
      ['poison'],
      ['b2'],
    ]);
    const handled = await metrics.messagesHandled.get();
    const count = (outcome: string) =>
      handled.values.find((v) => v.labels['outcome'] === outcome)?.value ?? 0;
    // Per message: 7 + b1 + b2 ok; 3 per failed batch attempt + 2 failed poison attempts.
    expect(count('ok')).toBe(9);
    expect(count('error')).toBe(8);
    const timer = await metrics.handlerSeconds.get();
    // The timer observes once per call: 3 + 2 batches + 4 single deliveries.
    expect(timer.values.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(9);

    await host.onApplicationShutdown();
    await bus.stop();
  });
});
