import { createHash } from 'node:crypto';
import { AuditKind, type AuditRecord, type RecordRef } from '@mandate/contracts';
import { buildAuditRecord } from '@mandate/audit-client';
import { ShreddingError } from './shredding.errors';

/** Reason codes are codes, not prose: free text could carry PII into a cleartext attribute. */
export const ERASURE_REASON_CODE_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;

/** Actor-independent part of the erasure receipt. */
export interface ErasureFacts {
  readonly tenantId: string;
  /** Pseudonymous data subject id whose key was shredded. */
  readonly dataSubjectId: string;
  /** Id of the erasure request; the record id derives from it, so a retried request is one leaf. */
  readonly erasureRequestId: string;
  /** Id of the principal who requested the erasure (becomes the record's actor). */
  readonly requestedBy: string;
  /** Machine-readable reason, e.g. "gdpr_art17" (see `ERASURE_REASON_CODE_PATTERN`). */
  readonly reasonCode: string;
  /** What `SubjectKeyStore.erase` returned. */
  readonly keyExisted: boolean;
  /** Defaults to the erasure request id. */
  readonly correlationId?: string;
  /** CRM record the request was about, if any. */
  readonly subject?: RecordRef;
  readonly occurredAt?: Date;
}

/**
 * Deterministic id of the erasure receipt: tenant + data subject + erasure request, so the same
 * request (retried, redelivered, or re-run by another principal) yields one record.
 */
export function erasureRecordId(
  tenantId: string,
  dataSubjectId: string,
  erasureRequestId: string,
): string {
  return createHash('sha256')
    .update(
      [tenantId, AuditKind[AuditKind.AUDIT_KIND_ERASURE], dataSubjectId, erasureRequestId].join(
        '\u0000',
      ),
    )
    .digest('hex')
    .slice(0, 32);
}

/**
 * The erasure receipt the ledger appends after `SubjectKeyStore.erase`: kind AUDIT_KIND_ERASURE,
 * no payload, no `dataSubjectId` field (it holds no personal data to encrypt), and only
 * pseudonymous ids in summary and attributes (`data_subject_id`, `reason_code`, `key_existed`).
 */
export function erasureRecord(facts: ErasureFacts): AuditRecord {
  for (const [name, value] of [
    ['tenantId', facts.tenantId],
    ['dataSubjectId', facts.dataSubjectId],
    ['erasureRequestId', facts.erasureRequestId],
    ['requestedBy', facts.requestedBy],
  ] as const) {
    if (!value) throw new ShreddingError(`erasure record: ${name} is required`);
  }
  if (!ERASURE_REASON_CODE_PATTERN.test(facts.reasonCode))
    throw new ShreddingError(
      `erasure record: reason code must match ${ERASURE_REASON_CODE_PATTERN}`,
    );
  const record = buildAuditRecord({
    kind: AuditKind.AUDIT_KIND_ERASURE,
    tenantId: facts.tenantId,
    correlationId: facts.correlationId ?? facts.erasureRequestId,
    actor: facts.requestedBy,
    subject: facts.subject,
    summary: facts.keyExisted
      ? `data subject ${facts.dataSubjectId} erased: key shredded`
      : `data subject ${facts.dataSubjectId} erased: no key held, tombstone recorded`,
    dedupeKey: facts.erasureRequestId,
    attributes: {
      data_subject_id: facts.dataSubjectId,
      reason_code: facts.reasonCode,
      key_existed: String(facts.keyExisted),
      erasure_request_id: facts.erasureRequestId,
    },
    occurredAt: facts.occurredAt,
  });
  return {
    ...record,
    recordId: erasureRecordId(facts.tenantId, facts.dataSubjectId, facts.erasureRequestId),
  };
}
