import { jsonCodec } from './codecs';
import { EventBusError } from './errors';
import {
  DEAD_LETTER_MIN_RETENTION_MS,
  deadLetterTopic,
  defineTopic,
  isKeyInTenant,
  tenantKey,
  type TopicDefinition,
} from './topic-spec';

const base: TopicDefinition<{ t: string }> = {
  name: 'mandate.test.things.v1',
  description: 'things',
  key: (v) => v.t,
  codec: jsonCodec('mandate.test.Thing'),
  partitions: 3,
  retentionMs: 1000,
};

describe('defineTopic', () => {
  it('derives the dead-letter topic name and defaults to the delete cleanup policy', () => {
    const spec = defineTopic(base);
    expect(spec).toMatchObject({
      deadLetter: 'mandate.test.things.v1.dlq',
      cleanupPolicy: 'delete',
      kind: 'event',
    });
    expect(spec.key({ t: 'acme' })).toBe('acme');
    expect(Object.isFrozen(spec)).toBe(true);
  });

  it.each([
    ['an illegal name', { name: 'bad name!' }],
    ['a name ending in .dlq', { name: 'mandate.x.dlq' }],
    ['an over-long name', { name: 'x'.repeat(246) }],
    ['zero partitions', { partitions: 0 }],
    ['fractional partitions', { partitions: 1.5 }],
    ['a zero retention', { retentionMs: 0 }],
    ['a negative retention other than -1', { retentionMs: -2 }],
  ])('rejects %s', (_, override) => {
    expect(() => defineTopic({ ...base, ...override })).toThrow(EventBusError);
  });

  it('accepts infinite retention (-1) and compaction', () => {
    expect(defineTopic({ ...base, retentionMs: -1, cleanupPolicy: 'compact' })).toMatchObject({
      retentionMs: -1,
      cleanupPolicy: 'compact',
    });
  });
});

describe('deadLetterTopic', () => {
  it('keeps dead letters at least 30 days, longer if the source keeps its messages longer', () => {
    expect(deadLetterTopic(defineTopic(base)).retentionMs).toBe(DEAD_LETTER_MIN_RETENTION_MS);
    const year = 365 * 86_400_000;
    expect(deadLetterTopic(defineTopic({ ...base, retentionMs: year })).retentionMs).toBe(year);
    expect(deadLetterTopic(defineTopic({ ...base, retentionMs: -1 })).retentionMs).toBe(-1);
  });

  it('describes a raw-bytes topic with the source partitions that cannot be published to or nested', () => {
    const dlq = deadLetterTopic(defineTopic(base));
    expect(dlq).toMatchObject({
      name: 'mandate.test.things.v1.dlq',
      kind: 'dead-letter',
      partitions: 3,
      deadLetter: '',
    });
    expect(() => dlq.key(new Uint8Array())).toThrow(EventBusError);
    expect(() => deadLetterTopic(dlq as never)).toThrow(EventBusError);
  });
});

describe('tenant keys', () => {
  it('joins parts with a slash', () => {
    expect(tenantKey('acme', 'lead', '42')).toBe('acme/lead/42');
  });

  it('accepts the tenant itself or a key under it, never a tenant that merely shares a prefix', () => {
    expect(isKeyInTenant('acme', 'acme')).toBe(true);
    expect(isKeyInTenant('acme/lead/1', 'acme')).toBe(true);
    expect(isKeyInTenant('acme2/lead/1', 'acme')).toBe(false);
    expect(isKeyInTenant('other/acme/1', 'acme')).toBe(false);
  });
});
