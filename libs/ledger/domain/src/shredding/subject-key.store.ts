import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import {
  ConcurrencyError,
  defineCollection,
  BulkInsertError,
  DuplicateKeyError,
  type DocumentStore,
  type OutboxMessage,
  type TenantId,
  type Versioned,
} from '@mandate/storage';
import { kekRing, type KekRing, type KeyEncryptionKey } from './kek';
import { lengthPrefixed } from './aad';
import { BoundedLru } from './bounded-lru';
import {
  KeyUnwrapError,
  ShreddingError,
  SubjectErasedError,
  UnknownKekError,
} from './shredding.errors';

/** Bytes of a data subject's data key (AES-256). */
export const DATA_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES;
const WRAP_CONTEXT = 'mandate.ledger.subject-key/A256GCM-wrap/v1';
const MAX_ATTEMPTS = 5;

/**
 * One data subject's key within a tenant, or the tombstone of an erased one.
 *
 * Live key: `kekId` + `wrappedKey`, no `erasedAt`.
 * Tombstone: `erasedAt`, no key material at all (the document is replaced, not patched, so the
 * wrapped key does not linger in a field).
 */
export interface SubjectKeyDoc {
  /** The data subject id (pseudonymous) itself: see `LEDGER_SUBJECT_KEYS`. */
  id: string;
  /** Id of the KEK that wrapped `wrappedKey`. Absent on a tombstone. */
  kekId?: string;
  /**
   * Base64 of nonce (12) || AES-256-GCM(KEK, data key) (32) || tag (16), with AAD binding the
   * tenant, the subject id and the KEK id (a wrapped key copied to another document or tenant
   * does not unwrap). Absent on a tombstone.
   */
  wrappedKey?: string;
  /** When the key (or, for a subject erased before it ever had one, the tombstone) was created. */
  createdAt: Date;
  /** When the subject was erased; set only on a tombstone. */
  erasedAt?: Date;
}

/**
 * `ledger_subject_keys`: one document per tenant × data subject, keyed by the data subject id.
 *
 * Why the id is the data subject id: lookups are always "the key of this subject" (by primary
 * key, tenant-scoped by the store), and the primary key's uniqueness is what makes first-use
 * creation race-safe: two writers both `insert`, one gets `DuplicateKeyError` and re-reads the
 * winner's key, so a subject never ends up with two keys. No secondary index is needed.
 * The tombstone of an erased subject keeps the same id, so that id can never be keyed again.
 * Subject ids are pseudonymous by contract (`AuditRecord.data_subject_id`); the mapping to a
 * person lives outside the ledger and is erased there.
 */
export const LEDGER_SUBJECT_KEYS = defineCollection<SubjectKeyDoc>({
  name: 'ledger_subject_keys',
  indexes: [],
});

export interface SubjectKeyStoreOptions {
  /**
   * Key-encryption keys, the current one first (it wraps every new key); the others are kept
   * only to unwrap keys created before a rotation. 32 bytes each (see `parseKeks`).
   */
  readonly keks: readonly KeyEncryptionKey[];
  /** Unwrapped keys (and erasure markers) kept in memory; default 1024. */
  readonly maxCachedKeys?: number;
  /**
   * How long a cached key is trusted, in ms; default 60 000. The cache is per process: `erase`
   * evicts locally, other processes stop using the key at the latest this long after.
   */
  readonly cacheTtlMs?: number;
  readonly now?: () => Date;
}

type CacheEntry = { readonly key: KeyObject } | { readonly erasedAt: Date };

/**
 * Per-data-subject AES-256 data keys, stored wrapped under a KEK, for crypto-shredding the
 * ledger's payloads (threat model: see ./index.ts). Keys are handed out as `KeyObject`s, which
 * neither print nor serialise their material; nothing here logs.
 */
export class SubjectKeyStore {
  private readonly ring: KekRing;
  private readonly cache: BoundedLru<CacheEntry>;
  private readonly now: () => Date;
  /**
   * Bumped by every erase: a lookup that started before an erase finished must not cache the
   * key it read (it may be the one just shredded).
   */
  private erasures = 0;

  constructor(
    private readonly docs: DocumentStore<SubjectKeyDoc>,
    options: SubjectKeyStoreOptions,
  ) {
    this.ring = kekRing(options.keks);
    this.cache = new BoundedLru<CacheEntry>(
      options.maxCachedKeys ?? 1024,
      options.cacheTtlMs ?? 60_000,
    );
    this.now = options.now ?? (() => new Date());
  }

  /** Id of the KEK that wraps new keys. */
  get currentKekId(): string {
    return this.ring.current.id;
  }

  /** Number of cached entries (bounded by `maxCachedKeys`). */
  get cachedKeyCount(): number {
    return this.cache.size;
  }

  /**
   * The subject's data key, created (and stored wrapped) on first use.
   * Throws `SubjectErasedError` once the subject has been erased: there is no key for its old
   * data, and none is issued for new data either.
   */
  async keyFor(tenant: TenantId, subjectId: string): Promise<KeyObject> {
    assertSubjectId(subjectId);
    const cached = this.fromCache(tenant, subjectId);
    if (cached) return cached;
    const epoch = this.erasures;
    let doc = await this.docs.get(tenant, subjectId);
    if (!doc) {
      const fresh = randomBytes(DATA_KEY_BYTES);
      try {
        await this.docs.insert(tenant, {
          id: subjectId,
          kekId: this.ring.current.id,
          wrappedKey: this.wrap(tenant, subjectId, fresh),
          createdAt: this.now(),
        });
        const key = createSecretKey(fresh);
        this.remember(epoch, cacheKey(tenant, subjectId), { key });
        return key;
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
        // Another writer created it first (or erased the subject): use what it stored.
        doc = await this.docs.get(tenant, subjectId);
        if (!doc) throw new ShreddingError('subject key document vanished while being created');
      } finally {
        fresh.fill(0);
      }
    }
    return this.keyOf(tenant, doc, epoch);
  }

  /**
   * Loads (and creates, for new subjects) the keys of many subjects with one read and one bulk
   * insert, so sealing a batch of records costs two round trips instead of two per subject.
   * Afterwards `keyFor` answers them from the cache. Erased subjects are remembered as such.
   * Races with another writer fall back to `keyFor` for the subjects concerned.
   */
  async warm(tenant: TenantId, subjectIds: readonly string[]): Promise<void> {
    const missing = [...new Set(subjectIds)].filter((id) => {
      assertSubjectId(id);
      return !this.cache.get(cacheKey(tenant, id));
    });
    if (!missing.length) return;
    const epoch = this.erasures;
    const found = new Set<string>();
    for (let i = 0; i < missing.length; i += 1000) {
      const docs = await this.docs.find(
        tenant,
        { id: { $in: missing.slice(i, i + 1000) } },
        { limit: 1000 },
      );
      for (const doc of docs) {
        found.add(doc.id);
        try {
          this.keyOf(tenant, doc, epoch);
        } catch (err) {
          if (!(err instanceof SubjectErasedError)) throw err;
        }
      }
    }
    const fresh = missing.filter((id) => !found.has(id));
    if (!fresh.length) return;
    const raws = fresh.map(() => randomBytes(DATA_KEY_BYTES));
    try {
      await this.docs.insertMany(
        tenant,
        fresh.map((id, i) => ({
          id,
          kekId: this.ring.current.id,
          wrappedKey: this.wrap(tenant, id, raws[i]),
          createdAt: this.now(),
        })),
      );
      fresh.forEach((id, i) =>
        this.remember(epoch, cacheKey(tenant, id), { key: createSecretKey(raws[i]) }),
      );
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      // Someone created (or erased) some of them meanwhile: resolve each one the careful way.
      const inserted = err instanceof BulkInsertError ? err.insertedCount : 0;
      fresh
        .slice(0, inserted)
        .forEach((id, i) =>
          this.remember(epoch, cacheKey(tenant, id), { key: createSecretKey(raws[i]) }),
        );
      for (const id of fresh.slice(inserted))
        await this.keyFor(tenant, id).catch((e: unknown) => {
          if (!(e instanceof SubjectErasedError)) throw e;
        });
    } finally {
      for (const raw of raws) raw.fill(0);
    }
  }

  /**
   * The subject's data key if it has one, `null` if it never had one; never creates one.
   * Throws `SubjectErasedError` for an erased subject. For decryption.
   */
  async existingKey(tenant: TenantId, subjectId: string): Promise<KeyObject | null> {
    assertSubjectId(subjectId);
    const cached = this.fromCache(tenant, subjectId);
    if (cached) return cached;
    const epoch = this.erasures;
    const doc = await this.docs.get(tenant, subjectId);
    return doc ? this.keyOf(tenant, doc, epoch) : null;
  }

  /**
   * Shreds the subject's key: its document is replaced by a tombstone (`erasedAt`, no key
   * material) in one write, and the local cache entry is dropped. Returns whether a key existed.
   * Idempotent: erasing an erased (or never keyed) subject returns `false` and leaves a tombstone.
   * `receipt` gives the events to announce the erasure with; they are written in the same write
   * as the tombstone (outbox), so an erasure is never without its receipt. Re-erasing writes
   * nothing, so the first receipt stands.
   *
   * Why a tombstone and not a plain delete: after a delete, the next `keyFor` would silently
   * create a fresh key, and old ciphertexts would fail as "tampered" instead of "erased"; new
   * records would get personal data under a key nobody intends to erase again.
   */
  async erase(
    tenant: TenantId,
    subjectId: string,
    options: { receipt?: (keyExisted: boolean) => OutboxMessage[] } = {},
  ): Promise<boolean> {
    assertSubjectId(subjectId);
    const ck = cacheKey(tenant, subjectId);
    this.erasures++;
    this.cache.delete(ck);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const doc = await this.docs.get(tenant, subjectId);
      if (doc?.erasedAt) return this.erased(ck, doc.erasedAt, false);
      const erasedAt = this.now();
      try {
        if (!doc) {
          await this.docs.insert(
            tenant,
            { id: subjectId, createdAt: erasedAt, erasedAt },
            { outbox: options.receipt?.(false) },
          );
          return this.erased(ck, erasedAt, false);
        }
        await this.docs.upsert(
          tenant,
          { id: subjectId, createdAt: doc.createdAt, erasedAt },
          { expectVersion: doc.version, outbox: options.receipt?.(true) },
        );
        return this.erased(ck, erasedAt, true);
      } catch (err) {
        // Raced with a first keyFor or another erase: look again.
        if (!(err instanceof DuplicateKeyError) && !(err instanceof ConcurrencyError)) throw err;
      }
    }
    this.cache.delete(ck);
    throw new ShreddingError(`erasure in tenant ${tenant} kept racing; retry`);
  }

  private erased(ck: string, erasedAt: Date, keyExisted: boolean): boolean {
    this.erasures++;
    this.cache.set(ck, { erasedAt }); // erasure is final: remembering it is always safe
    return keyExisted;
  }

  /**
   * Re-wraps the subject's key under the current KEK if an older KEK wrapped it (KEK rotation:
   * run it over every document, then retire the old KEK). Returns whether it rewrote anything.
   */
  async rewrap(tenant: TenantId, subjectId: string): Promise<boolean> {
    assertSubjectId(subjectId);
    const doc = await this.docs.get(tenant, subjectId);
    if (!doc || doc.erasedAt || doc.kekId === this.ring.current.id) return false;
    const raw = this.unwrap(tenant, doc);
    try {
      await this.docs.update(
        tenant,
        subjectId,
        { set: { kekId: this.ring.current.id, wrappedKey: this.wrap(tenant, subjectId, raw) } },
        { expectVersion: doc.version },
      );
      return true;
    } finally {
      raw.fill(0);
    }
  }

  private fromCache(tenant: TenantId, subjectId: string): KeyObject | undefined {
    const hit = this.cache.get(cacheKey(tenant, subjectId));
    if (!hit) return undefined;
    if ('erasedAt' in hit) throw new SubjectErasedError(tenant, hit.erasedAt);
    return hit.key;
  }

  private keyOf(tenant: TenantId, doc: Versioned<SubjectKeyDoc>, epoch: number): KeyObject {
    const ck = cacheKey(tenant, doc.id);
    if (doc.erasedAt) {
      this.cache.set(ck, { erasedAt: doc.erasedAt }); // erasure is final: always safe to remember
      throw new SubjectErasedError(tenant, doc.erasedAt);
    }
    const raw = this.unwrap(tenant, doc);
    try {
      const key = createSecretKey(raw);
      this.remember(epoch, ck, { key });
      return key;
    } finally {
      raw.fill(0);
    }
  }

  private remember(epoch: number, ck: string, entry: CacheEntry): void {
    if (epoch === this.erasures) this.cache.set(ck, entry);
  }

  private wrap(tenant: TenantId, subjectId: string, raw: Buffer): string {
    const { id, key } = this.ring.current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(wrapAad(tenant, subjectId, id));
    const ct = Buffer.concat([cipher.update(raw), cipher.final()]);
    return Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64');
  }

  /** The raw data key; the caller wipes it. */
  private unwrap(tenant: TenantId, doc: SubjectKeyDoc): Buffer {
    const kekId = doc.kekId ?? '';
    const kek = this.ring.byId.get(kekId);
    if (!kek) throw new UnknownKekError(kekId, this.ring.ids);
    const blob = Buffer.from(doc.wrappedKey ?? '', 'base64');
    if (blob.length !== WRAPPED_BYTES) throw new KeyUnwrapError(kekId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek, blob.subarray(0, NONCE_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(wrapAad(tenant, doc.id, kekId));
      decipher.setAuthTag(blob.subarray(NONCE_BYTES + DATA_KEY_BYTES));
      return Buffer.concat([
        decipher.update(blob.subarray(NONCE_BYTES, NONCE_BYTES + DATA_KEY_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      throw new KeyUnwrapError(kekId, { cause: err });
    }
  }
}

function wrapAad(tenant: string, subjectId: string, kekId: string): Buffer {
  return lengthPrefixed(WRAP_CONTEXT, [tenant, subjectId, kekId]);
}

function cacheKey(tenant: TenantId, subjectId: string): string {
  return `${tenant}\u0000${subjectId}`;
}

function assertSubjectId(subjectId: string): void {
  if (typeof subjectId !== 'string' || subjectId.length === 0)
    throw new ShreddingError('data subject id must be a non-empty string');
}
