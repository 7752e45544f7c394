import { jsonCodec } from './codecs';
import { EventBusError } from './errors';
import type { Envelope } from './envelope';
import { InProcessEventBus } from './in-process/in-process-event-bus';
import { outboxMessage, outboxPublisher } from './outbox';
import { defineTopic, tenantKey } from './topic-spec';

interface Task {
  tenantId: string;
  id: string;
}
const topic = defineTopic<Task>({
  name: 'mandate.test.tasks.v1',
  description: 'tasks',
  key: (t) => tenantKey(t.tenantId, 'task', t.id),
  codec: jsonCodec('mandate.test.Task'),
  partitions: 2,
});
const catalog = { tasks: topic };
const meta = {
  tenantId: 'acme',
  correlationId: 'corr-9',
  source: 'review',
  subject: 'task/1',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
};

describe('outbox', () => {
  let bus: InProcessEventBus;
  beforeEach(() => (bus = new InProcessEventBus()));
  afterEach(() => bus.stop());

  it('publishes a stored entry as the identical event, whenever the relay gets to it', async () => {
    const entry = outboxMessage(topic, { tenantId: 'acme', id: '1' }, { ...meta, id: 'evt-9' });
    expect(entry).toMatchObject({ topic: topic.name, key: 'acme/task/1' });
    const got: Envelope<Task>[] = [];
    await bus.subscribe(topic, { group: 'g', handler: async (e) => void got.push(e) });
    await bus.start();

    const publish = outboxPublisher(bus, catalog);
    await publish(entry);
    await publish(entry); // a relay retry after a crash

    while (got.length < 2) await new Promise((r) => setTimeout(r, 5));
    for (const e of got) {
      expect(e).toMatchObject({
        id: 'evt-9',
        time: entry.headers['ce_time'],
        source: 'review',
        subject: 'task/1',
        correlationId: 'corr-9',
        traceparent: meta.traceparent,
        value: { tenantId: 'acme', id: '1' },
      });
    }
  });

  it('validates when the entry is written, not when it is relayed', () => {
    expect(() => outboxMessage(topic, { tenantId: 'globex', id: '1' }, meta)).toThrow(
      EventBusError,
    );
  });

  it('refuses entries for unknown topics or whose key does not match the payload', async () => {
    await bus.start();
    const publish = outboxPublisher(bus, catalog);
    const entry = outboxMessage(topic, { tenantId: 'acme', id: '1' }, meta);
    await expect(publish({ ...entry, topic: 'mandate.nope.v1' })).rejects.toThrow(/unknown topic/);
    await expect(publish({ ...entry, key: 'acme/task/2' })).rejects.toThrow(/key does not match/);
  });
});
