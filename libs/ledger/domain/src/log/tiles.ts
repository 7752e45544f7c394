import {
  defineCollection,
  DuplicateKeyError,
  type DocumentStore,
  type TenantId,
} from '@mandate/storage';
import { EMPTY_ROOT, nodeHash } from '../merkle';

/**
 * Hash tiles (after C2SP tlog-tiles): the tree's hashes stored 256 to a document. A level-L tile
 * holds up to 256 hashes of perfect subtrees of height 8·L: tile t of level 0 holds the leaf
 * hashes of leaves [256t, 256t+256); tile t of level 1 the roots of the 256-leaf subtrees of
 * leaves [65536t, 65536t+65536), and so on. Any perfect subtree hash comes from ONE tile (at most
 * 255 node hashes), so a proof needs O(log n) reads.
 *
 * Tiles are immutable and only ever inserted: a full tile once (`L/t`), and a partial tile per
 * width the tree had at a batch boundary (`L/t.pW`, W < 256) — exactly the sizes checkpoints are
 * signed at, so the tiles of any checkpointed tree exist. No read-modify-write, no update. Tiles
 * are derived data: the leaves are the truth, and `TileWriter.load` rebuilds missing ones.
 */
export interface TileDoc {
  /** `L/t` (full) or `L/t.pW` (partial, W hashes); t zero-padded so ids sort by position. */
  id: string;
  level: number;
  index: number;
  /** Concatenated 32-byte hashes, base64; full at 256 hashes (8 KiB). */
  hashes: string;
  count: number;
}

export const LEDGER_TILES = defineCollection<TileDoc>({
  name: 'ledger_tiles',
  indexes: [],
});

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 1 << TILE_HEIGHT;
const HASH = 32;

export const tileDocId = (level: number, index: number, count = TILE_WIDTH) =>
  `${level}/${String(index).padStart(12, '0')}${count === TILE_WIDTH ? '' : `.p${count}`}`;

function split(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + HASH <= buf.length; i += HASH) out.push(buf.subarray(i, i + HASH));
  return out;
}

/** Root of a perfect run of 2^k hashes. */
export function perfectRoot(hashes: readonly Buffer[]): Buffer {
  let level = [...hashes];
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
    level = next;
  }
  return level[0];
}

/** Hashes at `level` a tree of `size` leaves has: floor(size / 256^level). */
function entriesAt(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** Width of tile `index` at `level` in a tree of `size` leaves (256 when full). */
export function tileWidth(size: number, level: number, index: number): number {
  return Math.max(0, Math.min(TILE_WIDTH, entriesAt(size, level) - index * TILE_WIDTH));
}

function tileDoc(level: number, index: number, content: readonly Buffer[]): TileDoc {
  return {
    id: tileDocId(level, index, content.length),
    level,
    index,
    hashes: Buffer.concat(content).toString('base64'),
    count: content.length,
  };
}

/** Reads tiles (immutable, so cached, bounded). */
export class TileReader {
  private readonly cache = new Map<string, Buffer[]>();

  constructor(
    private readonly store: DocumentStore<TileDoc>,
    private readonly maxCached = 4096,
  ) {}

  async tile(tenant: TenantId, level: number, index: number, width: number): Promise<Buffer[]> {
    const id = tileDocId(level, index, width);
    const key = `${tenant}|${id}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const doc = await this.store.get(tenant, id);
    const hashes = doc ? split(Buffer.from(doc.hashes, 'base64')) : [];
    if (hashes.length !== width)
      throw new Error(`ledger ${tenant}: tile ${id} is missing or damaged`);
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, hashes);
    return hashes;
  }

  /**
   * Hash of the perfect subtree of height `height` at position `index` (leaves
   * [index·2^height, (index+1)·2^height)), read from the tiles of a tree of `size` leaves
   * (a size the log had at a batch boundary, e.g. a checkpoint's). The subtree must be complete.
   */
  async subtree(tenant: TenantId, height: number, index: number, size: number): Promise<Buffer> {
    const level = Math.floor(height / TILE_HEIGHT);
    const span = 2 ** (height - level * TILE_HEIGHT);
    const first = index * span;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const offset = first - tileIndex * TILE_WIDTH;
    const width = tileWidth(size, level, tileIndex);
    if (width < offset + span)
      throw new Error(
        `ledger ${tenant}: subtree ${height}/${index} is not complete in a tree of ${size}`,
      );
    const tile = await this.tile(tenant, level, tileIndex, width);
    return span === 1 ? tile[offset] : perfectRoot(tile.slice(offset, offset + span));
  }
}

/** Where the writer is: entries per level and the content of each level's last, partial tile. */
export interface TileState {
  /** count[l] = hashes stored at level l (count[0] = tree size). */
  count: number[];
  /** tail[l] = the hashes of level l's last partial tile (fewer than 256). */
  tail: Buffer[][];
}

/** Leaf hashes of leaves [from, to), read from the leaves themselves (the truth). */
export type LeafHashSource = (tenant: TenantId, from: number, to: number) => Promise<Buffer[]>;

/**
 * Keeps a tenant's tiles in line with its leaves as they are appended: after each batch, every
 * tile the batch touched is inserted at its new width (one bulk insert per level). A crash can
 * leave tiles missing, never wrong; `load` rebuilds the missing tail tiles from the leaves.
 */
export class TileWriter {
  constructor(private readonly store: DocumentStore<TileDoc>) {}

  /** Appends leaf hashes (the next leaves, in order) and every tile hash they complete. */
  async append(tenant: TenantId, state: TileState, leafHashes: readonly Buffer[]): Promise<void> {
    let pending: readonly Buffer[] = leafHashes;
    for (let level = 0; pending.length; level++) {
      state.count[level] ??= 0;
      state.tail[level] ??= [];
      const touched = new Map<number, Buffer[]>();
      const completed: Buffer[] = [];
      for (const h of pending) {
        const tileIndex = Math.floor(state.count[level] / TILE_WIDTH);
        state.tail[level].push(h);
        state.count[level]++;
        touched.set(tileIndex, state.tail[level]);
        if (state.tail[level].length === TILE_WIDTH) {
          completed.push(perfectRoot(state.tail[level]));
          state.tail[level] = [];
        }
      }
      await this.insertAll(
        tenant,
        [...touched].map(([index, content]) => tileDoc(level, index, content)),
      );
      pending = completed;
    }
  }

  /**
   * The state for a log of `size` leaves, read from the tiles; tiles a crash left missing (the
   * leaves were written, their tiles not) are rebuilt from the leaves first.
   */
  async load(tenant: TenantId, size: number, leaves: LeafHashSource): Promise<TileState> {
    const state: TileState = { count: [], tail: [] };
    // Hashes [from, to) of `level`: leaf hashes at level 0, else roots of full tiles below.
    const hashesAt = async (level: number, from: number, to: number): Promise<Buffer[]> => {
      if (level === 0) return leaves(tenant, from, to);
      const out: Buffer[] = [];
      for (let i = from; i < to; i++)
        out.push(perfectRoot(await this.ensure(tenant, level - 1, i, TILE_WIDTH, hashesAt)));
      return out;
    };
    for (let level = 0; ; level++) {
      const n = entriesAt(size, level);
      state.count[level] = n;
      const lastTile = Math.floor(n / TILE_WIDTH);
      const partial = n % TILE_WIDTH;
      state.tail[level] = partial
        ? await this.ensure(tenant, level, lastTile, partial, hashesAt)
        : [];
      // The last full tile feeds the level above: it must exist too.
      if (lastTile > 0) await this.ensure(tenant, level, lastTile - 1, TILE_WIDTH, hashesAt);
      if (n < TILE_WIDTH) break;
    }
    return state;
  }

  /** Tile (level, index) of `width` hashes: read, or rebuilt from the level below and stored. */
  private async ensure(
    tenant: TenantId,
    level: number,
    index: number,
    width: number,
    hashesAt: (level: number, from: number, to: number) => Promise<Buffer[]>,
  ): Promise<Buffer[]> {
    const doc = await this.store.get(tenant, tileDocId(level, index, width));
    const stored = doc ? split(Buffer.from(doc.hashes, 'base64')) : [];
    if (stored.length === width) return stored;
    const hashes = await hashesAt(level, index * TILE_WIDTH, index * TILE_WIDTH + width);
    await this.insertAll(tenant, [tileDoc(level, index, hashes)]);
    return hashes;
  }

  private async insertAll(tenant: TenantId, docs: TileDoc[]): Promise<void> {
    if (!docs.length) return;
    try {
      await this.store.insertMany(tenant, docs);
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      // Written before a crash (tiles are immutable: same id, same content): insert the rest.
      for (const doc of docs)
        await this.store.insert(tenant, doc).catch((e: unknown) => {
          if (!(e instanceof DuplicateKeyError)) throw e;
        });
    }
  }
}

/**
 * Root of the whole tree from a writer's state alone (no reads): each level's partial tile holds
 * the perfect subtrees of the tree's binary decomposition at that level's heights; the root
 * folds them from the smallest (rightmost) up.
 */
export function rootOfState(state: TileState): Buffer {
  const peaks: Buffer[] = [];
  for (let level = state.count.length - 1; level >= 0; level--) {
    const tail = state.tail[level] ?? [];
    let offset = 0;
    for (let bit = TILE_HEIGHT - 1; bit >= 0; bit--) {
      const span = 1 << bit;
      if (tail.length & span) {
        peaks.push(perfectRoot(tail.slice(offset, offset + span)));
        offset += span;
      }
    }
  }
  if (!peaks.length) return EMPTY_ROOT;
  let root = peaks[peaks.length - 1];
  for (let i = peaks.length - 2; i >= 0; i--) root = nodeHash(peaks[i], root);
  return root;
}
