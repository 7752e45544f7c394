import { createHash } from 'node:crypto';
import { AuditKind, AuditRecord, RecordRef } from '@mandate/contracts';

import { outboxMessage, Topics } from '@mandate/messaging';
import type { OutboxMessage } from '@mandate/storage';
export interface AuditFacts {
  kind: AuditKind;
  tenantId: string;
  correlationId: string;
  /** Service or user that made the transition. */
  actor: string;
  subject?: RecordRef;
  /** Human-readable, no raw PII. */
  summary: string;
  /**
   * What makes this transition unique (e.g. the id of the message that caused it). The record id
   * is derived from it, so a redelivered message yields the same record and the ledger's
   * idempotent append keeps exactly one leaf.
   */
  dedupeKey: string;
  payloadType?: string;
  payload?: Uint8Array;
  attributes?: Record<string, string>;
  dataSubjectId?: string;
  occurredAt?: Date;
}

/** Deterministic record id: the same facts always give the same id. */
export function auditRecordId(
  tenantId: string,
  kind: AuditKind,
  actor: string,
  dedupeKey: string,
): string {
  return createHash('sha256')
    .update([tenantId, AuditKind[kind] ?? String(kind), actor, dedupeKey].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

export function buildAuditRecord(facts: AuditFacts): AuditRecord {
  return AuditRecord.fromPartial({
    recordId: auditRecordId(facts.tenantId, facts.kind, facts.actor, facts.dedupeKey),
    tenantId: facts.tenantId,
    correlationId: facts.correlationId,
    kind: facts.kind,
    actor: facts.actor,
    subject: facts.subject,
    occurredAt: (facts.occurredAt ?? new Date()).toISOString(),
    summary: facts.summary,
    payloadType: facts.payloadType ?? '',
    payload: facts.payload ? Buffer.from(facts.payload) : Buffer.alloc(0),
    attributes: facts.attributes ?? {},
    dataSubjectId: facts.dataSubjectId ?? '',
  });
}

/** An audit record for one transition, ready for a document's outbox (audit-records topic). */
export function auditOutboxMessage(facts: AuditFacts, source: string): OutboxMessage {
  const record = buildAuditRecord(facts);
  return outboxMessage(Topics.auditRecords, record, {
    tenantId: record.tenantId,
    correlationId: record.correlationId,
    source,
    id: record.recordId,
    subject: record.subject ? `${record.subject.objectType}/${record.subject.recordId}` : undefined,
  });
}
