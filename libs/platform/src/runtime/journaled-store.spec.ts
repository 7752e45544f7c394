import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defineCollection, DuplicateKeyError, OutboxRelay, tenantId } from '@mandate/storage';
import { createLogger } from '../logging/logger';
import { EmbeddedRuntime } from './embedded.runtime';

interface Deal {
  id: string;
  ref: string;
  amount: number;
  closedAt?: Date;
}

const DEALS = defineCollection<Deal>({
  name: 'deals',
  indexes: [{ name: 'ref_unique', keys: { ref: 1 }, unique: true, why: 'One deal per reference.' }],
});
const SCRATCH = defineCollection<Deal>({ name: 'scratch', indexes: [] });
const T = tenantId('acme');

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger('test', 'debug', { write: (line) => lines.push(line) }), lines };
}

describe('EmbeddedRuntime with a data directory', () => {
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mandate-embedded-'));
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('persists only the listed collections across a restart', async () => {
    const dataDir = path.join(root, 'data', 'nested');
    const options = { dataDir, persistentCollections: ['deals'] };
    const first = new EmbeddedRuntime(capturingLogger().logger, options);
    expect(fs.statSync(dataDir).isDirectory()).toBe(true);
    const deals = await first.stores.store(DEALS);
    const scratch = await first.stores.store(SCRATCH);
    const closedAt = new Date('2026-04-01T09:30:00.250Z');
    await deals.insert(T, { id: 'd1', ref: 'r1', amount: 10, closedAt });
    await deals.update(T, 'd1', { inc: { amount: 5 } });
    await deals.insert(
      T,
      { id: 'd2', ref: 'r2', amount: 20 },
      {
        outbox: [{ topic: 'deals', key: 'd2', payload: new Uint8Array([7, 8]) }],
      },
    );
    await scratch.insert(T, { id: 's1', ref: 'x', amount: 1 });
    expect(fs.readdirSync(dataDir)).toEqual(['deals.jsonl']);

    const second = new EmbeddedRuntime(capturingLogger().logger, options);
    const dealsAgain = await second.stores.store(DEALS);
    const scratchAgain = await second.stores.store(SCRATCH);
    expect(await dealsAgain.get(T, 'd1')).toEqual({
      id: 'd1',
      ref: 'r1',
      amount: 15,
      closedAt,
      version: 2,
    });
    expect(await scratchAgain.get(T, 's1')).toBeNull();
    expect(await scratchAgain.count(T)).toBe(0);
    await expect(dealsAgain.insert(T, { id: 'd3', ref: 'r1', amount: 1 })).rejects.toBeInstanceOf(
      DuplicateKeyError,
    );
    expect(await dealsAgain.update(T, 'd1', { set: { amount: 16 } })).toMatchObject({
      version: 3,
    });

    // The undelivered entry survived the restart; once delivered, it stays delivered.
    const published: string[] = [];
    const relay = new OutboxRelay({
      sources: [dealsAgain],
      publish: async (entry, origin) => void published.push(`${origin.documentId}:${entry.topic}`),
      onError: (error) => {
        throw error;
      },
    });
    expect(await relay.pollOnce()).toMatchObject({ published: 1, cleared: 1, failures: 0 });
    expect(published).toEqual(['d2:deals']);
    const third = new EmbeddedRuntime(capturingLogger().logger, options);
    expect(await (await third.stores.store(DEALS)).pendingOutbox({ limit: 10 })).toEqual([]);
    expect(await (await third.stores.store(DEALS)).get(T, 'd1')).toMatchObject({
      amount: 16,
      version: 3,
    });
  });

  it('reports a torn last line through the logger and keeps going', async () => {
    const options = { dataDir: root, persistentCollections: ['deals'] };
    const first = new EmbeddedRuntime(capturingLogger().logger, options);
    await (await first.stores.store(DEALS)).insert(T, { id: 'd1', ref: 'r1', amount: 1 });
    fs.appendFileSync(path.join(root, 'deals.jsonl'), '{"key":"acme:d2","ten');

    const { logger, lines } = capturingLogger();
    const second = new EmbeddedRuntime(logger, options);
    const deals = await second.stores.store(DEALS);
    expect(await deals.count(T)).toBe(1);
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({
        collection: 'deals',
        msg: expect.stringMatching(/torn last line/),
      }),
    ]);
  });

  it('keeps everything in memory without options, as before', async () => {
    const runtime = new EmbeddedRuntime(capturingLogger().logger);
    const deals = await runtime.stores.store(DEALS);
    await deals.insert(T, { id: 'd1', ref: 'r1', amount: 1 });
    expect(await (await runtime.stores.store(DEALS)).get(T, 'd1')).toMatchObject({ version: 1 });
    const restarted = new EmbeddedRuntime(capturingLogger().logger);
    expect(await (await restarted.stores.store(DEALS)).get(T, 'd1')).toBeNull();
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('refuses persistent collections without a data directory, and bad collection names', () => {
    const { logger } = capturingLogger();
    expect(() => new EmbeddedRuntime(logger, { persistentCollections: ['deals'] })).toThrow(
      /requires a dataDir/,
    );
    expect(
      () => new EmbeddedRuntime(logger, { dataDir: root, persistentCollections: ['../deals'] }),
    ).toThrow(/collection name must match/);
  });

  it('warns when a data directory is given but nothing is persistent', () => {
    const { logger, lines } = capturingLogger();
    new EmbeddedRuntime(logger, { dataDir: path.join(root, 'unused') });
    expect(lines.map((l) => JSON.parse(l).msg)).toContain(
      'dataDir given but no persistent collections: everything stays in memory',
    );
    expect(fs.existsSync(path.join(root, 'unused'))).toBe(false);
  });
});
