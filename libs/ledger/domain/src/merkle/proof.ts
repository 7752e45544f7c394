/**
 * RFC 9162 §2.1.3 (inclusion) and §2.1.4 (consistency) proof generation over an abstract source
 * of perfect subtree hashes. Each proof node is decomposed into perfect subtrees, so a proof
 * costs O(log n) `hash` calls; the output is byte-identical to transparency-dev/merkle's proofs
 * (deepest node first).
 */
import { EMPTY_ROOT, nodeHash } from './hash';

/**
 * Hashes of perfect subtrees of one log: `hash(level, index)` is the root of the subtree that
 * covers leaves [index·2^level, (index+1)·2^level) — level 0 is the leaf hashes themselves.
 * The caller computes these from its storage (stored nodes, tiles, or leaves).
 */
export interface SubtreeHashes {
  hash(level: number, index: number): Promise<Buffer>;
}

/** RFC 9162 root of the first `size` leaves. */
export async function rootAt(size: number, src: SubtreeHashes): Promise<Buffer> {
  checkCount(size, 'size');
  return size === 0 ? Buffer.from(EMPTY_ROOT) : rangeRoot(0, size, src);
}

/** RFC 9162 §2.1.3.1 inclusion proof (PATH) of leaf `leafIndex` in the tree of `size` leaves. */
export async function inclusionProof(
  leafIndex: number,
  size: number,
  src: SubtreeHashes,
): Promise<Buffer[]> {
  checkCount(leafIndex, 'leaf index');
  checkCount(size, 'tree size');
  if (leafIndex >= size) {
    throw new RangeError(`leaf index ${leafIndex} is not below tree size ${size}`);
  }
  const nodes: Promise<Buffer>[] = []; // top-down; reversed at the end
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (leafIndex < lo + k) {
      nodes.push(rangeRoot(lo + k, hi, src));
      hi = lo + k;
    } else {
      nodes.push(rangeRoot(lo, lo + k, src));
      lo += k;
    }
  }
  return (await Promise.all(nodes)).reverse();
}

/**
 * RFC 9162 §2.1.4.1 consistency proof (PROOF/SUBPROOF) between the trees of `size1` and `size2`
 * leaves. Empty when size1 is 0 or equal to size2, as transparency-dev/merkle returns.
 */
export async function consistencyProof(
  size1: number,
  size2: number,
  src: SubtreeHashes,
): Promise<Buffer[]> {
  checkCount(size1, 'size1');
  checkCount(size2, 'size2');
  if (size1 > size2) throw new RangeError(`size1 ${size1} is larger than size2 ${size2}`);
  if (size1 === 0 || size1 === size2) return [];
  const nodes: Promise<Buffer>[] = []; // top-down; reversed at the end
  let lo = 0;
  let hi = size2;
  let whole = true; // SUBPROOF's b: the old tree's root is the verifier's own root1
  for (;;) {
    const n = hi - lo;
    const m = size1 - lo;
    if (m === n) {
      if (!whole) nodes.push(rangeRoot(lo, hi, src));
      break;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      nodes.push(rangeRoot(lo + k, hi, src));
      hi = lo + k;
    } else {
      nodes.push(rangeRoot(lo, lo + k, src));
      lo += k;
      whole = false;
    }
  }
  return (await Promise.all(nodes)).reverse();
}

/**
 * Merkle Tree Hash of leaves [lo, hi), where the range is one that RFC 9162's recursive split
 * produces (lo aligned to the largest power of two not above hi - lo): the fold, right to left,
 * of its perfect subtrees.
 */
async function rangeRoot(lo: number, hi: number, src: SubtreeHashes): Promise<Buffer> {
  const parts: Promise<Buffer>[] = [];
  let pos = lo;
  while (pos < hi) {
    let width = 1;
    let level = 0;
    while (width * 2 <= hi - pos && pos % (width * 2) === 0) {
      width *= 2;
      level++;
    }
    parts.push(src.hash(level, pos / width));
    pos += width;
  }
  const hashes = await Promise.all(parts);
  let hash = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) hash = nodeHash(hashes[i], hash);
  return Buffer.from(hash);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid ${what} ${n}`);
}
