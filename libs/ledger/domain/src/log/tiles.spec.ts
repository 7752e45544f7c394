import { createHash } from 'node:crypto';
import { InMemoryDocumentStore, tenantId, type TenantId } from '@mandate/storage';
import { rootFromLeafHashes } from '../merkle';
import {
  LEDGER_TILES,
  TILE_WIDTH,
  TileReader,
  TileWriter,
  tileDocId,
  type TileState,
} from './tiles';

const T = tenantId('acme');
const leaf = (i: number) => createHash('sha256').update(`leaf-${i}`).digest();

async function build(n: number, chunk: number) {
  const store = new InMemoryDocumentStore(LEDGER_TILES);
  const writer = new TileWriter(store);
  const state: TileState = { count: [], tail: [] };
  const hashes = Array.from({ length: n }, (_, i) => leaf(i));
  for (let i = 0; i < n; i += chunk) await writer.append(T, state, hashes.slice(i, i + chunk));
  return { store, writer, state, hashes };
}

describe('hash tiles', () => {
  it('store every perfect subtree hash so that any of them is computed from one tile', async () => {
    const n = TILE_WIDTH * TILE_WIDTH + 3 * TILE_WIDTH + 17; // three levels of tiles
    const { store, hashes } = await build(n, 997);
    const reader = new TileReader(store);
    for (const [height, index] of [
      [0, 0],
      [0, n - 1],
      [3, 5],
      [8, 0],
      [8, 256],
      [9, 128],
      [16, 0],
    ] as const) {
      const span = 2 ** height;
      expect(await reader.subtree(T, height, index, n)).toEqual(
        rootFromLeafHashes(hashes.slice(index * span, (index + 1) * span)),
      );
    }
    // An incomplete subtree is refused rather than guessed.
    await expect(reader.subtree(T, 16, 1, n)).rejects.toThrow(/not complete/);
    expect((await store.get(T, tileDocId(2, 0, 1)))?.count).toBe(1);
  });

  it('reloads the writer state from the tiles, and rebuilds tiles that lag the leaves', async () => {
    const n = TILE_WIDTH * 3 + 40;
    const { store, writer, state, hashes } = await build(n, 100);
    const leaves = async (_t: TenantId, from: number, to: number) => hashes.slice(from, to);
    const loaded = await writer.load(T, n, leaves);
    expect(loaded.count).toEqual(state.count);
    expect(loaded.tail.map((t) => t.length)).toEqual(state.tail.map((t) => t.length));

    // A crash after the leaves were written but before their tiles: the last partial tile, the
    // last full tile and the level-1 tile that should hold its root are missing.
    await store.delete(T, tileDocId(0, 3, 40));
    await store.delete(T, tileDocId(0, 2));
    await store.delete(T, tileDocId(1, 0, 3));
    const repaired = await writer.load(T, n, leaves);
    expect(repaired.count).toEqual(state.count);
    const reader = new TileReader(store);
    expect(await reader.subtree(T, 8, 2, n)).toEqual(
      rootFromLeafHashes(hashes.slice(2 * TILE_WIDTH, 3 * TILE_WIDTH)),
    );
    expect(await reader.subtree(T, 0, n - 1, n)).toEqual(hashes[n - 1]);
    // And appending continues where it left off.
    const more = Array.from({ length: 300 }, (_, i) => leaf(n + i));
    await writer.append(T, repaired, more);
    expect(await reader.subtree(T, 8, 3, n + 300)).toEqual(
      rootFromLeafHashes([...hashes, ...more].slice(3 * TILE_WIDTH, 4 * TILE_WIDTH)),
    );
  });

  it('keeps an empty log empty', async () => {
    const store = new InMemoryDocumentStore(LEDGER_TILES);
    const state = await new TileWriter(store).load(T, 0, async () => []);
    expect(state.count).toEqual([0]);
  });
});
