import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { AuditRecord } from '@mandate/contracts';
import type { TenantId } from '@mandate/storage';
import { lengthPrefixed } from './aad';
import {
  PayloadDecryptError,
  ShreddingError,
  SubjectErasedError,
  SubjectKeyMissingError,
} from './shredding.errors';

/** `AuditRecord.payload_encryption` of a payload the ledger encrypted under the subject's key. */
export const PAYLOAD_ENCRYPTION_A256GCM_V1 = 'A256GCM/v1';
/** Attribute set on a record whose payload was dropped instead of encrypted. */
export const PAYLOAD_DROPPED_ATTRIBUTE = 'payload_dropped';
/** Value of `PAYLOAD_DROPPED_ATTRIBUTE` when the data subject was already erased. */
export const PAYLOAD_DROPPED_SUBJECT_ERASED = 'subject erased';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_CONTEXT = 'mandate.ledger.payload/A256GCM/v1';

/** What `PayloadCipher.open` found. */
export type OpenedPayload =
  /** Decrypted from the A256GCM/v1 form. */
  | { readonly payload: Buffer }
  /** The subject was erased: the payload is shredded (or was dropped before it was stored). */
  | { readonly erased: true }
  /** Stored as emitted (no data subject, or no payload): nothing to decrypt. */
  | { readonly clear: Buffer };

/** What the cipher needs from the key store (`SubjectKeyStore` provides it). */
export interface SubjectKeys {
  keyFor(tenant: TenantId, subjectId: string): Promise<KeyObject>;
  /** Optional: loads many subjects' keys at once (see `SubjectKeyStore.warm`). */
  warm?(tenant: TenantId, subjectIds: readonly string[]): Promise<void>;
  existingKey(tenant: TenantId, subjectId: string): Promise<KeyObject | null>;
}

/**
 * Encrypts an AuditRecord's payload under its data subject's key before the ledger appends it,
 * and decrypts it on the way out. The leaf hash covers the sealed form, so shredding the key
 * later leaves every leaf, and thus the Merkle log, unchanged and verifiable.
 *
 * AAD = length-prefixed ("mandate.ledger.payload/A256GCM/v1", tenant id, record id, data
 * subject id): a ciphertext copied into another record, tenant or subject does not open.
 */
export class PayloadCipher {
  constructor(private readonly keys: SubjectKeys) {}

  /**
   * Returns the record to append. Unchanged (the same object) when it has no data subject, no
   * payload, or is already sealed (a redelivery). Otherwise a copy whose payload is
   * nonce (12) || ciphertext || tag (16) and `payloadEncryption` "A256GCM/v1".
   *
   * If the subject has been erased, no key is issued: the copy has its payload emptied and
   * `attributes.payload_dropped = "subject erased"`; the caller appends that record as is (the
   * transition stays on the log, its personal data never lands there). `payloadType` is kept:
   * it names what was dropped and is not personal data.
   */
  /** `seal` for a batch, loading every subject's key in one go first. */
  async sealAll(tenant: TenantId, records: readonly AuditRecord[]): Promise<AuditRecord[]> {
    const subjects = records
      .filter((r) => r.dataSubjectId && r.payload.length && !r.payloadEncryption)
      .map((r) => r.dataSubjectId);
    if (subjects.length && this.keys.warm) await this.keys.warm(tenant, subjects);
    const out: AuditRecord[] = [];
    for (const r of records) out.push(await this.seal(tenant, r));
    return out;
  }

  async seal(tenant: TenantId, record: AuditRecord): Promise<AuditRecord> {
    if (!record.dataSubjectId || record.payload.length === 0) return record;
    if (record.payloadEncryption === PAYLOAD_ENCRYPTION_A256GCM_V1) return record;
    if (record.payloadEncryption)
      throw new ShreddingError(
        `record ${record.recordId} has unsupported payload_encryption "${record.payloadEncryption}"`,
      );
    assertBinding(tenant, record);
    let key: KeyObject;
    try {
      key = await this.keys.keyFor(tenant, record.dataSubjectId);
    } catch (err) {
      if (!(err instanceof SubjectErasedError)) throw err;
      return AuditRecord.fromPartial({
        ...record,
        payload: Buffer.alloc(0),
        attributes: {
          ...record.attributes,
          [PAYLOAD_DROPPED_ATTRIBUTE]: PAYLOAD_DROPPED_SUBJECT_ERASED,
        },
      });
    }
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(payloadAad(tenant, record));
    const ct = Buffer.concat([cipher.update(record.payload), cipher.final()]);
    return AuditRecord.fromPartial({
      ...record,
      payload: Buffer.concat([nonce, ct, cipher.getAuthTag()]),
      payloadEncryption: PAYLOAD_ENCRYPTION_A256GCM_V1,
    });
  }

  /**
   * The record's payload: decrypted, reported erased, or as stored when it was never encrypted.
   * Throws `PayloadDecryptError` when a sealed payload does not authenticate (tampered with, or
   * moved from another record), `SubjectKeyMissingError` when its subject has neither key nor
   * tombstone, and `UnknownKekError` / `KeyUnwrapError` for KEK configuration problems.
   */
  async open(tenant: TenantId, record: AuditRecord): Promise<OpenedPayload> {
    if (!record.payloadEncryption) {
      if (
        record.payload.length === 0 &&
        record.attributes[PAYLOAD_DROPPED_ATTRIBUTE] === PAYLOAD_DROPPED_SUBJECT_ERASED
      ) {
        return { erased: true };
      }
      return { clear: Buffer.from(record.payload) };
    }
    if (record.payloadEncryption !== PAYLOAD_ENCRYPTION_A256GCM_V1)
      throw new PayloadDecryptError(
        `record ${record.recordId} has unsupported payload_encryption "${record.payloadEncryption}"`,
      );
    if (!record.dataSubjectId)
      throw new PayloadDecryptError(`record ${record.recordId} is encrypted but has no subject`);
    if (record.payload.length < NONCE_BYTES + TAG_BYTES)
      throw new PayloadDecryptError(`record ${record.recordId}: encrypted payload is truncated`);
    let key: KeyObject | null;
    try {
      key = await this.keys.existingKey(tenant, record.dataSubjectId);
    } catch (err) {
      if (err instanceof SubjectErasedError) return { erased: true };
      throw err;
    }
    if (!key) throw new SubjectKeyMissingError(tenant, record.recordId);
    const blob = record.payload;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, NONCE_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(payloadAad(tenant, record));
      decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
      const payload = Buffer.concat([
        decipher.update(blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return { payload };
    } catch (err) {
      throw new PayloadDecryptError(
        `payload of record ${record.recordId} does not authenticate: tampered with, or not ` +
          'sealed for this tenant, record and data subject',
        { cause: err },
      );
    }
  }
}

function payloadAad(tenant: TenantId, record: AuditRecord): Buffer {
  return lengthPrefixed(AAD_CONTEXT, [tenant, record.recordId, record.dataSubjectId]);
}

function assertBinding(tenant: TenantId, record: AuditRecord): void {
  if (!record.recordId) throw new ShreddingError('cannot seal a record without a record id');
  if (record.tenantId !== tenant)
    throw new ShreddingError(`record ${record.recordId} does not belong to tenant ${tenant}`);
}
