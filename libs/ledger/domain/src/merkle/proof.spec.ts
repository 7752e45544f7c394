/**
 * Property tests: proofs generated from subtree hashes verify, have the RFC 9162 lengths, touch
 * only subtrees inside the tree with O(log n) look-ups, and break on any flipped bit.
 */
import { randomBytes } from 'node:crypto';
import { CompactRange } from './compact';
import { EMPTY_ROOT, leafHash, nodeHash, rootFromLeafHashes } from './hash';
import { consistencyProof, inclusionProof, rootAt, type SubtreeHashes } from './proof';
import { verifyConsistency, verifyInclusion } from './verify';

const MAX = 130;
const leaves = Array.from({ length: MAX }, () =>
  leafHash(randomBytes((1 + Math.random() * 40) | 0)),
);
const nodes = new Map<string, Buffer>();
const range = new CompactRange();
const roots: Buffer[] = [EMPTY_ROOT];
for (const h of leaves) {
  range.append(h, (level, index, hash) => nodes.set(`${level}/${index}`, hash));
  roots.push(range.root());
}

/** Subtree hashes of the first `size` leaves; fails on any subtree outside them. */
function source(size: number): SubtreeHashes & { calls: number } {
  const src = {
    calls: 0,
    async hash(level: number, index: number): Promise<Buffer> {
      src.calls++;
      if ((index + 1) * 2 ** level > size) throw new Error(`${level}/${index} is outside ${size}`);
      const h = nodes.get(`${level}/${index}`);
      if (!h) throw new Error(`no subtree ${level}/${index}`);
      return h;
    },
  };
  return src;
}

const ceilLog2 = (n: number) => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));

function flip(b: Uint8Array, bit: number): Buffer {
  const c = Buffer.from(b);
  c[bit >> 3] ^= 1 << (bit & 7);
  return c;
}

const randomBit = () => (Math.random() * 256) | 0;

describe('compact range', () => {
  it('matches the recursive RFC 9162 root at every size', () => {
    for (let n = 0; n <= MAX; n++) {
      expect(roots[n].equals(rootFromLeafHashes(leaves.slice(0, n)))).toBe(true);
    }
  });

  it('restores from its stored hashes and keeps appending', () => {
    const partial = new CompactRange();
    leaves.slice(0, 77).forEach((h) => partial.append(h));
    const restored = new CompactRange(partial.size, partial.hashes());
    leaves.slice(77).forEach((h) => restored.append(h));
    expect(restored.root().equals(roots[MAX])).toBe(true);
    expect(() => new CompactRange(3, [leaves[0]])).toThrow(RangeError);
    expect(() => partial.append(Buffer.alloc(31))).toThrow(RangeError);
  });

  it('keeps one hash per set bit of the size', () => {
    expect(new CompactRange(0).hashes()).toHaveLength(0);
    const r = new CompactRange();
    leaves.slice(0, 0b1011011).forEach((h) => r.append(h));
    expect(r.hashes()).toHaveLength(5);
  });
});

describe('proof generation and verification (sizes 1..130)', () => {
  it('rootAt matches the compact range for every size', async () => {
    expect((await rootAt(0, source(0))).equals(EMPTY_ROOT)).toBe(true);
    for (let n = 1; n <= MAX; n++) {
      const src = source(n);
      expect((await rootAt(n, src)).equals(roots[n])).toBe(true);
      expect(src.calls).toBeLessThanOrEqual(ceilLog2(n) + 1);
    }
  });

  // Failures are collected and asserted once: an expect() per check would dominate the run time.
  it('inclusion proofs for every index verify, are short, and break on a flipped bit', async () => {
    const failures: string[] = [];
    const check = (cond: boolean, what: string) => cond || failures.push(what);
    for (let n = 1; n <= MAX; n++) {
      for (let i = 0; i < n; i++) {
        const src = source(n);
        const proof = await inclusionProof(i, n, src);
        const at = `index ${i} size ${n}`;
        check(proof.length <= ceilLog2(n), `${at}: proof length ${proof.length}`);
        check(src.calls <= 2 * ceilLog2(n) + 1, `${at}: ${src.calls} subtree look-ups`);
        check(verifyInclusion(i, n, leaves[i], proof, roots[n]).ok, `${at}: rejected`);
        check(
          !verifyInclusion(i, n, leaves[i], proof, flip(roots[n], randomBit())).ok,
          `${at}: root flip`,
        );
        check(
          !verifyInclusion(i, n, flip(leaves[i], randomBit()), proof, roots[n]).ok,
          `${at}: leaf flip`,
        );
        if (proof.length > 0) {
          const p = (Math.random() * proof.length) | 0;
          const bad = proof.map((h, j) => (j === p ? flip(h, randomBit()) : h));
          check(!verifyInclusion(i, n, leaves[i], bad, roots[n]).ok, `${at}: proof[${p}] flip`);
          check(!verifyInclusion(i, n, leaves[i], proof.slice(1), roots[n]).ok, `${at}: short`);
          check(!verifyInclusion((i + 1) % n, n, leaves[i], proof, roots[n]).ok, `${at}: index`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('consistency proofs for every pair verify, are short, and break on a flipped bit', async () => {
    const failures: string[] = [];
    const check = (cond: boolean, what: string) => cond || failures.push(what);
    for (let n = 1; n <= MAX; n++) {
      for (let m = 1; m <= n; m++) {
        const src = source(n);
        const proof = await consistencyProof(m, n, src);
        const at = `${m} → ${n}`;
        // RFC 9162 §2.1.4: at most ⌈log2 n⌉ + 1 nodes (e.g. 3 → 4 needs 3 hashes).
        check(proof.length <= ceilLog2(n) + 1, `${at}: proof length ${proof.length}`);
        check(src.calls <= 2 * ceilLog2(n) + 2, `${at}: ${src.calls} subtree look-ups`);
        check(verifyConsistency(m, n, roots[m], roots[n], proof).ok, `${at}: rejected`);
        const r1 = flip(roots[m], randomBit());
        check(!verifyConsistency(m, n, r1, roots[n], proof).ok, `${at}: root1 flip`);
        const r2 = flip(roots[n], randomBit());
        check(!verifyConsistency(m, n, roots[m], r2, proof).ok, `${at}: root2 flip`);
        if (m < n) {
          const p = (Math.random() * proof.length) | 0;
          const bad = proof.map((h, j) => (j === p ? flip(h, randomBit()) : h));
          check(!verifyConsistency(m, n, roots[m], roots[n], bad).ok, `${at}: proof[${p}] flip`);
          const short = proof.slice(0, -1);
          check(!verifyConsistency(m, n, roots[m], roots[n], short).ok, `${at}: short`);
          const long = [...proof, roots[0]];
          check(!verifyConsistency(m, n, roots[m], roots[n], long).ok, `${at}: long`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('every single bit flip in any proof hash or root is detected (dense sample)', async () => {
    let rejected = 0;
    let tried = 0;
    for (const [i, m, n] of [
      [42, 45, 117],
      [0, 1, 130],
      [127, 128, 129],
      [6, 7, 8],
    ]) {
      const incl = await inclusionProof(i, n, source(n));
      const cons = await consistencyProof(m, n, source(n));
      for (let bit = 0; bit < 256; bit++) {
        const variants = [
          ...incl.map((_, p) =>
            verifyInclusion(
              i,
              n,
              leaves[i],
              incl.map((h, j) => (j === p ? flip(h, bit) : h)),
              roots[n],
            ),
          ),
          verifyInclusion(i, n, leaves[i], incl, flip(roots[n], bit)),
          ...cons.map((_, p) =>
            verifyConsistency(
              m,
              n,
              roots[m],
              roots[n],
              cons.map((h, j) => (j === p ? flip(h, bit) : h)),
            ),
          ),
          verifyConsistency(m, n, flip(roots[m], bit), roots[n], cons),
          verifyConsistency(m, n, roots[m], flip(roots[n], bit), cons),
        ];
        tried += variants.length;
        rejected += variants.filter((v) => !v.ok).length;
      }
    }
    expect(tried).toBeGreaterThan(4000);
    expect(rejected).toBe(tried);
  });

  it('follows transparency-dev/merkle edge cases', async () => {
    expect(await consistencyProof(0, 5, source(5))).toEqual([]);
    expect(await consistencyProof(5, 5, source(5))).toEqual([]);
    expect(verifyConsistency(0, 5, EMPTY_ROOT, roots[5], []).ok).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toEqual({ ok: true });
    expect(verifyConsistency(5, 5, roots[5], roots[5], [roots[1]]).ok).toBe(false);
    expect(verifyConsistency(5, 5, roots[5], roots[6], []).ok).toBe(false);
    expect(verifyConsistency(6, 5, roots[6], roots[5], []).ok).toBe(false);
    expect(verifyInclusion(5, 5, leaves[5], [], roots[5]).ok).toBe(false);
    expect(verifyInclusion(-1, 5, leaves[0], [], roots[5]).ok).toBe(false);
    await expect(inclusionProof(5, 5, source(5))).rejects.toThrow(RangeError);
    await expect(consistencyProof(6, 5, source(6))).rejects.toThrow(RangeError);
  });
});

describe('proofs in a tree beyond 2^32 leaves', () => {
  // Every leaf hash is the same, so the root of any perfect subtree depends only on its level.
  const leaf = leafHash(Buffer.from('x'));
  const perfect: Buffer[] = [leaf];
  for (let l = 1; l <= 53; l++) perfect.push(nodeHash(perfect[l - 1], perfect[l - 1]));
  const src: SubtreeHashes = { hash: async (level) => perfect[level] };

  it('generates and verifies inclusion and consistency proofs with uint64 sizes', async () => {
    const size2 = 2 ** 45 + 12_345;
    const size1 = 2 ** 33 + 7;
    const root1 = await rootAt(size1, src);
    const root2 = await rootAt(size2, src);
    const index = 2 ** 40 + 3;
    const incl = await inclusionProof(index, size2, src);
    expect(incl.length).toBeLessThanOrEqual(46);
    expect(verifyInclusion(BigInt(index), BigInt(size2), leaf, incl, root2)).toEqual({ ok: true });
    const cons = await consistencyProof(size1, size2, src);
    expect(verifyConsistency(size1, size2, root1, root2, cons)).toEqual({ ok: true });
    expect(verifyConsistency(size1 + 1, size2, root1, root2, cons).ok).toBe(false);
  });
});
