import { AuditKind, ChangeType, CrmChangeEvent } from '@mandate/contracts';
import { auditOutboxMessage } from '@mandate/audit-client';
import { outboxMessage, Topics } from '@mandate/messaging';
import {
  defineCollection,
  DuplicateKeyError,
  type DocumentStore,
  type OutboxMessage,
  type TenantId,
} from '@mandate/storage';

const SOURCE = 'crm-connectors';

/** CRM objects that are people: their records' personal data is scoped to them for erasure. */
const PERSON_OBJECTS = new Set(['lead', 'contact', 'user']);

/**
 * Pseudonymous data-subject id of a CRM record (its type and id, never a name or an email), or
 * '' when the record is not a person. Ledger payloads about it are encrypted under this subject.
 */
export function dataSubjectOf(objectType: string, recordId: string): string {
  return PERSON_OBJECTS.has(objectType) ? `${objectType}/${recordId}` : '';
}

const VERBS: Record<number, string> = {
  [ChangeType.CHANGE_TYPE_CREATED]: 'created',
  [ChangeType.CHANGE_TYPE_UPDATED]: 'updated',
  [ChangeType.CHANGE_TYPE_DELETED]: 'deleted',
};

/** A change event and its audit record, to commit with the write that records the change. */
export function changeAnnouncement(tenant: TenantId, event: CrmChangeEvent): OutboxMessage[] {
  const { objectType, recordId: id } = event;
  const verb = VERBS[event.changeType] ?? 'changed';
  return [
    outboxMessage(Topics.crmChanges, event, {
      tenantId: tenant,
      correlationId: event.correlationId,
      source: SOURCE,
      id: event.eventId,
      subject: `${objectType}/${id}`,
    }),
    auditOutboxMessage(
      {
        kind: AuditKind.AUDIT_KIND_CRM_CHANGE,
        tenantId: tenant,
        correlationId: event.correlationId,
        actor: SOURCE,
        subject: { objectType, recordId: id },
        // Field names only: values may be personal data.
        summary: `${objectType} ${id} ${verb} in ${event.sourceSystem} (fields: ${event.changedFields.join(', ')})`,
        dedupeKey: event.eventId,
        // The snapshot (names, emails…) is the data subject's: the ledger encrypts it under
        // their key, so erasing them shreds it without breaking the log.
        payloadType: 'mandate.v1.CrmChangeEvent',
        payload: CrmChangeEvent.encode(event).finish(),
        dataSubjectId: dataSubjectOf(objectType, id),
        attributes: { changeType: verb.toUpperCase(), sourceSystem: event.sourceSystem },
        occurredAt: new Date(event.occurredAt ?? Date.now()),
      },
      SOURCE,
    ),
  ];
}

/** One ingested change, kept so the same change read twice is announced once. */
export interface IngestedChangeDoc {
  id: string;
  objectType: string;
  recordId: string;
  receivedAt: Date;
}

export const INGESTED_CHANGES = defineCollection<IngestedChangeDoc>({
  name: 'crm_ingested_changes',
  indexes: [
    {
      name: 'expire',
      keys: { receivedAt: 1 },
      ttlSeconds: 14 * 24 * 3600,
      why: 'Deduplication only needs to outlive CRM retries and cursor replays (days); then it expires.',
    },
  ],
});

/**
 * Announces changes read from an external CRM (polling page, webhook call): each event is
 * recorded by its id with its CrmChangeEvent and audit record in the same write (outbox), so a
 * change re-read after a crash or retried by the CRM is announced exactly once.
 */
export class ChangeIngestor {
  constructor(
    private readonly ingested: DocumentStore<IngestedChangeDoc>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Returns how many of the events were new. */
  async ingest(tenant: TenantId, events: readonly CrmChangeEvent[]): Promise<number> {
    let fresh = 0;
    for (const event of events) {
      try {
        await this.ingested.insert(
          tenant,
          {
            id: event.eventId,
            objectType: event.objectType,
            recordId: event.recordId,
            receivedAt: this.now(),
          },
          { outbox: changeAnnouncement(tenant, event) },
        );
        fresh++;
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
      }
    }
    return fresh;
  }
}
