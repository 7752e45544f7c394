import { randomBytes } from 'node:crypto';
import { defineTopic, jsonCodec } from '@mandate/messaging';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { KafkaTopicAdmin } from './kafka-topic-admin';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const kafka = new Kafka({
  clientId: `mandate-int-admin-check-${runId}`,
  brokers,
  logLevel: logLevel.NOTHING,
});
const admin = new KafkaTopicAdmin({ brokers, clientId: `mandate-int-admin-${runId}` });

const spec = (
  partitions: number,
  retentionMs: number,
  cleanupPolicy: 'delete' | 'compact' = 'delete',
) =>
  defineTopic<{ tenantId: string }>({
    name: `mandate.int.${runId}.admin`,
    description: 'admin integration test',
    key: (v) => v.tenantId,
    codec: jsonCodec('mandate.test.Admin'),
    partitions,
    retentionMs,
    cleanupPolicy,
  });

describe('KafkaTopicAdmin on a real broker', () => {
  const kadmin = kafka.admin();
  const name = `mandate.int.${runId}.admin`;
  const dlq = `${name}.dlq`;

  beforeAll(() => kadmin.connect());
  afterAll(async () => {
    await kadmin.deleteTopics({ topics: [name, dlq] });
    await kadmin.disconnect();
  });

  async function describeTopic(
    topic: string,
  ): Promise<{ partitions: number; config: Record<string, string> }> {
    const { topics } = await kadmin.fetchTopicMetadata({ topics: [topic] });
    const { resources } = await kadmin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    });
    const config = Object.fromEntries(
      resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
    );
    return { partitions: topics[0]!.partitions.length, config };
  }

  it('creates topics with their dead-letter topics, then applies idempotently and reconciles drift', async () => {
    const first = await admin.apply([spec(2, 3_600_000)]);
    expect(first).toEqual({ created: [name, dlq], updated: [], unchanged: [], warnings: [] });
    expect(await describeTopic(name)).toMatchObject({
      partitions: 2,
      config: { 'retention.ms': '3600000', 'cleanup.policy': 'delete' },
    });
    // Dead letters are kept at least 30 days whatever the source topic's retention.
    expect((await describeTopic(dlq)).config['retention.ms']).toBe(String(30 * 24 * 3_600_000));

    const second = await admin.apply([spec(2, 3_600_000)]);
    expect(second).toEqual({ created: [], updated: [], unchanged: [name, dlq], warnings: [] });

    // An operator's own override must survive a catalog change (AlterConfigs replaces the set).
    await kadmin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name,
          configEntries: [
            { name: 'retention.ms', value: '3600000' },
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'max.message.bytes', value: '2000000' },
          ],
        },
      ],
    });
    const dryRun = await admin.apply([spec(4, 7_200_000)], { dryRun: true });
    expect(dryRun.updated).toEqual([
      { topic: name, changes: ['partitions 2 -> 4', 'retention.ms 3600000 -> 7200000'] },
      { topic: dlq, changes: ['partitions 2 -> 4'] },
    ]);
    expect((await describeTopic(name)).partitions).toBe(2);

    const third = await admin.apply([spec(4, 7_200_000)]);
    expect(third.updated.map((u) => u.topic)).toEqual([name, dlq]);
    expect(await describeTopic(name)).toMatchObject({
      partitions: 4,
      config: {
        'retention.ms': '7200000',
        'cleanup.policy': 'delete',
        'max.message.bytes': '2000000',
      },
    });
    expect(await admin.apply([spec(4, 7_200_000)])).toMatchObject({
      created: [],
      updated: [],
      unchanged: [name, dlq],
    });

    const shrink = await admin.apply([spec(3, 7_200_000)]);
    expect(shrink.warnings).toEqual([
      `${name}: has 4 partitions, catalog says 3; Kafka cannot decrease them`,
      `${dlq}: has 4 partitions, catalog says 3; Kafka cannot decrease them`,
    ]);
    expect(shrink.unchanged).toEqual([name, dlq]);
  });
});
