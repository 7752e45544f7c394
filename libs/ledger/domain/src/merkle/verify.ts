/**
 * RFC 9162 §2.1.3.2 / §2.1.4.2 proof verification, following transparency-dev/merkle's verifier
 * (proof/verify.go) including its edge cases: a leaf index must be below the tree size; a
 * consistency proof from size 0 is always rejected; equal sizes need an empty proof and equal
 * roots; proofs of the wrong length are rejected. Sizes may be numbers or bigints (uint64).
 */
import { nodeHash } from './hash';

export type ProofVerdict = { ok: true } | { ok: false; reason: string };

const HASH_SIZE = 32;
const MAX_UINT64 = (1n << 64n) - 1n;

/** Checks that `leafHash` is the leaf at `leafIndex` of the tree of `treeSize` leaves with `root`. */
export function verifyInclusion(
  leafIndex: number | bigint,
  treeSize: number | bigint,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): ProofVerdict {
  const index = toUint64(leafIndex);
  const size = toUint64(treeSize);
  if (index === undefined) return fail(`invalid leaf index ${String(leafIndex)}`);
  if (size === undefined) return fail(`invalid tree size ${String(treeSize)}`);
  if (index >= size) return fail(`leaf index ${index} is not below tree size ${size}`);
  if (leafHash.length !== HASH_SIZE) {
    return fail(`leaf hash has ${leafHash.length} bytes, want ${HASH_SIZE}`);
  }
  const bad = badProofHash(proof);
  if (bad) return bad;
  const { inner, border } = decomposeInclusionProof(index, size);
  if (proof.length !== inner + border) {
    return fail(`wrong proof size ${proof.length}, want ${inner + border}`);
  }
  let hash = chainInner(Buffer.from(leafHash), proof.slice(0, inner), index);
  hash = chainBorderRight(hash, proof.slice(inner));
  return match(hash, root, 'calculated root does not match the given root');
}

/** Checks that the tree of `size2` leaves with `root2` extends the tree of `size1` with `root1`. */
export function verifyConsistency(
  size1: number | bigint,
  size2: number | bigint,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): ProofVerdict {
  const s1 = toUint64(size1);
  const s2 = toUint64(size2);
  if (s1 === undefined) return fail(`invalid size1 ${String(size1)}`);
  if (s2 === undefined) return fail(`invalid size2 ${String(size2)}`);
  if (s2 < s1) return fail(`size2 (${s2}) < size1 (${s1})`);
  if (s1 === s2) {
    if (proof.length > 0) return fail('size1 = size2, but the proof is not empty');
    return match(root1, root2, 'size1 = size2, but the roots differ');
  }
  if (s1 === 0n) return fail('a consistency proof from the empty tree proves nothing');
  if (proof.length === 0) return fail('empty proof');
  const bad = badProofHash(proof);
  if (bad) return bad;
  if (root1.length !== HASH_SIZE || root2.length !== HASH_SIZE) {
    return fail(`roots must be ${HASH_SIZE} bytes`);
  }

  const decomposed = decomposeInclusionProof(s1 - 1n, s2);
  const shift = trailingZeros(s1);
  const inner = decomposed.inner - shift; // shift < inner since size1 < size2
  const border = decomposed.border;
  // The proof starts with the root of the subtree of size 2^shift, unless size1 is that subtree.
  let seed = Buffer.from(proof[0]);
  let start = 1;
  if (s1 === 1n << BigInt(shift)) {
    seed = Buffer.from(root1);
    start = 0;
  }
  if (proof.length !== start + inner + border) {
    return fail(`wrong proof size ${proof.length}, want ${start + inner + border}`);
  }
  const rest = proof.slice(start);
  const mask = (s1 - 1n) >> BigInt(shift);

  let hash1 = chainInnerRight(seed, rest.slice(0, inner), mask);
  hash1 = chainBorderRight(hash1, rest.slice(inner));
  const first = match(hash1, root1, 'calculated root1 does not match the given root1');
  if (!first.ok) return first;

  let hash2 = chainInner(seed, rest.slice(0, inner), mask);
  hash2 = chainBorderRight(hash2, rest.slice(inner));
  return match(hash2, root2, 'calculated root2 does not match the given root2');
}

/** Number of inclusion proof nodes below the border (inner) and on the right border. */
function decomposeInclusionProof(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  const border = onesCount(index >> BigInt(inner));
  return { inner, border };
}

function chainInner(seed: Buffer, proof: readonly Uint8Array[], index: bigint): Buffer {
  let hash = seed;
  proof.forEach((h, i) => {
    hash = ((index >> BigInt(i)) & 1n) === 0n ? nodeHash(hash, h) : nodeHash(h, hash);
  });
  return hash;
}

function chainInnerRight(seed: Buffer, proof: readonly Uint8Array[], index: bigint): Buffer {
  let hash = seed;
  proof.forEach((h, i) => {
    if (((index >> BigInt(i)) & 1n) === 1n) hash = nodeHash(h, hash);
  });
  return hash;
}

function chainBorderRight(seed: Buffer, proof: readonly Uint8Array[]): Buffer {
  let hash = seed;
  for (const h of proof) hash = nodeHash(h, hash);
  return hash;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function onesCount(n: bigint): number {
  let count = 0;
  for (const c of n.toString(2)) if (c === '1') count++;
  return count;
}

function trailingZeros(n: bigint): number {
  let count = 0;
  for (let v = n; v > 0n && (v & 1n) === 0n; v >>= 1n) count++;
  return count;
}

function toUint64(n: number | bigint): bigint | undefined {
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n) || n < 0) return undefined;
    return BigInt(n);
  }
  return typeof n === 'bigint' && n >= 0n && n <= MAX_UINT64 ? n : undefined;
}

function badProofHash(proof: readonly Uint8Array[]): ProofVerdict | undefined {
  const i = proof.findIndex((h) => h.length !== HASH_SIZE);
  return i < 0
    ? undefined
    : fail(`proof hash ${i} has ${proof[i].length} bytes, want ${HASH_SIZE}`);
}

function match(got: Uint8Array, want: Uint8Array, reason: string): ProofVerdict {
  return Buffer.from(got).equals(Buffer.from(want)) ? { ok: true } : fail(reason);
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
