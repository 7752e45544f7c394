import { KeyedMutex } from './keyed-mutex';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('KeyedMutex', () => {
  it('runs work of one key one at a time, in arrival order, and other keys in parallel', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const job = (key: string, label: string) =>
      mutex.run(key, async () => {
        log.push(`start ${label}`);
        await tick();
        log.push(`end ${label}`);
        return label;
      });
    const results = await Promise.all([job('a', 'a1'), job('a', 'a2'), job('b', 'b1')]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
    expect(mutex.size).toBe(0);
  });

  it('releases the key when the work fails', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    await expect(mutex.run('k', async () => 'next')).resolves.toBe('next');
    expect(mutex.size).toBe(0);
  });

  it('holds several keys at once, queues single-key work behind them, and never deadlocks', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const many = (keys: string[], label: string) =>
      mutex.runAll(keys, async () => {
        log.push(`start ${label}`);
        await tick();
        log.push(`end ${label}`);
      });
    await Promise.all([
      many(['a', 'b', 'a'], 'ab'),
      many(['c', 'b'], 'cb'),
      many(['b', 'a'], 'ba'),
      mutex.run('c', async () => {
        log.push('start c');
        await tick();
        log.push('end c');
      }),
    ]);
    // Work sharing a key never overlaps (all three batches share "b"; "c" is in cb).
    const disjoint = (x: string, y: string) =>
      log.indexOf(`end ${x}`) < log.indexOf(`start ${y}`) ||
      log.indexOf(`end ${y}`) < log.indexOf(`start ${x}`);
    expect(log).toHaveLength(8);
    expect([disjoint('ab', 'cb'), disjoint('ab', 'ba'), disjoint('cb', 'ba')]).toEqual([
      true,
      true,
      true,
    ]);
    expect(disjoint('c', 'cb')).toBe(true);
    expect(mutex.size).toBe(0);
  });
});
