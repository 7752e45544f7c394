import { jsonCodec, protobufCodec } from './codecs';
import { decodeRecord, encodeMessage, type PublishMeta, type RawRecord } from './envelope';
import { EventBusError, MalformedMessageError } from './errors';
import { defineTopic, tenantKey } from './topic-spec';

interface Lead {
  tenantId: string;
  id: string;
}
const topic = defineTopic<Lead>({
  name: 'mandate.test.leads.v1',
  description: 'leads',
  key: (l) => tenantKey(l.tenantId, 'lead', l.id),
  codec: jsonCodec('mandate.test.Lead'),
  partitions: 2,
});
const meta: PublishMeta = { tenantId: 'acme', correlationId: 'corr', source: 'test' };
const lead: Lead = { tenantId: 'acme', id: '7' };

function asRecord(
  m: ReturnType<typeof encodeMessage>,
  overrides: Partial<RawRecord> = {},
): RawRecord {
  return { topic: topic.name, partition: 1, offset: '41', timestamp: 0, ...m, ...overrides };
}

describe('encodeMessage', () => {
  it('computes the key, encodes the value and stamps id, time and trace context', () => {
    const m = encodeMessage(topic, lead, { ...meta, time: new Date('2025-05-05T00:00:00Z') });
    expect(m.key).toBe('acme/lead/7');
    expect(JSON.parse(new TextDecoder().decode(m.value!))).toEqual(lead);
    expect(m.headers['ce_id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.headers['ce_time']).toBe('2025-05-05T00:00:00.000Z');
    expect(m.headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(m.headers['content-type']).toBe('application/json');
  });

  it.each([
    ['a missing correlation id', { correlationId: '' }],
    ['a missing source', { source: '' }],
    ['a tenant other than the key', { tenantId: 'globex' }],
    ['an invalid traceparent', { traceparent: '00-zz' }],
  ])('refuses %s', (_, override) => {
    expect(() => encodeMessage(topic, lead, { ...meta, ...override })).toThrow(EventBusError);
  });
});

describe('decodeRecord', () => {
  it('turns a record into an envelope with its position', () => {
    const m = encodeMessage(topic, lead, { ...meta, id: 'e1', subject: 'lead/7' });
    expect(decodeRecord(topic, asRecord(m))).toMatchObject({
      id: 'e1',
      type: 'mandate.test.Lead',
      subject: 'lead/7',
      tenantId: 'acme',
      key: 'acme/lead/7',
      value: lead,
      topic: topic.name,
      partition: 1,
      offset: '41',
    });
  });

  it.each<[string, Partial<RawRecord>, RegExp]>([
    ['a null value', { value: null }, /no value/],
    ['a null key', { key: null }, /key is not scoped/],
    [
      'another content type',
      { headers: { 'content-type': 'application/protobuf' } },
      /content-type/,
    ],
  ])('treats %s as malformed', (_, override, reason) => {
    const m = encodeMessage(topic, lead, meta);
    const record = asRecord(m, { ...override, headers: { ...m.headers, ...override.headers } });
    expect(() => decodeRecord(topic, record)).toThrow(MalformedMessageError);
    expect(() => decodeRecord(topic, record)).toThrow(reason);
  });

  it('accepts application/x-protobuf for a protobuf codec', () => {
    const proto = defineTopic<Lead>({
      ...topic,
      codec: protobufCodec<Lead>('mandate.test.Lead', {
        encode: (v) => ({ finish: () => new TextEncoder().encode(JSON.stringify(v)) }),
        decode: (b) => JSON.parse(new TextDecoder().decode(b)) as Lead,
      }),
    });
    const m = encodeMessage(proto, lead, meta);
    expect(m.headers['content-type']).toBe('application/protobuf');
    const record = asRecord(m, {
      headers: { ...m.headers, 'content-type': 'application/x-protobuf' },
    });
    expect(decodeRecord(proto, record).value).toEqual(lead);
  });
});
