/**
 * Threat model (crypto-shredding of audit payloads):
 * - Payloads are AES-256-GCM sealed under a per-data-subject key before they are hashed into the
 *   Merkle log; erasure destroys the key, so leaves, proofs and checkpoints stay valid.
 * - Erasure guarantees: once the key document and all its backups/replicas are gone, the
 *   subject's ciphertexts are unreadable to anyone, the operator included; not before.
 * - The KEK (configured, never stored in the database) protects the data keys at rest.
 * - AAD binds each ciphertext to its tenant, record and subject: it cannot be moved elsewhere.
 * - Summaries and attributes are cleartext by contract, survive erasure and must hold no PII.
 */
export * from './shredding.errors';
export * from './kek';
export * from './subject-key.store';
export * from './payload.cipher';
export * from './erasure-record';
