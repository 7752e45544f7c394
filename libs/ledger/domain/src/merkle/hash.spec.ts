import { EMPTY_ROOT, leafHash, nodeHash, rootFromLeafHashes } from './hash';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('RFC 9162 Merkle tree hashing', () => {
  it('hashes the empty tree and the empty leaf as the RFC specifies', () => {
    expect(hex(EMPTY_ROOT)).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(hex(leafHash(new Uint8Array()))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
  });

  it('computes roots of the RFC 6962 reference tree (leaves d0..d7)', () => {
    // Leaf inputs and roots from RFC 6962 test data as used by certificate-transparency and
    // transparency-dev/merkle.
    const leaves = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ];
    const hashes = leaves.map((l) => leafHash(Buffer.from(l, 'hex')));
    expect(hex(rootFromLeafHashes(hashes.slice(0, 1)))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(hex(rootFromLeafHashes(hashes.slice(0, 2)))).toBe(
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    );
    expect(hex(rootFromLeafHashes(hashes.slice(0, 3)))).toBe(
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    );
    expect(hex(rootFromLeafHashes(hashes))).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    );
  });

  it('distinguishes leaves from interior nodes (second-preimage protection)', () => {
    const a = leafHash(Buffer.from('a'));
    const b = leafHash(Buffer.from('b'));
    expect(hex(nodeHash(a, b))).not.toBe(hex(leafHash(Buffer.concat([a, b]))));
  });
});
