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
 * hashes of leaves [256t, 256t+256); tile t of level 1 holds the roots of the 256-leaf subtrees
 * [65536t, 65536t+65536), and so on. Any perfect subtree hash is computed from ONE tile (at most
 * 255 node hashes), so proofs need O(log n) reads. Tiles are derived data: the leaves are the
 * truth, and `TileWriter.repair` rebuilds the tail tiles from them after a crash.
 */
export interface TileDoc {
  /** `${level}/${index}` with zero-padded index, so ids sort by position within a level. */
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

export const tileDocId = (level: number, index: number) =>
  `${level}/${String(index).padStart(12, '0')}`;

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

/** Reads tiles; full tiles never change, so they are cached (bounded). */
export class TileReader {
  private readonly cache = new Map<string, Buffer[]>();

  constructor(
    private readonly store: DocumentStore<TileDoc>,
    private readonly maxCached = 4096,
  ) {}

  async tile(tenant: TenantId, level: number, index: number): Promise<Buffer[]> {
    const key = `${tenant}|${level}|${index}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const doc = await this.store.get(tenant, tileDocId(level, index));
    const hashes = doc ? split(Buffer.from(doc.hashes, 'base64')) : [];
    if (hashes.length === TILE_WIDTH) {
      if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, hashes);
    }
    return hashes;
  }

  /** Forgets cached tiles of a tenant (after a repair rewrote them). */
  forget(tenant: TenantId): void {
    for (const key of [...this.cache.keys()])
      if (key.startsWith(`${tenant}|`)) this.cache.delete(key);
  }

  /**
   * Hash of the perfect subtree of height `height` at position `index` (leaves
   * [index·2^height, (index+1)·2^height)). The subtree must be complete.
   */
  async subtree(tenant: TenantId, height: number, index: number): Promise<Buffer> {
    const level = Math.floor(height / TILE_HEIGHT);
    const within = height - level * TILE_HEIGHT;
    const span = 2 ** within;
    const first = index * span;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const offset = first - tileIndex * TILE_WIDTH;
    const tile = await this.tile(tenant, level, tileIndex);
    if (tile.length < offset + span)
      throw new Error(
        `ledger ${tenant}: subtree ${height}/${index} is not complete (tile ${level}/${tileIndex} has ${tile.length} hashes)`,
      );
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
 * Keeps a tenant's tiles in line with its leaves as they are appended. Each tile write is one
 * single-document upsert, so a crash leaves tiles that lag the leaves; `load` notices and
 * rebuilds the lagging tail tiles from the leaves before the writer continues.
 */
export class TileWriter {
  constructor(private readonly store: DocumentStore<TileDoc>) {}

  /** Appends leaf hashes (the next leaves, in order) and every tile hash they complete. */
  async append(tenant: TenantId, state: TileState, leafHashes: readonly Buffer[]): Promise<void> {
    let pending: readonly Buffer[] = leafHashes;
    for (let level = 0; pending.length; level++) {
      state.count[level] ??= 0;
      state.tail[level] ??= [];
      const dirty = new Map<number, Buffer[]>();
      const completed: Buffer[] = [];
      for (const h of pending) {
        const tileIndex = Math.floor(state.count[level] / TILE_WIDTH);
        state.tail[level].push(h);
        state.count[level]++;
        dirty.set(tileIndex, state.tail[level]);
        if (state.tail[level].length === TILE_WIDTH) {
          completed.push(perfectRoot(state.tail[level]));
          state.tail[level] = [];
        }
      }
      await this.writeAll(tenant, level, dirty, state.count[level] - pending.length);
      pending = completed;
    }
  }

  /**
   * The state for a log of `size` leaves, read from the tiles; tiles that lag the leaves (a crash
   * between a leaf write and its tile write) are rebuilt from the leaves first.
   */
  async load(tenant: TenantId, size: number, leaves: LeafHashSource): Promise<TileState> {
    const state: TileState = { count: [], tail: [] };
    // Rebuild bottom-up so each level can be derived from the one below.
    let below: (from: number, to: number) => Promise<Buffer[]> = (from, to) =>
      leaves(tenant, from, to);
    for (let level = 0, n = size; n > 0 || level === 0; level++, n = Math.floor(n / TILE_WIDTH)) {
      state.count[level] = n;
      const lastTile = Math.floor(n / TILE_WIDTH);
      const partial = n % TILE_WIDTH;
      // The last full tile must be complete too (its root feeds the level above).
      for (const t of partial ? [lastTile] : []) {
        const stored = await this.storedHashes(tenant, level, t);
        const want = partial;
        const hashes =
          stored.length >= want
            ? stored.slice(0, want)
            : await below(t * TILE_WIDTH, t * TILE_WIDTH + want);
        if (stored.length < want) await this.write(tenant, level, t, hashes);
        state.tail[level] = hashes;
      }
      if (!partial) state.tail[level] = [];
      if (lastTile > 0) {
        const full = await this.storedHashes(tenant, level, lastTile - 1);
        if (full.length < TILE_WIDTH) {
          const hashes = await below((lastTile - 1) * TILE_WIDTH, lastTile * TILE_WIDTH);
          await this.write(tenant, level, lastTile - 1, hashes);
        }
      }
      const currentLevel = level;
      below = async (from, to) => {
        const out: Buffer[] = [];
        for (let i = from; i < to; i++) {
          const tile = await this.storedHashes(tenant, currentLevel, i);
          if (tile.length < TILE_WIDTH)
            throw new Error(`ledger ${tenant}: tile ${currentLevel}/${i} is incomplete`);
          out.push(perfectRoot(tile));
        }
        return out;
      };
      if (n < TILE_WIDTH) break;
    }
    return state;
  }

  private async storedHashes(tenant: TenantId, level: number, index: number): Promise<Buffer[]> {
    const doc = await this.store.get(tenant, tileDocId(level, index));
    return doc ? split(Buffer.from(doc.hashes, 'base64')) : [];
  }

  /**
   * Writes the tiles a batch touched at one level: the tile that already existed (partially) is
   * updated; tiles the batch started are created together in one bulk insert.
   */
  private async writeAll(
    tenant: TenantId,
    level: number,
    dirty: Map<number, Buffer[]>,
    countBefore: number,
  ): Promise<void> {
    const existing = countBefore % TILE_WIDTH ? Math.floor(countBefore / TILE_WIDTH) : -1;
    const created: TileDoc[] = [];
    for (const [index, content] of dirty) {
      if (index === existing) await this.write(tenant, level, index, content);
      else
        created.push({
          id: tileDocId(level, index),
          level,
          index,
          hashes: Buffer.concat(content).toString('base64'),
          count: content.length,
        });
    }
    if (!created.length) return;
    try {
      await this.store.insertMany(tenant, created);
    } catch (err) {
      // A previous attempt (before a crash) wrote some of them: write each one in place.
      if (!(err instanceof DuplicateKeyError)) throw err;
      for (const doc of created)
        await this.write(tenant, level, doc.index, split(Buffer.from(doc.hashes, 'base64')));
    }
  }

  /** One single-document write (an upsert by id: no read first). */
  private async write(tenant: TenantId, level: number, index: number, content: Buffer[]) {
    await this.store.update(
      tenant,
      tileDocId(level, index),
      {
        set: { hashes: Buffer.concat(content).toString('base64'), count: content.length },
        setOnInsert: { level, index },
      },
      { upsert: true },
    );
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
