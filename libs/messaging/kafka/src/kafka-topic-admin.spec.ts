import { defineTopic, jsonCodec, partitionForKey } from '@mandate/messaging';
import { Partitioners } from 'kafkajs';
import { desiredTopicConfig, expandCatalog } from './kafka-topic-admin';
import { kafkaGroupId } from './kafka-event-bus';

const topic = (name: string, partitions = 3) =>
  defineTopic<{ t: string }>({
    name,
    description: name,
    key: (v) => v.t,
    codec: jsonCodec('mandate.test.T'),
    partitions,
    retentionMs: 1000,
  });

describe('expandCatalog', () => {
  it('adds each event topic’s dead-letter topic, once', () => {
    const a = topic('mandate.a.v1');
    expect(expandCatalog({ a, again: a }).map((t) => t.name)).toEqual([
      'mandate.a.v1',
      'mandate.a.v1.dlq',
    ]);
  });

  it('refuses two different definitions of one topic', () => {
    expect(() => expandCatalog([topic('mandate.a.v1', 3), topic('mandate.a.v1', 6)])).toThrow(
      /defined twice/,
    );
  });
});

describe('desiredTopicConfig', () => {
  it('manages cleanup.policy and retention.ms only', () => {
    expect(desiredTopicConfig(topic('mandate.a.v1'))).toEqual({
      'cleanup.policy': 'delete',
      'retention.ms': '1000',
    });
    const unset = defineTopic({
      ...topic('mandate.b.v1'),
      retentionMs: undefined,
      cleanupPolicy: 'compact',
    });
    expect(desiredTopicConfig(unset)).toEqual({ 'cleanup.policy': 'compact' });
  });
});

describe('kafka partitioning', () => {
  it('agrees with the in-process bus on the partition of every key', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    for (let i = 0; i < 200; i++) {
      const key = `tenant-${i % 7}/lead/${i}`;
      expect(partitioner({ topic: 't', partitionMetadata, message: { key, value: null } })).toBe(
        partitionForKey(key, 6),
      );
    }
  });

  it('derives one Kafka group per subscribed topic', () => {
    expect(kafkaGroupId('mandate.policy', 'mandate.actions.proposed.v1')).toBe(
      'mandate.policy.mandate.actions.proposed.v1',
    );
  });
});
