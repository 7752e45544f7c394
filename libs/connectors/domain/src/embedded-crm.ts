import { createHash } from 'node:crypto';
import { AuditKind, ChangeType, CrmChangeEvent } from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { outboxMessage, Topics } from '@mandate/messaging';
import {
  DuplicateKeyError,
  type DocumentStore,
  type TenantId,
  type Versioned,
} from '@mandate/storage';
import type { CrmRecordDoc } from './action-executor';

const SOURCE = 'crm-connectors';
export const OBJECT_TYPES = ['lead', 'contact', 'account', 'opportunity', 'case'] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export class CrmInputError extends Error {
  override readonly name = 'CrmInputError';
}

/**
 * The embedded CRM: records in a document store, and a change feed. Creating a record and
 * announcing it (CrmChangeEvent + audit record) is one atomic write: the events sit in the
 * record's outbox until the relay has published them.
 */
export class EmbeddedCrm {
  constructor(
    private readonly records: DocumentStore<CrmRecordDoc>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(
    tenant: TenantId,
    objectType: string,
    id: string,
    fields: Record<string, unknown>,
    correlationId?: string,
  ): Promise<{ record: Versioned<CrmRecordDoc>; event: CrmChangeEvent; created: boolean }> {
    if (!(OBJECT_TYPES as readonly string[]).includes(objectType)) {
      throw new CrmInputError(
        `unknown object type "${objectType}" (expected one of ${OBJECT_TYPES.join(', ')})`,
      );
    }
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id))
      throw new CrmInputError('record id must be 1-64 letters, digits, "-" or "_"');
    const at = this.now();
    const eventId = createHash('sha256')
      .update(`${tenant}/${objectType}/${id}/created`)
      .digest('hex')
      .slice(0, 32);
    const event = CrmChangeEvent.fromPartial({
      eventId,
      tenantId: tenant,
      correlationId: correlationId || eventId,
      sourceSystem: 'embedded',
      objectType,
      recordId: id,
      changeType: ChangeType.CHANGE_TYPE_CREATED,
      changedFields: Object.keys(fields).sort(),
      snapshot: fields,
      occurredAt: at.toISOString(),
      cursor: `${at.getTime()}`,
    });
    const meta = {
      tenantId: tenant,
      correlationId: event.correlationId,
      source: SOURCE,
      id: eventId,
      subject: `${objectType}/${id}`,
    };
    try {
      const record = await this.records.insert(
        tenant,
        { id, objectType, fields, appliedActions: [], activities: [], updatedAt: at },
        {
          outbox: [
            outboxMessage(Topics.crmChanges, event, meta),
            auditOutboxMessage(
              {
                kind: AuditKind.AUDIT_KIND_CRM_CHANGE,
                tenantId: tenant,
                correlationId: event.correlationId,
                actor: SOURCE,
                subject: { objectType, recordId: id },
                // Field names only: values may be personal data.
                summary: `${objectType} ${id} created (fields: ${event.changedFields.join(', ')})`,
                dedupeKey: eventId,
                // The snapshot (names, emails…) is the data subject's: the ledger encrypts it under
                // their key, so erasing them shreds it without breaking the log.
                payloadType: 'mandate.v1.CrmChangeEvent',
                payload: CrmChangeEvent.encode(event).finish(),
                dataSubjectId: dataSubjectOf(objectType, id),
                attributes: { changeType: 'CREATED', sourceSystem: 'embedded' },
                occurredAt: at,
              },
              SOURCE,
            ),
          ],
        },
      );
      return { record, event, created: true };
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      const record = await this.records.get(tenant, id);
      if (!record) throw err;
      return { record, event, created: false };
    }
  }

  get(tenant: TenantId, id: string): Promise<Versioned<CrmRecordDoc> | null> {
    return this.records.get(tenant, id);
  }
}

/** CRM objects that are people: their records' personal data is scoped to them for erasure. */
const PERSON_OBJECTS = new Set(['lead', 'contact']);

/**
 * Pseudonymous data-subject id of a CRM record (its type and id, never a name or an email), or
 * '' when the record is not a person. Ledger payloads about it are encrypted under this subject.
 */
export function dataSubjectOf(objectType: string, recordId: string): string {
  return PERSON_OBJECTS.has(objectType) ? `${objectType}/${recordId}` : '';
}
