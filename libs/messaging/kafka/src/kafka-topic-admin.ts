import { deadLetterTopic, type TopicCatalog, type TopicSpec } from '@mandate/messaging';
import { ConfigResourceTypes, ConfigSource, type Admin, type Kafka } from 'kafkajs';
import { createKafkaClient, type KafkaConnectionConfig } from './kafka-client';

export interface TopicApplyOptions {
  /** Replication factor of created topics; default: the broker's `default.replication.factor`. */
  replicationFactor?: number;
  /** Compute the report without changing anything. */
  dryRun?: boolean;
}

export interface TopicApplyReport {
  created: string[];
  updated: Array<{ topic: string; changes: string[] }>;
  unchanged: string[];
  /** Differences apply cannot fix, e.g. more partitions than the catalog (Kafka cannot shrink). */
  warnings: string[];
}

/** The topic configs the catalog manages; everything else stays as operators set it. */
export function desiredTopicConfig(spec: TopicSpec<unknown>): Record<string, string> {
  return {
    'cleanup.policy': spec.cleanupPolicy,
    ...(spec.retentionMs !== undefined ? { 'retention.ms': String(spec.retentionMs) } : {}),
  };
}

/** Every topic a catalog implies: each event topic and its dead-letter topic. */
export function expandCatalog(
  topics: TopicCatalog | ReadonlyArray<TopicSpec<unknown>>,
): TopicSpec<unknown>[] {
  const list: ReadonlyArray<TopicSpec<unknown>> = Array.isArray(topics)
    ? topics
    : Object.values(topics);
  const byName = new Map<string, TopicSpec<unknown>>();
  for (const spec of list.flatMap((t) => (t.kind === 'event' ? [t, deadLetterTopic(t)] : [t]))) {
    const seen = byName.get(spec.name);
    if (
      seen &&
      seen !== spec &&
      (seen.partitions !== spec.partitions || seen.codec.typeName !== spec.codec.typeName)
    ) {
      throw new Error(`topic "${spec.name}" is defined twice with different settings`);
    }
    byName.set(spec.name, spec);
  }
  return [...byName.values()];
}

/**
 * Makes the broker match a topic catalog: creates missing topics (with their dead-letter
 * topics), raises partition counts and aligns retention and cleanup policy. Idempotent: a second
 * apply reports everything unchanged. Backs `mandate topics apply`.
 */
export class KafkaTopicAdmin {
  private readonly kafka: Kafka;

  constructor(config: KafkaConnectionConfig) {
    this.kafka = createKafkaClient(config);
  }

  async apply(
    topics: TopicCatalog | ReadonlyArray<TopicSpec<unknown>>,
    options: TopicApplyOptions = {},
  ): Promise<TopicApplyReport> {
    const desired = expandCatalog(topics);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await this.reconcile(admin, desired, options);
    } finally {
      await admin.disconnect();
    }
  }

  private async reconcile(
    admin: Admin,
    desired: TopicSpec<unknown>[],
    options: TopicApplyOptions,
  ): Promise<TopicApplyReport> {
    const report: TopicApplyReport = { created: [], updated: [], unchanged: [], warnings: [] };
    const existing = new Set(await admin.listTopics());
    const missing = desired.filter((t) => !existing.has(t.name));
    const present = desired.filter((t) => existing.has(t.name));

    if (missing.length > 0 && !options.dryRun) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: options.replicationFactor ?? -1,
          configEntries: Object.entries(desiredTopicConfig(t)).map(([name, value]) => ({
            name,
            value,
          })),
        })),
      });
    }
    report.created.push(...missing.map((t) => t.name));
    if (present.length === 0) return report;

    const { topics: metadata } = await admin.fetchTopicMetadata({
      topics: present.map((t) => t.name),
    });
    const partitionsOf = new Map(metadata.map((m) => [m.name, m.partitions.length]));
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name })),
    });
    const configsOf = new Map(resources.map((r) => [r.resourceName, r.configEntries]));

    for (const spec of present) {
      const changes: string[] = [];
      const current = partitionsOf.get(spec.name) ?? 0;
      if (current < spec.partitions) {
        changes.push(`partitions ${current} -> ${spec.partitions}`);
        if (!options.dryRun) {
          await admin.createPartitions({
            topicPartitions: [{ topic: spec.name, count: spec.partitions }],
          });
        }
      } else if (current > spec.partitions) {
        report.warnings.push(
          `${spec.name}: has ${current} partitions, catalog says ${spec.partitions}; Kafka cannot decrease them`,
        );
      }

      const entries = configsOf.get(spec.name) ?? [];
      const effective = new Map(entries.map((e) => [e.configName, e.configValue]));
      const wanted = desiredTopicConfig(spec);
      const drift = Object.entries(wanted).filter(([name, value]) => effective.get(name) !== value);
      if (drift.length > 0) {
        changes.push(
          ...drift.map(
            ([name, value]) => `${name} ${effective.get(name) ?? '(unset)'} -> ${value}`,
          ),
        );
        if (!options.dryRun) {
          // AlterConfigs (the non-incremental API kafkajs speaks) replaces all topic overrides:
          // resend the ones operators set, or they would silently revert to broker defaults.
          const overrides = Object.fromEntries(
            entries
              .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive)
              .map((e) => [e.configName, e.configValue]),
          );
          await admin.alterConfigs({
            validateOnly: false,
            resources: [
              {
                type: ConfigResourceTypes.TOPIC,
                name: spec.name,
                configEntries: Object.entries({ ...overrides, ...wanted }).map(([name, value]) => ({
                  name,
                  value,
                })),
              },
            ],
          });
        }
      }
      if (changes.length > 0) report.updated.push({ topic: spec.name, changes });
      else report.unchanged.push(spec.name);
    }
    return report;
  }
}
