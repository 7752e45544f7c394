import { randomBytes } from 'node:crypto';
import { encodeCloudEventHeaders } from '../cloudevents';
import { jsonCodec } from '../codecs';
import { readDeadLetter } from '../dead-letter';
import type { Envelope, PublishMeta, RawMessage } from '../envelope';
import { EventBusError } from '../errors';
import type { EventBus } from '../event-bus';
import { deadLetterTopic, defineTopic, tenantKey, type TopicSpec } from '../topic-spec';

/** What an adapter's test provides so the shared contract can exercise it. */
export interface EventBusHarness {
  /** A started bus. */
  bus: EventBus;
  /** Another started bus on the same transport, as if in another process. */
  newBus(): Promise<EventBus>;
  /** Makes the topics (and their dead-letter topics) exist, as `mandate topics apply` would. */
  createTopics(topics: ReadonlyArray<TopicSpec<unknown>>): Promise<void>;
  /** Writes bytes and headers onto a topic, bypassing the bus's encoding (to test malformed input). */
  publishRaw(topic: string, message: RawMessage): Promise<void>;
  /** Stops every bus the harness created. */
  cleanup(): Promise<void>;
}

export type EventBusHarnessFactory = () => Promise<EventBusHarness>;

export interface ContractOptions {
  /** How long to wait for an expected delivery (Kafka group joins take seconds). */
  waitTimeoutMs?: number;
}

interface TestEvent {
  tenantId: string;
  recordId: string;
  seq: number;
}

const TYPE = 'mandate.test.ContractEvent';
const codec = jsonCodec<TestEvent>(TYPE);
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The behaviour every EventBus adapter must have. Run it from each adapter's tests with a
 * factory that builds a fresh harness per test; topic and group names are unique per run.
 */
export function describeEventBusContract(
  name: string,
  factory: EventBusHarnessFactory,
  options: ContractOptions = {},
): void {
  const waitTimeoutMs = options.waitTimeoutMs ?? 10_000;
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let counter = 0;
  const unique = (label: string): string => `mandate.contract.${runId}.${++counter}.${label}`;

  const ev = (seq: number, recordId = 'r1', tenantId = 't1'): TestEvent => ({
    tenantId,
    recordId,
    seq,
  });
  const meta = (e: TestEvent, extra: Partial<PublishMeta> = {}): PublishMeta => ({
    tenantId: e.tenantId,
    correlationId: `corr-${e.recordId}`,
    source: 'contract-test',
    ...extra,
  });

  async function waitFor(
    condition: () => boolean,
    what: string,
    timeoutMs = waitTimeoutMs,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  describe(`EventBus contract: ${name}`, () => {
    let h: EventBusHarness;

    beforeEach(async () => {
      h = await factory();
    });

    afterEach(async () => {
      await h.cleanup();
    });

    async function topic(label: string, partitions = 3): Promise<TopicSpec<TestEvent>> {
      const spec = defineTopic<TestEvent>({
        name: unique(label),
        description: 'contract test topic',
        key: (e) => tenantKey(e.tenantId, e.recordId),
        codec,
        partitions,
        retentionMs: 60 * 60 * 1000,
      });
      await h.createTopics([spec]);
      return spec;
    }

    function collect<T>(): { got: Envelope<T>[]; handler: (e: Envelope<T>) => Promise<void> } {
      const got: Envelope<T>[] = [];
      return { got, handler: async (e) => void got.push(e) };
    }

    it('delivers a published message as a CloudEvents envelope', async () => {
      const t = await topic('roundtrip');
      const c = collect<TestEvent>();
      await h.bus.subscribe(t, { group: unique('g'), handler: c.handler });
      const e = ev(1);
      await h.bus.publish(t, e, meta(e, { id: 'evt-1', subject: 'lead/r1' }));

      await waitFor(() => c.got.length === 1, 'the message');
      const got = c.got[0]!;
      expect(got).toMatchObject({
        id: 'evt-1',
        type: TYPE,
        source: 'contract-test',
        subject: 'lead/r1',
        tenantId: 't1',
        correlationId: 'corr-r1',
        key: 't1/r1',
        value: e,
        attempt: 1,
        topic: t.name,
      });
      expect(got.traceparent).toMatch(TRACEPARENT);
      expect(Number.isNaN(Date.parse(got.time))).toBe(false);
      expect(got.headers).toMatchObject({
        ce_specversion: '1.0',
        ce_id: 'evt-1',
        ce_type: TYPE,
        ce_source: 'contract-test',
        ce_subject: 'lead/r1',
        ce_tenantid: 't1',
        ce_correlationid: 'corr-r1',
        'content-type': 'application/json',
        traceparent: got.traceparent,
      });
    });

    it('carries the given W3C trace context unchanged', async () => {
      const t = await topic('trace');
      const c = collect<TestEvent>();
      await h.bus.subscribe(t, { group: unique('g'), handler: c.handler });
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await h.bus.publish(t, ev(1), meta(ev(1), { traceparent, tracestate: 'vendor=abc' }));

      await waitFor(() => c.got.length === 1, 'the message');
      expect(c.got[0]).toMatchObject({ traceparent, tracestate: 'vendor=abc' });
    });

    it('refuses to publish without tenant metadata or with a key outside the tenant', async () => {
      const t = await topic('refuse');
      await expect(h.bus.publish(t, ev(1), meta(ev(1), { tenantId: '' }))).rejects.toBeInstanceOf(
        EventBusError,
      );
      await expect(
        h.bus.publish(t, ev(1, 'r1', 't1'), meta(ev(1), { tenantId: 't2' })),
      ).rejects.toBeInstanceOf(EventBusError);
      await expect(
        h.bus.publish(deadLetterTopic(t), new Uint8Array(), meta(ev(1))),
      ).rejects.toBeInstanceOf(EventBusError);
    });

    it('keeps per-key order, also for a batch spread over partitions', async () => {
      const t = await topic('order', 3);
      const seen = new Map<string, number[]>();
      await h.bus.subscribe(t, {
        group: unique('g'),
        handler: async (e) => {
          // Uneven handler latency would reorder anything that is not strictly sequential per key.
          await new Promise((r) => setTimeout(r, (e.value.seq * 7) % 5));
          seen.set(e.key, [...(seen.get(e.key) ?? []), e.value.seq]);
        },
      });
      const keys = ['a', 'b', 'c', 'd', 'e'];
      const items = Array.from({ length: 100 }, (_, i) => {
        const e = ev(i, keys[i % keys.length]!);
        return { value: e, meta: meta(e) };
      });
      await h.bus.publishBatch(t, items);

      await waitFor(
        () => [...seen.values()].reduce((n, s) => n + s.length, 0) === 100,
        '100 messages',
      );
      for (const k of keys) {
        const expected = items.filter((i) => i.value.recordId === k).map((i) => i.value.seq);
        expect(seen.get(`t1/${k}`)).toEqual(expected);
      }
    });

    it("shares a group's messages between its members, each message to exactly one", async () => {
      const t = await topic('share', 6);
      const group = unique('g');
      const a = collect<TestEvent>();
      const b = collect<TestEvent>();
      await h.bus.subscribe(t, { group, handler: a.handler });
      const other = await h.newBus();
      await other.subscribe(t, { group, handler: b.handler });

      const events = Array.from({ length: 60 }, (_, i) => ev(i, `rec-${i}`));
      await h.bus.publishBatch(
        t,
        events.map((e) => ({ value: e, meta: meta(e) })),
      );

      await waitFor(() => a.got.length + b.got.length >= 60, '60 messages');
      await new Promise((r) => setTimeout(r, 300)); // room for a wrongly duplicated delivery to show up
      const seqs = [...a.got, ...b.got].map((e) => e.value.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(events.map((e) => e.seq));
      expect(a.got.length).toBeGreaterThan(0);
      expect(b.got.length).toBeGreaterThan(0);
    });

    it('delivers every message to each group', async () => {
      const t = await topic('groups');
      const a = collect<TestEvent>();
      const b = collect<TestEvent>();
      await h.bus.subscribe(t, { group: unique('ga'), handler: a.handler });
      await h.bus.subscribe(t, { group: unique('gb'), handler: b.handler });
      const events = Array.from({ length: 10 }, (_, i) => ev(i, `rec-${i}`));
      await h.bus.publishBatch(
        t,
        events.map((e) => ({ value: e, meta: meta(e) })),
      );

      await waitFor(() => a.got.length === 10 && b.got.length === 10, 'both groups');
      const sorted = (c: Envelope<TestEvent>[]): number[] =>
        c.map((e) => e.value.seq).sort((x, y) => x - y);
      expect(sorted(a.got)).toEqual(sorted(b.got));
    });

    it('lets one group consume several topics', async () => {
      const x = await topic('multi-x');
      const y = await topic('multi-y');
      const group = unique('g');
      const cx = collect<TestEvent>();
      const cy = collect<TestEvent>();
      await h.bus.subscribe(x, { group, handler: cx.handler });
      await h.bus.subscribe(y, { group, handler: cy.handler });
      await h.bus.publishBatch(
        x,
        [1, 2, 3].map((s) => ({ value: ev(s, `r${s}`), meta: meta(ev(s)) })),
      );
      await h.bus.publishBatch(
        y,
        [4, 5].map((s) => ({ value: ev(s, `r${s}`), meta: meta(ev(s)) })),
      );

      await waitFor(() => cx.got.length === 3 && cy.got.length === 2, 'both topics');
    });

    it('retries a failing handler after a backoff, in order, with the attempt counted', async () => {
      const t = await topic('retry', 1);
      const deliveries: Array<{ seq: number; attempt: number; at: number }> = [];
      await h.bus.subscribe(t, {
        group: unique('g'),
        retry: { maxAttempts: 5, initialBackoffMs: 60, maxBackoffMs: 200 },
        handler: async (e) => {
          deliveries.push({ seq: e.value.seq, attempt: e.attempt, at: Date.now() });
          if (e.value.seq === 1 && e.attempt < 3) throw new Error('transient');
        },
      });
      await h.bus.publishBatch(
        t,
        [ev(1), ev(2)].map((e) => ({ value: e, meta: meta(e) })),
      );

      await waitFor(() => deliveries.length === 4, 'four deliveries');
      expect(deliveries.map(({ seq, attempt }) => [seq, attempt])).toEqual([
        [1, 1],
        [1, 2],
        [1, 3],
        [2, 1],
      ]);
      // Equal jitter waits at least half the exponential step: >= 30ms, then >= 60ms.
      expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(25);
      expect(deliveries[2]!.at - deliveries[1]!.at).toBeGreaterThanOrEqual(55);
    });

    it('dead-letters a message whose handler keeps failing, with the reason, and moves on', async () => {
      const t = await topic('exhaust', 1);
      const group = unique('g');
      const attempts: number[] = [];
      const handled: number[] = [];
      let poison: Envelope<TestEvent> | undefined;
      await h.bus.subscribe(t, {
        group,
        retry: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 20 },
        handler: async (e) => {
          if (e.value.seq === 1) {
            poison = e;
            attempts.push(e.attempt);
            throw new Error('boom: cannot handle');
          }
          handled.push(e.value.seq);
        },
      });
      const dead = collect<Uint8Array>();
      await h.bus.subscribe(deadLetterTopic(t), { group: unique('dlq'), handler: dead.handler });
      await h.bus.publishBatch(
        t,
        [ev(1), ev(2)].map((e) => ({ value: e, meta: meta(e, { id: `evt-${e.seq}` }) })),
      );

      await waitFor(
        () => handled.length === 1 && dead.got.length === 1,
        'the next message and the dead letter',
      );
      expect(handled).toEqual([2]);
      expect(attempts).toEqual([1, 2, 3]);
      const info = readDeadLetter(dead.got[0]!);
      expect(info).toMatchObject({
        kind: 'handler-failed',
        attempts: 3,
        group,
        originalTopic: t.name,
        originalPartition: poison!.partition,
        originalOffset: poison!.offset,
        key: 't1/r1',
      });
      expect(info.reason).toContain('boom: cannot handle');
      expect(info.originalHeaders).toMatchObject({ ce_id: 'evt-1', ce_type: TYPE });
      expect(codec.decode(info.payload)).toEqual(ev(1));
      expect(dead.got[0]!.headers['mandate-dlq-reason']).toContain('boom');
    });

    it('dead-letters malformed messages at once without blocking the partition', async () => {
      const t = await topic('malformed', 1);
      const handled: Array<Envelope<TestEvent>> = [];
      await h.bus.subscribe(t, { group: unique('g'), handler: async (e) => void handled.push(e) });
      const dead = collect<Uint8Array>();
      await h.bus.subscribe(deadLetterTopic(t), { group: unique('dlq'), handler: dead.handler });

      const goodHeaders = (overrides: Record<string, string> = {}): Record<string, string> => ({
        ...encodeCloudEventHeaders({
          id: 'raw',
          type: TYPE,
          source: 'contract-test',
          time: new Date().toISOString(),
          tenantId: 't1',
          correlationId: 'corr',
          contentType: 'application/json',
        }),
        ...overrides,
      });
      const bytes = codec.encode(ev(0));
      await h.publishRaw(t.name, {
        key: 't1/r1',
        value: new Uint8Array([0xde, 0xad]),
        headers: {},
      });
      await h.publishRaw(t.name, {
        key: 't1/r1',
        value: new Uint8Array([0x7b, 0xff]),
        headers: goodHeaders(),
      });
      await h.publishRaw(t.name, {
        key: 't1/r1',
        value: bytes,
        headers: goodHeaders({ ce_type: 'mandate.v1.Other' }),
      });
      await h.publishRaw(t.name, { key: 't2/r1', value: bytes, headers: goodHeaders() });
      await h.bus.publish(t, ev(5), meta(ev(5)));

      await waitFor(
        () => handled.length === 1 && dead.got.length === 4,
        'the good message and 4 dead letters',
      );
      expect(handled[0]).toMatchObject({ value: ev(5), attempt: 1 });
      const infos = dead.got.map(readDeadLetter);
      expect(infos.map((i) => [i.kind, i.attempts, i.originalTopic])).toEqual(
        Array(4).fill(['malformed', 0, t.name]),
      );
      const reasons = infos.map((i) => i.reason);
      expect(reasons[0]).toMatch(/ce_specversion/);
      expect(reasons[1]).toMatch(/payload is not a valid/);
      expect(reasons[2]).toMatch(/ce_type/);
      expect(reasons[3]).toMatch(/tenant/);
      expect(Array.from(infos[0]!.payload)).toEqual([0xde, 0xad]);
    });

    it('redelivers to the group a message whose handler had not succeeded when its consumer stopped', async () => {
      const t = await topic('redeliver', 1);
      const group = unique('g');
      const entered = deferred();
      const release = deferred();
      const sub = await h.bus.subscribe(t, {
        group,
        handler: async () => {
          entered.resolve();
          await release.promise;
          throw new Error('interrupted by shutdown');
        },
      });
      await h.bus.publish(t, ev(1), meta(ev(1), { id: 'evt-redeliver' }));
      await entered.promise;
      const stopping = sub.unsubscribe();
      release.resolve();
      await stopping;

      const other = await h.newBus();
      const c = collect<TestEvent>();
      await other.subscribe(t, { group, handler: c.handler });
      await waitFor(() => c.got.length === 1, 'the redelivery');
      expect(c.got[0]).toMatchObject({ id: 'evt-redeliver', attempt: 1, value: ev(1) });
    });

    it('commits a handler that finishes during a graceful stop', async () => {
      const t = await topic('graceful', 1);
      const group = unique('g');
      const entered = deferred();
      const release = deferred();
      let finished = false;
      const sub = await h.bus.subscribe(t, {
        group,
        handler: async () => {
          entered.resolve();
          await release.promise;
          finished = true;
        },
      });
      await h.bus.publish(t, ev(1), meta(ev(1)));
      await entered.promise;
      const stopping = sub.unsubscribe();
      release.resolve();
      await stopping;
      expect(finished).toBe(true);

      const other = await h.newBus();
      const c = collect<TestEvent>();
      await other.subscribe(t, { group, handler: c.handler });
      await h.bus.publish(t, ev(2), meta(ev(2)));
      await waitFor(() => c.got.length >= 1, 'the next message');
      expect(c.got.map((e) => e.value.seq)).toEqual([2]);
    });

    describe('batch consumption', () => {
      interface BatchCall {
        partition: number;
        offsets: string[];
        seqs: number[];
        attempt: number;
      }
      const callOf = (envs: Envelope<TestEvent>[]): BatchCall => ({
        partition: envs[0]!.partition,
        offsets: envs.map((e) => e.offset),
        seqs: envs.map((e) => e.value.seq),
        attempt: envs[0]!.attempt,
      });
      const items = (seqs: number[], recordId = 'r1') =>
        seqs.map((s) => {
          const e = ev(s, recordId);
          return { value: e, meta: meta(e, { id: `evt-${s}` }) };
        });
      const unexpected = async (e: Envelope<TestEvent>): Promise<void> => {
        throw new Error(`per-message handler called for seq ${e.value.seq}`);
      };

      it('refuses a batch size below 1', async () => {
        const t = await topic('batch-size', 1);
        const handler = async (): Promise<void> => undefined;
        await expect(
          h.bus.subscribe(t, { group: unique('g'), handler, batch: { maxSize: 0, handler } }),
        ).rejects.toBeInstanceOf(RangeError);
      });

      it('delivers batches of at most maxSize, one partition each, in order, each message once', async () => {
        const t = await topic('batch-order', 3);
        const keys = ['a', 'b', 'c', 'd', 'e'];
        const published = Array.from({ length: 60 }, (_, i) => items([i], keys[i % 5]!)[0]!);
        // Published before subscribing, so plenty is available at once.
        await h.bus.publishBatch(t, published);
        const calls: BatchCall[] = [];
        const partitionsPerBatch: number[] = [];
        const singles: number[] = [];
        await h.bus.subscribe(t, {
          group: unique('g'),
          handler: async (e) => void singles.push(e.value.seq),
          batch: {
            maxSize: 7,
            handler: async (envs) => {
              partitionsPerBatch.push(new Set(envs.map((e) => e.partition)).size);
              calls.push(callOf(envs));
              // Uneven latency would reorder anything that is not strictly sequential per partition.
              await new Promise((r) => setTimeout(r, (envs.length * 7) % 5));
            },
          },
        });

        await waitFor(() => calls.reduce((n, c) => n + c.seqs.length, 0) >= 60, '60 messages');
        await new Promise((r) => setTimeout(r, 300)); // room for a wrongly duplicated delivery
        expect(singles).toEqual([]);
        expect(partitionsPerBatch.every((n) => n === 1)).toBe(true);
        const sizes = calls.map((c) => c.seqs.length);
        expect(Math.max(...sizes)).toBeLessThanOrEqual(7);
        expect(Math.max(...sizes)).toBeGreaterThan(1);
        expect(calls.every((c) => c.attempt === 1)).toBe(true);
        expect(calls.flatMap((c) => c.seqs).sort((x, y) => x - y)).toEqual(
          published.map((i) => i.value.seq),
        );
        for (const p of new Set(calls.map((c) => c.partition))) {
          const offsets = calls.filter((c) => c.partition === p).flatMap((c) => c.offsets);
          const asNumbers = offsets.map(Number);
          expect(asNumbers).toEqual([...asNumbers].sort((x, y) => x - y));
          expect(new Set(asNumbers).size).toBe(asNumbers.length);
        }
        for (const k of keys) {
          const seqsOfKey = calls
            .flatMap((c) => c.seqs)
            .filter((s) => published[s]!.value.recordId === k);
          expect(seqsOfKey).toEqual(
            published.filter((i) => i.value.recordId === k).map((i) => i.value.seq),
          );
        }
      });

      it('dead-letters a malformed message of a batch on its own and delivers the rest', async () => {
        const t = await topic('batch-malformed', 1);
        await h.bus.publish(t, ev(1), meta(ev(1)));
        await h.publishRaw(t.name, {
          key: 't1/r1',
          value: new Uint8Array([0xde, 0xad]),
          headers: { 'x-origin': 'legacy' },
        });
        await h.bus.publishBatch(t, items([2, 3]));
        const calls: BatchCall[] = [];
        await h.bus.subscribe(t, {
          group: unique('g'),
          handler: unexpected,
          batch: { maxSize: 10, handler: async (envs) => void calls.push(callOf(envs)) },
        });
        const dead = collect<Uint8Array>();
        await h.bus.subscribe(deadLetterTopic(t), { group: unique('dlq'), handler: dead.handler });

        await waitFor(
          () => calls.flatMap((c) => c.seqs).length === 3 && dead.got.length === 1,
          'three messages and one dead letter',
        );
        expect(calls.flatMap((c) => c.seqs)).toEqual([1, 2, 3]);
        const info = readDeadLetter(dead.got[0]!);
        expect(info).toMatchObject({ kind: 'malformed', attempts: 0, originalTopic: t.name });
        expect(info.originalHeaders).toEqual({ 'x-origin': 'legacy' });
        expect(calls.flatMap((c) => c.offsets)).not.toContain(info.originalOffset);
      });

      it('retries a failing batch, then isolates the poison message: it alone is dead-lettered, the others are delivered once', async () => {
        const t = await topic('batch-poison', 1);
        await h.bus.publishBatch(t, items([1, 2, 3, 4]));
        const group = unique('g');
        const calls: BatchCall[] = [];
        const singles: Array<[number, number]> = [];
        const delivered: number[] = [];
        await h.bus.subscribe(t, {
          group,
          retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
          handler: async (e) => {
            singles.push([e.value.seq, e.attempt]);
            if (e.value.seq === 3) throw new Error('poison: cannot handle 3');
            delivered.push(e.value.seq);
          },
          batch: {
            maxSize: 10,
            handler: async (envs) => {
              const call = callOf(envs);
              calls.push(call);
              if (call.seqs.includes(3)) throw new Error('batch contains poison');
              delivered.push(...call.seqs);
            },
          },
        });
        const dead = collect<Uint8Array>();
        await h.bus.subscribe(deadLetterTopic(t), { group: unique('dlq'), handler: dead.handler });

        await waitFor(
          () => delivered.length === 3 && dead.got.length === 1,
          'isolation of the poison message',
        );
        // Batching resumes after the isolation.
        await h.bus.publish(t, ev(5), meta(ev(5)));
        await waitFor(() => delivered.length === 4, 'the next batch');
        await new Promise((r) => setTimeout(r, 300)); // room for a wrongly duplicated delivery

        expect(calls.map((c) => [c.seqs, c.attempt])).toEqual([
          [[1, 2, 3, 4], 1],
          [[1, 2, 3, 4], 2],
          [[5], 1],
        ]);
        expect(singles).toEqual([
          [1, 1],
          [2, 1],
          [3, 1],
          [3, 2],
          [4, 1],
        ]);
        expect(delivered).toEqual([1, 2, 4, 5]);
        const info = readDeadLetter(dead.got[0]!);
        expect(info).toMatchObject({
          kind: 'handler-failed',
          attempts: 2,
          group,
          originalTopic: t.name,
          originalOffset: calls[0]!.offsets[2],
        });
        expect(info.reason).toContain('poison: cannot handle 3');
        expect(codec.decode(info.payload)).toEqual(ev(3));
      });

      it('redelivers the whole batch to the group when its consumer stops before the batch succeeded', async () => {
        const t = await topic('batch-redeliver', 1);
        await h.bus.publishBatch(t, items([1, 2, 3]));
        const group = unique('g');
        const entered = deferred();
        const release = deferred();
        const first: BatchCall[] = [];
        const sub = await h.bus.subscribe(t, {
          group,
          handler: unexpected,
          batch: {
            maxSize: 10,
            handler: async (envs) => {
              first.push(callOf(envs));
              entered.resolve();
              await release.promise;
              throw new Error('interrupted by shutdown');
            },
          },
        });
        await entered.promise;
        const stopping = sub.unsubscribe();
        release.resolve();
        await stopping;
        expect(first.map((c) => c.seqs)).toEqual([[1, 2, 3]]);

        const other = await h.newBus();
        const again: BatchCall[] = [];
        await other.subscribe(t, {
          group,
          handler: unexpected,
          batch: { maxSize: 10, handler: async (envs) => void again.push(callOf(envs)) },
        });
        await waitFor(() => again.flatMap((c) => c.seqs).length === 3, 'the redelivered batch');
        expect(again.map((c) => [c.seqs, c.attempt])).toEqual([[[1, 2, 3], 1]]);
      });

      it('delivers a batch whose handler threw once again, then commits it: the group resumes after it', async () => {
        const t = await topic('batch-commit', 1);
        await h.bus.publishBatch(t, items([1, 2, 3]));
        const group = unique('g');
        const calls: BatchCall[] = [];
        const sub = await h.bus.subscribe(t, {
          group,
          retry: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 20 },
          handler: unexpected,
          batch: {
            maxSize: 10,
            handler: async (envs) => {
              calls.push(callOf(envs));
              if (calls.length === 1) throw new Error('transient');
            },
          },
        });
        await waitFor(() => calls.length === 2, 'the retried batch');
        expect(calls.map((c) => [c.seqs, c.attempt])).toEqual([
          [[1, 2, 3], 1],
          [[1, 2, 3], 2],
        ]);
        await sub.unsubscribe();

        const other = await h.newBus();
        const next: BatchCall[] = [];
        await other.subscribe(t, {
          group,
          handler: unexpected,
          batch: { maxSize: 10, handler: async (envs) => void next.push(callOf(envs)) },
        });
        await h.bus.publish(t, ev(4), meta(ev(4)));
        await waitFor(() => next.length >= 1, 'the next message');
        await new Promise((r) => setTimeout(r, 300));
        expect(next.map((c) => c.seqs)).toEqual([[4]]);
      });

      it('finishes and commits an in-flight batch during a graceful stop', async () => {
        const t = await topic('batch-graceful', 1);
        await h.bus.publishBatch(t, items([1, 2, 3]));
        const group = unique('g');
        const entered = deferred();
        const release = deferred();
        let finished = false;
        const sub = await h.bus.subscribe(t, {
          group,
          handler: unexpected,
          batch: {
            maxSize: 10,
            handler: async () => {
              entered.resolve();
              await release.promise;
              finished = true;
            },
          },
        });
        await entered.promise;
        const stopping = sub.unsubscribe();
        release.resolve();
        await stopping;
        expect(finished).toBe(true);

        const other = await h.newBus();
        const next: BatchCall[] = [];
        await other.subscribe(t, {
          group,
          handler: unexpected,
          batch: { maxSize: 10, handler: async (envs) => void next.push(callOf(envs)) },
        });
        await h.bus.publish(t, ev(4), meta(ev(4)));
        await waitFor(() => next.length >= 1, 'the next message');
        await new Promise((r) => setTimeout(r, 300));
        expect(next.map((c) => c.seqs)).toEqual([[4]]);
      });
    });

    it('reports readiness and refuses to publish once stopped', async () => {
      const t = await topic('health');
      await h.bus.subscribe(t, { group: unique('g'), handler: async () => undefined });
      expect(h.bus.health()).toMatchObject({ ready: true, detail: { state: 'started' } });
      expect(h.bus.health().detail.subscriptions).toEqual([
        expect.objectContaining({ topic: t.name, state: 'running' }),
      ]);

      const other = await h.newBus();
      await other.stop();
      expect(other.health()).toMatchObject({ ready: false, detail: { state: 'stopped' } });
      await expect(other.publish(t, ev(1), meta(ev(1)))).rejects.toBeInstanceOf(EventBusError);
    });
  });
}
