import { jsonCodec } from '../codecs';
import type { Envelope } from '../envelope';
import { EventBusError } from '../errors';
import { describeEventBusContract } from '../testing';
import { deadLetterTopic, defineTopic, tenantKey } from '../topic-spec';
import { InMemoryBroker } from './in-memory-broker';
import { InProcessEventBus } from './in-process-event-bus';

describeEventBusContract('in-process', async () => {
  const broker = new InMemoryBroker();
  const buses: InProcessEventBus[] = [];
  const newBus = async (): Promise<InProcessEventBus> => {
    const bus = new InProcessEventBus({ broker });
    buses.push(bus);
    await bus.start();
    return bus;
  };
  const bus = await newBus();
  return {
    bus,
    newBus,
    createTopics: async (topics) => {
      for (const t of topics) {
        broker.createTopic(t.name, t.partitions);
        broker.createTopic(t.deadLetter, t.partitions);
      }
    },
    publishRaw: async (topic, message) => void broker.append(topic, message),
    cleanup: async () => {
      await Promise.all(buses.map((b) => b.stop()));
    },
  };
});

describe('InProcessEventBus specifics', () => {
  interface Item {
    tenantId: string;
    id: string;
    n: number;
  }
  const topic = defineTopic<Item>({
    name: 'mandate.test.items.v1',
    description: 'items',
    key: (i) => tenantKey(i.tenantId, 'item', i.id),
    codec: jsonCodec('mandate.test.Item'),
    partitions: 2,
  });
  const meta = { tenantId: 'acme', correlationId: 'c', source: 'test' };
  const item = (n: number, id = 'x'): Item => ({ tenantId: 'acme', id, n });

  async function until(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('starts subscriptions made before start() and refuses to publish before it', async () => {
    const bus = new InProcessEventBus();
    const got: number[] = [];
    const sub = await bus.subscribe(topic, {
      group: 'g',
      handler: async (e) => void got.push(e.value.n),
    });
    expect(bus.health()).toMatchObject({
      ready: false,
      detail: { state: 'created', subscriptions: [{ state: 'pending' }] },
    });
    await expect(bus.publish(topic, item(1), meta)).rejects.toBeInstanceOf(EventBusError);
    await bus.start();
    await bus.publish(topic, item(1), meta);
    await until(() => got.length === 1);
    expect(sub.topic).toBe(topic.name);
    await bus.stop();
    await expect(bus.start()).rejects.toBeInstanceOf(EventBusError);
  });

  it('starts a new group at the end of the log when fromBeginning is false', async () => {
    const bus = new InProcessEventBus();
    await bus.start();
    await bus.publish(topic, item(1), meta);
    const got: number[] = [];
    await bus.subscribe(topic, {
      group: 'late',
      fromBeginning: false,
      handler: async (e) => void got.push(e.value.n),
    });
    await bus.publish(topic, item(2), meta);
    await until(() => got.length === 1);
    expect(got).toEqual([2]);
    await bus.stop();
  });

  it('publishes nothing from a batch with an invalid item', async () => {
    const bus = new InProcessEventBus();
    await bus.start();
    await expect(
      bus.publishBatch(topic, [
        { value: item(1), meta },
        { value: item(2), meta: { ...meta, tenantId: 'globex' } },
      ]),
    ).rejects.toBeInstanceOf(EventBusError);
    expect(bus.broker.records(topic.name)).toEqual([]);
    await bus.stop();
  });

  it('hands a partition over when a member leaves, from the last committed position', async () => {
    const broker = new InMemoryBroker();
    const a = new InProcessEventBus({ broker });
    const b = new InProcessEventBus({ broker });
    await Promise.all([a.start(), b.start()]);
    const byA: number[] = [];
    const byB: number[] = [];
    const subA = await a.subscribe(topic, {
      group: 'g',
      handler: async (e) => void byA.push(e.value.n),
    });
    await b.subscribe(topic, { group: 'g', handler: async (e) => void byB.push(e.value.n) });
    const ids = Array.from({ length: 20 }, (_, i) => `id-${i}`);
    await a.publishBatch(
      topic,
      ids.map((id, n) => ({ value: item(n, id), meta })),
    );
    await until(() => byA.length + byB.length === 20);
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);

    await subA.unsubscribe();
    await a.publishBatch(
      topic,
      ids.map((id, n) => ({ value: item(100 + n, id), meta })),
    );
    await until(() => byB.length === 20 + (20 - byA.length));
    await new Promise((r) => setTimeout(r, 20));
    expect(byA.length + byB.length).toBe(40);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('abandons a handler that outlives the shutdown timeout, uncommitted, so the group gets it again', async () => {
    const broker = new InMemoryBroker();
    const a = new InProcessEventBus({ broker, shutdownTimeoutMs: 50 });
    await a.start();
    let hung = false;
    let unblock!: () => void;
    await a.subscribe(topic, {
      group: 'g',
      handler: async () => {
        hung = true;
        await new Promise<void>((r) => (unblock = r));
      },
    });
    await a.publish(topic, item(1), meta);
    await until(() => hung);
    const started = Date.now();
    await a.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    unblock(); // the abandoned handler finishing late must not commit

    const b = new InProcessEventBus({ broker });
    await b.start();
    const got: Envelope<Item>[] = [];
    await b.subscribe(topic, { group: 'g', handler: async (e) => void got.push(e) });
    await until(() => got.length === 1);
    expect(got[0]!.value).toEqual(item(1));
    await b.stop();
  });

  it('exposes dead letters for inspection and retries a dead-letter handler without limit', async () => {
    const bus = new InProcessEventBus({
      defaultRetry: { maxAttempts: 1, initialBackoffMs: 1, maxBackoffMs: 2 },
    });
    await bus.start();
    await bus.subscribe(topic, {
      group: 'g',
      handler: async () => {
        throw new Error('nope');
      },
    });
    await bus.publish(topic, item(1), { ...meta, id: 'evt-1' });
    await until(() => bus.deadLetters(topic).length === 1);
    expect(bus.deadLetters(topic)[0]).toMatchObject({
      kind: 'handler-failed',
      attempts: 1,
      reason: expect.stringContaining('nope'),
    });

    const attempts: number[] = [];
    await bus.subscribe(deadLetterTopic(topic), {
      group: 'replayer',
      handler: async (e) => {
        attempts.push(e.attempt);
        if (e.attempt < 4) throw new Error('replay target down');
      },
    });
    await until(() => attempts.length === 4);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(bus.broker.hasTopic(`${topic.deadLetter}.dlq`)).toBe(false);
    await bus.stop();
  });
});
