import { headersToStrings, toBuffer } from './kafka-headers';

describe('headersToStrings', () => {
  it('decodes buffers as UTF-8, keeps strings, takes the first of repeated headers and drops empty ones', () => {
    expect(
      headersToStrings({
        ce_id: Buffer.from('évt-1'),
        plain: 'text',
        repeated: [Buffer.from('first'), Buffer.from('second')],
        missing: undefined,
      }),
    ).toEqual({ ce_id: 'évt-1', plain: 'text', repeated: 'first' });
    expect(headersToStrings(undefined)).toEqual({});
  });
});

describe('toBuffer', () => {
  it('views the same bytes, including a slice of a larger array', () => {
    const whole = new Uint8Array([1, 2, 3, 4]);
    const buf = toBuffer(whole.subarray(1, 3))!;
    expect([...buf]).toEqual([2, 3]);
    expect(toBuffer(null)).toBeNull();
  });
});
