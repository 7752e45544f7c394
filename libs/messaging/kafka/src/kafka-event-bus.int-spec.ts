import { randomBytes } from 'node:crypto';
import {
  deadLetterTopic,
  defineTopic,
  jsonCodec,
  readDeadLetter,
  tenantKey,
  type Envelope,
} from '@mandate/messaging';
import { describeEventBusContract } from '@mandate/messaging/testing';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { KafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus';
import { KafkaTopicAdmin } from './kafka-topic-admin';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const busOptions: KafkaEventBusOptions = {
  brokers,
  clientId: `mandate-int-${runId}`,
  // Faster rebalances than production defaults keep the suite short.
  heartbeatIntervalMs: 500,
  sessionTimeoutMs: 10_000,
  maxWaitTimeMs: 500,
};
const rawKafka = new Kafka({
  clientId: `mandate-int-raw-${runId}`,
  brokers,
  logLevel: logLevel.NOTHING,
});
const admin = new KafkaTopicAdmin({ brokers, clientId: `mandate-int-admin-${runId}` });
const createdTopics: string[] = [];

afterAll(async () => {
  // Topics are unique per run; remove them so repeated runs do not pile up on the broker.
  const a = rawKafka.admin();
  await a.connect();
  try {
    if (createdTopics.length) await a.deleteTopics({ topics: createdTopics });
  } finally {
    await a.disconnect();
  }
});

async function startedBus(buses: KafkaEventBus[]): Promise<KafkaEventBus> {
  const bus = new KafkaEventBus(busOptions);
  buses.push(bus);
  await bus.start();
  return bus;
}

describeEventBusContract(
  'kafka',
  async () => {
    const buses: KafkaEventBus[] = [];
    const producer = rawKafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return {
      bus: await startedBus(buses),
      newBus: () => startedBus(buses),
      createTopics: async (topics) => {
        const report = await admin.apply(topics);
        createdTopics.push(...report.created);
      },
      publishRaw: async (topic, m) => {
        await producer.send({
          topic,
          messages: [
            {
              key: m.key,
              value: m.value === null ? null : Buffer.from(m.value),
              headers: m.headers,
            },
          ],
        });
      },
      cleanup: async () => {
        await Promise.all(buses.map((b) => b.stop()));
        await producer.disconnect();
      },
    };
  },
  { waitTimeoutMs: 60_000 },
);

describe('KafkaEventBus on a real broker', () => {
  interface Lead {
    tenantId: string;
    id: string;
    n: number;
  }
  const codec = jsonCodec<Lead>('mandate.test.Lead');
  const topicNamed = (label: string) =>
    defineTopic<Lead>({
      name: `mandate.int.${runId}.${label}`,
      description: 'integration test topic',
      key: (l) => tenantKey(l.tenantId, 'lead', l.id),
      codec,
      partitions: 2,
      retentionMs: 60 * 60 * 1000,
    });

  async function waitFor(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('publishes a batch larger than the broker accepts in one request, in order', async () => {
    interface Blob {
      tenantId: string;
      id: string;
      pad: string;
    }
    const topic = defineTopic<Blob>({
      name: `mandate.int.${runId}.large`,
      description: 'integration test topic',
      key: (b) => tenantKey(b.tenantId, 'blob'),
      codec: jsonCodec<Blob>('mandate.test.Blob'),
      partitions: 1,
      retentionMs: 60 * 60 * 1000,
    });
    createdTopics.push(...(await admin.apply([topic])).created);
    const bus = new KafkaEventBus(busOptions);
    await bus.start();
    try {
      // 30 × 100 KB = 3 MB: three times the broker's default message.max.bytes.
      const items = Array.from({ length: 30 }, (_, i) => ({
        value: { tenantId: 'acme', id: String(i), pad: 'x'.repeat(100_000) },
        meta: { tenantId: 'acme', correlationId: 'c-large', source: 'int-test' },
      }));
      await bus.publishBatch(topic, items);
      const got: string[] = [];
      await bus.subscribe(topic, {
        group: `int-${runId}-large`,
        handler: async (e) => void got.push(e.value.id),
      });
      await waitFor(() => got.length === 30, 'every message of the large batch');
      expect(got).toEqual(items.map((i) => i.value.id));
    } finally {
      await bus.stop();
    }
  });

  it('dead-letters a malformed message written by a foreign producer and handles the next one', async () => {
    const topic = topicNamed('raw');
    createdTopics.push(...(await admin.apply([topic])).created);
    const producer = rawKafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const bus = new KafkaEventBus(busOptions);
    await producer.connect();
    await bus.start();
    try {
      const handled: Envelope<Lead>[] = [];
      const dead: Envelope<Uint8Array>[] = [];
      await bus.subscribe(topic, {
        group: `int-${runId}-raw`,
        handler: async (e) => void handled.push(e),
      });
      await bus.subscribe(deadLetterTopic(topic), {
        group: `int-${runId}-raw-dlq`,
        handler: async (e) => void dead.push(e),
      });

      // Same key as the good message, so both sit on one partition and the bad one is first.
      await producer.send({
        topic: topic.name,
        messages: [
          {
            key: 'acme/lead/1',
            value: Buffer.from('not json at all'),
            headers: { 'x-origin': 'legacy' },
          },
        ],
      });
      const good = { tenantId: 'acme', id: '1', n: 2 };
      await bus.publish(topic, good, {
        tenantId: 'acme',
        correlationId: 'c-1',
        source: 'int-test',
      });

      await waitFor(
        () => handled.length === 1 && dead.length === 1,
        'the good message and the dead letter',
      );
      expect(handled[0]!.value).toEqual(good);
      const info = readDeadLetter(dead[0]!);
      expect(info).toMatchObject({
        kind: 'malformed',
        attempts: 0,
        originalTopic: topic.name,
        key: 'acme/lead/1',
      });
      expect(info.reason).toContain('missing CloudEvents header ce_specversion');
      expect(info.originalHeaders).toEqual({ 'x-origin': 'legacy' });
      expect(Buffer.from(info.payload).toString()).toBe('not json at all');
    } finally {
      await bus.stop();
      await producer.disconnect();
    }
  });

  it('starts subscriptions made before start() and reports unready after stop()', async () => {
    const topic = topicNamed('prestart');
    createdTopics.push(...(await admin.apply([topic])).created);
    const bus = new KafkaEventBus(busOptions);
    const got: Envelope<Lead>[] = [];
    const sub = bus.subscribe(topic, {
      group: `int-${runId}-pre`,
      handler: async (e) => void got.push(e),
    });
    expect(bus.health()).toMatchObject({
      ready: false,
      detail: { state: 'created', transport: 'kafka' },
    });
    try {
      await bus.start();
      await sub;
      expect(bus.health().ready).toBe(true);
      await bus.publish(
        topic,
        { tenantId: 'acme', id: '9', n: 1 },
        { tenantId: 'acme', correlationId: 'c', source: 'int' },
      );
      await waitFor(() => got.length === 1, 'the message');
    } finally {
      await bus.stop();
    }
    expect(bus.health()).toMatchObject({
      ready: false,
      detail: { state: 'stopped', subscriptions: [] },
    });
  });
});
