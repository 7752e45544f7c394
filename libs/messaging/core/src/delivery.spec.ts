import { jsonCodec } from './codecs';
import { deliverBatch, type BatchDeliveryContext } from './delivery';
import { encodeMessage, type Envelope, type RawRecord } from './envelope';
import { RejectedMessageError } from './errors';
import { silentLogger } from './logger';
import { defineTopic, tenantKey } from './topic-spec';

interface Item {
  tenantId: string;
  n: number;
}
const topic = defineTopic<Item>({
  name: 'mandate.test.delivery.v1',
  description: 'delivery',
  key: (i) => tenantKey(i.tenantId),
  codec: jsonCodec('mandate.test.Item'),
  partitions: 1,
});
const record = (offset: number, n?: number): RawRecord => {
  const m =
    n === undefined
      ? { key: 'acme', value: new Uint8Array([1]), headers: {} }
      : encodeMessage(
          topic,
          { tenantId: 'acme', n },
          { tenantId: 'acme', correlationId: 'c', source: 't' },
        );
  return { ...m, topic: topic.name, partition: 0, offset: String(offset), timestamp: 0 };
};

function context(overrides: Partial<BatchDeliveryContext<Item>>): {
  ctx: BatchDeliveryContext<Item>;
  dead: string[];
} {
  const dead: string[] = [];
  const ctx: BatchDeliveryContext<Item> = {
    topic,
    group: 'g',
    handler: async () => undefined,
    batchHandler: async () => undefined,
    retry: { maxAttempts: 2, initialBackoffMs: 0, maxBackoffMs: 0 },
    signal: new AbortController().signal,
    deadLetter: async (r, f) => void dead.push(`${r.offset}:${f.kind}`),
    logger: silentLogger,
    ...overrides,
  };
  return { ctx, dead };
}

describe('deliverBatch', () => {
  it('settles a batch of only malformed records without calling a handler', async () => {
    const batchHandler = jest.fn(async () => undefined);
    const { ctx, dead } = context({ batchHandler });
    expect(await deliverBatch([record(0), record(1)], ctx)).toEqual({
      outcome: 'handled',
      settled: 2,
    });
    expect(dead).toEqual(['0:malformed', '1:malformed']);
    expect(batchHandler).not.toHaveBeenCalled();
  });

  it('when stopped during the batch, settles only the leading malformed records', async () => {
    const stop = new AbortController();
    const { ctx } = context({
      signal: stop.signal,
      batchHandler: async () => {
        stop.abort();
        throw new Error('interrupted');
      },
    });
    expect(await deliverBatch([record(0), record(1, 1), record(2)], ctx)).toEqual({
      outcome: 'abandoned',
      settled: 1,
    });
  });

  it('when stopped during poison isolation, settles the records delivered so far', async () => {
    const stop = new AbortController();
    const seen: number[] = [];
    const { ctx } = context({
      signal: stop.signal,
      batchHandler: async () => {
        throw new Error('batch fails');
      },
      handler: async (e: Envelope<Item>) => {
        seen.push(e.value.n);
        if (e.value.n === 2) {
          stop.abort();
          throw new Error('interrupted');
        }
      },
    });
    const result = await deliverBatch([record(0, 1), record(1, 2), record(2, 3)], ctx);
    expect(result).toEqual({ outcome: 'abandoned', settled: 1 });
    expect(seen).toEqual([1, 2]);
  });

  it("dead-letters a rejected message at once, with the handler's reason, without retries", async () => {
    const reasons: string[] = [];
    let calls = 0;
    const { ctx, dead } = context({
      retry: { maxAttempts: 5, initialBackoffMs: 0, maxBackoffMs: 0 },
      batchHandler: async () => {
        throw new RejectedMessageError('batch says no');
      },
      handler: async (e: Envelope<Item>) => {
        calls++;
        if (e.value.n === 2) throw new RejectedMessageError('FIELD_CUSTOM_VALIDATION_EXCEPTION');
      },
      deadLetter: async (r, f) => {
        dead.push(`${r.offset}:${f.kind}`);
        reasons.push(`${f.reason} after ${f.attempts}`);
      },
    });
    expect(await deliverBatch([record(0, 1), record(1, 2), record(2, 3)], ctx)).toEqual({
      outcome: 'handled',
      settled: 3,
    });
    expect(dead).toEqual(['1:rejected']);
    expect(reasons).toEqual(['FIELD_CUSTOM_VALIDATION_EXCEPTION after 1']);
    expect(calls).toBe(3);
  });
});
