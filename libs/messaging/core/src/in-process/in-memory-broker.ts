import type { RawMessage, RawRecord } from '../envelope';
import { partitionForKey } from '../partitioner';

/** A member of a consumer group for one topic, as the coordinator sees it. */
export interface GroupMember {
  owned(): readonly number[];
  /** Must resolve only once the member no longer processes these partitions. */
  revoke(partitions: readonly number[]): Promise<void>;
  assign(partitions: readonly number[]): void;
}

interface MemoryPartition {
  records: RawRecord[];
  waiters: Set<() => void>;
}

interface MemoryTopic {
  partitions: MemoryPartition[];
  /** Every record in append order, for inspection. */
  all: RawRecord[];
  nullKeyCounter: number;
}

/**
 * Assigns a topic's partitions to the members of one group, round-robin in join order.
 * Rebalances are serialised and eager, like Kafka's classic protocol: every revoked partition
 * is released (its in-flight message settled) before any member is given it.
 */
class GroupCoordinator {
  private readonly members: GroupMember[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly partitions: number) {}

  join(member: GroupMember): Promise<void> {
    this.members.push(member);
    return this.rebalance();
  }

  leave(member: GroupMember): Promise<void> {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    return this.rebalance();
  }

  private rebalance(): Promise<void> {
    const run = async (): Promise<void> => {
      const members = [...this.members];
      // Partition p goes to member p mod n.
      const planned = (i: number): number[] =>
        Array.from({ length: this.partitions }, (_, p) => p).filter(
          (p) => p % members.length === i,
        );
      const plan = members.map((_, i) => planned(i));
      await Promise.all(
        members.map((m, i) => m.revoke(m.owned().filter((p) => !plan[i]?.includes(p)))),
      );
      members.forEach((m, i) => m.assign((plan[i] ?? []).filter((p) => !m.owned().includes(p))));
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }
}

/**
 * The in-memory stand-in for a Kafka cluster: partitioned append-only logs, committed offsets
 * per group and group coordination. Several InProcessEventBus instances sharing one broker
 * behave like several processes sharing a cluster. Records are stored encoded, so consumers
 * decode their own copies exactly as they would from Kafka.
 */
export class InMemoryBroker {
  private readonly topics = new Map<string, MemoryTopic>();
  private readonly offsets = new Map<string, number>();
  private readonly coordinators = new Map<string, GroupCoordinator>();

  /** Creates the topic if missing; an existing topic keeps its partition count. */
  createTopic(name: string, partitions: number): void {
    if (this.topics.has(name)) return;
    this.topics.set(name, {
      partitions: Array.from({ length: partitions }, () => ({ records: [], waiters: new Set() })),
      all: [],
      nullKeyCounter: 0,
    });
  }

  hasTopic(name: string): boolean {
    return this.topics.has(name);
  }

  partitionCount(name: string): number {
    return this.topic(name).partitions.length;
  }

  /** Appends to the key's partition (murmur2, as Kafka) or, without a key, round-robin. */
  append(topicName: string, message: RawMessage, timestamp = Date.now()): RawRecord {
    const topic = this.topic(topicName);
    const count = topic.partitions.length;
    const partition =
      message.key === null ? topic.nullKeyCounter++ % count : partitionForKey(message.key, count);
    const log = topic.partitions[partition];
    const record: RawRecord = {
      topic: topicName,
      partition,
      offset: String(log.records.length),
      timestamp,
      key: message.key,
      value: message.value === null ? null : Uint8Array.from(message.value),
      headers: { ...message.headers },
    };
    log.records.push(record);
    topic.all.push(record);
    const waiters = [...log.waiters];
    log.waiters.clear();
    waiters.forEach((wake) => wake());
    return record;
  }

  read(topicName: string, partition: number, offset: number): RawRecord | undefined {
    return this.topic(topicName).partitions[partition].records[offset];
  }

  endOffset(topicName: string, partition: number): number {
    return this.topic(topicName).partitions[partition].records.length;
  }

  /** Resolves when `offset` exists in the partition or `signal` aborts. */
  waitFor(
    topicName: string,
    partition: number,
    offset: number,
    signal: AbortSignal,
  ): Promise<void> {
    const log = this.topic(topicName).partitions[partition];
    if (log.records.length > offset || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        log.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      log.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Every record of the topic, in append order: for inspection in tests and the embedded console. */
  records(topicName: string): readonly RawRecord[] {
    return [...(this.topics.get(topicName)?.all ?? [])];
  }

  committed(group: string, topic: string, partition: number): number | undefined {
    return this.offsets.get(`${group}\u0000${topic}\u0000${partition}`);
  }

  commit(group: string, topic: string, partition: number, nextOffset: number): void {
    this.offsets.set(`${group}\u0000${topic}\u0000${partition}`, nextOffset);
  }

  join(group: string, topicName: string, member: GroupMember): Promise<void> {
    return this.coordinator(group, topicName).join(member);
  }

  leave(group: string, topicName: string, member: GroupMember): Promise<void> {
    return this.coordinator(group, topicName).leave(member);
  }

  private coordinator(group: string, topicName: string): GroupCoordinator {
    const id = `${group}\u0000${topicName}`;
    let c = this.coordinators.get(id);
    if (!c) {
      c = new GroupCoordinator(this.partitionCount(topicName));
      this.coordinators.set(id, c);
    }
    return c;
  }

  private topic(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (!topic) throw new Error(`unknown topic "${name}"`);
    return topic;
  }
}
