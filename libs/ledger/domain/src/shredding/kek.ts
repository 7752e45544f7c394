import { createSecretKey, type KeyObject } from 'node:crypto';
import { InvalidKekConfigError } from './shredding.errors';

/** Bytes of a key-encryption key (AES-256). */
export const KEK_BYTES = 32;

/** `[A-Za-z0-9._-]`, 1..64 chars, starting with a letter or digit: stored in every key document. */
export const KEK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A key-encryption key. Its `id` is recorded next to every data key it wraps, so KEKs can be
 * rotated: configure the new one first and keep the old ones (unwrap only) until every key
 * document has been re-wrapped (`SubjectKeyStore.rewrap`).
 */
export interface KeyEncryptionKey {
  readonly id: string;
  /** 32 bytes; copied into a KeyObject on construction. */
  readonly key: Uint8Array | KeyObject;
}

/** Validated KEKs as held by the store: the first one is current (wraps new keys). */
export interface KekRing {
  readonly current: { readonly id: string; readonly key: KeyObject };
  readonly byId: ReadonlyMap<string, KeyObject>;
  readonly ids: readonly string[];
}

export function kekRing(keks: readonly KeyEncryptionKey[]): KekRing {
  if (keks.length === 0) throw new InvalidKekConfigError('at least one KEK must be configured');
  const byId = new Map<string, KeyObject>();
  for (const kek of keks) {
    if (!KEK_ID_PATTERN.test(kek.id))
      throw new InvalidKekConfigError(`KEK id must match ${KEK_ID_PATTERN}`);
    if (byId.has(kek.id)) throw new InvalidKekConfigError(`KEK id "${kek.id}" is configured twice`);
    const key = kek.key instanceof Uint8Array ? createSecretKey(kek.key) : kek.key;
    if (key.type !== 'secret' || key.symmetricKeySize !== KEK_BYTES)
      throw new InvalidKekConfigError(`KEK "${kek.id}" must be ${KEK_BYTES} bytes`);
    byId.set(kek.id, key);
  }
  const first = keks[0];
  return {
    current: { id: first.id, key: byId.get(first.id) as KeyObject },
    byId,
    ids: [...byId.keys()],
  };
}

/**
 * Parses the KEK configuration string: comma-separated `id:base64` entries (standard base64 of
 * exactly 32 bytes), the current KEK first, e.g.
 * `LEDGER_SUBJECT_KEKS=kek-2:<base64>,kek-1:<base64>` (`openssl rand -base64 32`).
 * Errors name the entry's position or id, never its key material.
 */
export function parseKeks(spec: string): KeyEncryptionKey[] {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.length === 0) throw new InvalidKekConfigError('no KEK configured');
  const keks = entries.map((entry, i) => {
    const sep = entry.indexOf(':');
    if (sep <= 0) throw new InvalidKekConfigError(`KEK entry #${i + 1} is not "id:base64"`);
    const id = entry.slice(0, sep);
    const b64 = entry.slice(sep + 1);
    const key = Buffer.from(b64, 'base64');
    if (key.toString('base64') !== b64 || key.length !== KEK_BYTES) {
      key.fill(0);
      throw new InvalidKekConfigError(
        `KEK "${id}" must be standard base64 of exactly ${KEK_BYTES} bytes`,
      );
    }
    const kek = createSecretKey(key); // copies
    key.fill(0);
    return { id, key: kek };
  });
  kekRing(keks); // validates ids, sizes and duplicates up front
  return keks;
}
