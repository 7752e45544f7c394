/**
 * RFC 9162 Merkle tree primitives for the audit ledger: hashing, compact ranges, proof generation
 * over stored subtree hashes, and proof verification compatible with transparency-dev/merkle.
 */
export * from './hash';
export * from './compact';
export * from './proof';
export * from './verify';
