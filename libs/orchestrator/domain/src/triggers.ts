import { ChangeType, type CrmChangeEvent } from '@mandate/contracts';
import type { AgentId } from '@mandate/orchestrator-agents';

/** Which agent a CRM change starts, on which record. */
export interface Trigger {
  readonly agent: AgentId;
  readonly target: { readonly objectType: string; readonly recordId: string };
  /** One line: why this change starts this agent (audited). */
  readonly objective: string;
}

function created(e: CrmChangeEvent): boolean {
  return e.changeType === ChangeType.CHANGE_TYPE_CREATED;
}

function updated(e: CrmChangeEvent, field: string): boolean {
  return e.changeType === ChangeType.CHANGE_TYPE_UPDATED && e.changedFields.includes(field);
}

function snap(e: CrmChangeEvent, field: string): string | undefined {
  const v = (e.snapshot as Record<string, unknown> | undefined)?.[field];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * The agents a change starts. Only changes that ask for work do: a new or re-opened lead, a new
 * opportunity or new notes on one, a new case, an inbound email, a meeting or call with a
 * contact. The changes Mandate's own actions make (a qualified lead, a discount, a priority, an
 * outbound email) match none of these, so an agent never re-triggers itself.
 */
export function triggersOf(e: CrmChangeEvent): Trigger[] {
  const self = { objectType: e.objectType, recordId: e.recordId };
  switch (e.objectType) {
    case 'lead':
      if (created(e) || (updated(e, 'status') && snap(e, 'status') === 'New'))
        return [
          { agent: 'lead-qualification', target: self, objective: 'qualify and route a new lead' },
        ];
      return [];
    case 'opportunity':
      if (created(e) || updated(e, 'notes'))
        return [
          { agent: 'deal-desk', target: self, objective: 'answer a pricing request on a deal' },
        ];
      return [];
    case 'case':
      if (created(e))
        return [{ agent: 'service-triage', target: self, objective: 'triage a new case' }];
      return [];
    case 'activity': {
      if (!created(e)) return [];
      const kind = snap(e, 'kind') ?? '';
      const relatedType = snap(e, 'relatedType');
      const relatedId = snap(e, 'relatedId');
      if (kind.startsWith('inbound')) {
        if (relatedType === 'opportunity' && relatedId)
          return [
            {
              agent: 'deal-desk',
              target: { objectType: 'opportunity', recordId: relatedId },
              objective: 'answer an inbound email on a deal',
            },
          ];
        // About a known case: triage the case (its fields and its emails, this one included);
        // otherwise the email itself, which code resolves to one of the sender's cases or not.
        if (relatedType === 'case' && relatedId)
          return [
            {
              agent: 'service-triage',
              target: { objectType: 'case', recordId: relatedId },
              objective: 'triage a case after an inbound email',
            },
          ];
        return [{ agent: 'service-triage', target: self, objective: 'triage an inbound email' }];
      }
      if ((kind === 'meeting' || kind === 'call') && relatedType === 'contact' && relatedId)
        return [
          {
            agent: 'outreach',
            target: { objectType: 'contact', recordId: relatedId },
            objective: `follow up on a ${kind}`,
          },
        ];
      return [];
    }
    default:
      return [];
  }
}
