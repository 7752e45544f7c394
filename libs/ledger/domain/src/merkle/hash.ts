/**
 * RFC 9162 (RFC 6962) Merkle tree hashing: SHA-256 with domain separation between leaves
 * (0x00 prefix) and interior nodes (0x01 prefix). Plain TypeScript over node:crypto only.
 */
import { createHash } from 'node:crypto';

/** RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(leaf)
    .digest();
}

/** RFC 9162 §2.1.1 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x01]))
    .update(left)
    .update(right)
    .digest();
}

/** SHA-256 of the empty string: the root of an empty tree. */
export const EMPTY_ROOT = createHash('sha256').digest();

/**
 * Merkle Tree Hash of a list of leaf hashes (RFC 9162 §2.1.1): split at the largest power of two
 * smaller than n. O(n); the ledger issue adds stored subtrees/tiles so roots are O(log n).
 */
export function rootFromLeafHashes(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  if (hashes.length === 1) return Buffer.from(hashes[0]);
  const k = largestPowerOfTwoBelow(hashes.length);
  return nodeHash(rootFromLeafHashes(hashes.slice(0, k)), rootFromLeafHashes(hashes.slice(k)));
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
