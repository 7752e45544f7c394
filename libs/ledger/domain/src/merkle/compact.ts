/**
 * Compact Merkle range (a Merkle Mountain Range of perfect subtree roots) for an RFC 9162 tree
 * that starts at leaf 0. Holds one hash per set bit of the tree size, so appending a leaf and
 * computing the root take O(log n) time and memory. The ledger's writer uses it to keep the root
 * current; the export verifier uses it to recompute roots while streaming millions of leaves.
 */
import { EMPTY_ROOT, nodeHash } from './hash';

/** Called for every perfect subtree completed by an append (level 0 = the leaf itself). */
export type SubtreeVisitor = (level: number, index: number, hash: Buffer) => void;

const HASH_SIZE = 32;

export class CompactRange {
  private readonly peaks: Buffer[];
  private n: number;

  /**
   * An empty range, or one restored from a stored state: `hashes` are the roots of the perfect
   * subtrees that make up [0, size), largest (leftmost) first, one per set bit of `size`.
   */
  constructor(size = 0, hashes: readonly Uint8Array[] = []) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid tree size ${size}`);
    if (hashes.length !== popcount(size)) {
      throw new RangeError(
        `a compact range of size ${size} has ${popcount(size)} hashes, got ${hashes.length}`,
      );
    }
    for (const h of hashes) checkHash(h);
    this.n = size;
    this.peaks = hashes.map((h) => Buffer.from(h));
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.n;
  }

  /** The perfect subtree roots, largest first (copies). */
  hashes(): Buffer[] {
    return this.peaks.map((h) => Buffer.from(h));
  }

  /**
   * Appends one leaf hash (RFC 9162 leaf hash, not the leaf data). `visit` sees the leaf and every
   * perfect subtree the append completes, so a writer can persist subtree hashes for proofs.
   */
  append(leafHash: Uint8Array, visit?: SubtreeVisitor): void {
    checkHash(leafHash);
    let hash: Buffer = Buffer.from(leafHash);
    let index = this.n;
    let level = 0;
    visit?.(level, index, hash);
    while (index % 2 === 1) {
      const left = this.peaks.pop() as Buffer;
      hash = nodeHash(left, hash);
      index = (index - 1) / 2;
      level++;
      visit?.(level, index, hash);
    }
    this.peaks.push(hash);
    this.n++;
  }

  /** RFC 9162 Merkle Tree Hash of the leaves appended so far (EMPTY_ROOT when none). */
  root(): Buffer {
    if (this.peaks.length === 0) return Buffer.from(EMPTY_ROOT);
    let hash = this.peaks[this.peaks.length - 1];
    for (let i = this.peaks.length - 2; i >= 0; i--) hash = nodeHash(this.peaks[i], hash);
    return Buffer.from(hash);
  }

  clone(): CompactRange {
    return new CompactRange(this.n, this.peaks);
  }
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n; v > 0; v = Math.floor(v / 2)) count += v % 2;
  return count;
}

function checkHash(h: Uint8Array): void {
  if (h.length !== HASH_SIZE)
    throw new RangeError(`hash must be ${HASH_SIZE} bytes, got ${h.length}`);
}
