import { murmur2, partitionForKey } from './partitioner';

describe('murmur2', () => {
  // Vectors from Apache Kafka's UtilsTest.testMurmur2: the Java client must agree with us.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j like the Kafka Java client', (key, expected) => {
    expect(murmur2(key)).toBe(expected);
  });

  it('hashes a key as its UTF-8 bytes', () => {
    expect(murmur2('tënant/é')).toBe(murmur2(new TextEncoder().encode('tënant/é')));
  });
});

describe('partitionForKey', () => {
  it('puts a key on a stable partition within range', () => {
    for (const key of ['t1/lead/1', 't1/lead/2', 't2/case/9', '']) {
      const p = partitionForKey(key, 6);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(6);
      expect(partitionForKey(key, 6)).toBe(p);
    }
  });
});
