/**
 * Errors of crypto-shredding. Messages never carry key material, plaintext or data subject ids
 * (pseudonymous, but still a handle on a person): only tenants, KEK ids and record ids.
 */
export class ShreddingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The data subject was erased: its key is gone for good. Raised for decryption (the old data is
 * unreadable) and for encryption (no new key is ever issued to an erased subject).
 */
export class SubjectErasedError extends ShreddingError {
  constructor(
    readonly tenant: string,
    readonly erasedAt: Date,
  ) {
    super(`data subject of tenant ${tenant} was erased at ${erasedAt.toISOString()}`);
  }
}

/** A subject key document names a KEK id that is not configured (retired too early?). */
export class UnknownKekError extends ShreddingError {
  constructor(
    readonly kekId: string,
    readonly configured: readonly string[],
  ) {
    super(
      `subject key is wrapped under KEK "${kekId}", which is not configured (configured: ${configured.join(', ')})`,
    );
  }
}

/** The KEK with the recorded id does not authenticate the wrapped key: wrong key material. */
export class KeyUnwrapError extends ShreddingError {
  constructor(
    readonly kekId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot unwrap subject key with KEK "${kekId}": the configured key material is not the one ` +
        'that wrapped it, or the key document was altered or moved',
      options,
    );
  }
}

/** An encrypted payload whose subject has neither a key nor an erasure tombstone. */
export class SubjectKeyMissingError extends ShreddingError {
  constructor(
    readonly tenant: string,
    readonly recordId: string,
  ) {
    super(
      `no key and no erasure tombstone for the data subject of record ${recordId} (tenant ${tenant}): ` +
        'the key store does not match the ledger',
    );
  }
}

/** An encrypted payload that cannot be decrypted: malformed, tampered with, or moved. */
export class PayloadDecryptError extends ShreddingError {}

/** The KEK configuration is unusable (wrong size, duplicate or malformed id, bad encoding). */
export class InvalidKekConfigError extends ShreddingError {}
