import { ConnectorError } from '@mandate/connector-sdk';
import type { CrmAction } from '@mandate/contracts';

/** An activity (task, email, reply) logged against a record by an executed action. */
export interface CrmActivity {
  kind: string;
  at: string;
  summary: string;
  idempotencyKey: string;
}

/** A CRM record as the embedded CRM keeps it. */
export interface CrmRecord {
  id: string;
  objectType: string;
  fields: Record<string, unknown>;
  /** Idempotency keys of the actions applied to this record: the CRM-side at-most-once guard. */
  appliedActions: string[];
  /** Activities logged against the record by actions. */
  activities: CrmActivity[];
  /** Position in the change feed: strictly increasing per process, ties broken by id. */
  modstamp: number;
  createdAt: string;
}

/** Which object type each action applies to ('*' = any). */
const TARGETS: Record<string, string> = {
  updateField: '*',
  qualifyLead: 'lead',
  disqualifyLead: 'lead',
  assignOwner: '*',
  createTask: '*',
  sendEmail: '*',
  applyDiscount: 'opportunity',
  moveOpportunityStage: 'opportunity',
  replyToCase: 'case',
  closeCase: 'case',
};

/** Fields no agent action may write, whatever policy said: identity and bookkeeping. */
const PROTECTED_FIELDS = new Set(['id', 'tenantId', 'createdAt', 'objectType']);

export interface PlannedChange {
  /** Fields the action sets, with their new values. */
  set: Record<string, unknown>;
  activity?: { kind: string; summary: string };
}

/** A field value as UpdateField renders it (strings; numbers and booleans in their text form). */
export function renderValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

/**
 * Computes what an action changes on a record. Pure: the caller writes it atomically. Throws
 * `ConnectorError`s of the taxonomy: `permanent` for what will never apply, `conflict` when
 * the record no longer holds what the agent saw.
 */
export function planCrmChange(
  record: Pick<CrmRecord, 'objectType' | 'fields'>,
  action: CrmAction,
): PlannedChange {
  const kind = action.kind;
  if (!kind) throw ConnectorError.permanent('UNKNOWN_ACTION', 'action has no kind');
  const target = TARGETS[kind.$case];
  if (target !== '*' && target !== record.objectType) {
    throw ConnectorError.permanent(
      'WRONG_OBJECT_TYPE',
      `${kind.$case} applies to ${target}, not ${record.objectType}`,
    );
  }
  switch (kind.$case) {
    case 'updateField': {
      const { field, value, previousValue } = kind.value;
      if (!field || PROTECTED_FIELDS.has(field))
        throw ConnectorError.permanent('FIELD_NOT_WRITABLE', `field "${field}" cannot be written`);
      if (previousValue !== '' && renderValue(record.fields[field]) !== previousValue)
        throw ConnectorError.conflict(
          'VALUE_CHANGED',
          `field "${field}" no longer holds the value the agent saw`,
        );
      return { set: { [field]: typedLike(record.fields[field], value) } };
    }
    case 'qualifyLead':
      if (!(kind.value.score >= 0 && kind.value.score <= 100))
        throw ConnectorError.permanent('INVALID_SCORE', `score ${kind.value.score} is not 0..100`);
      return {
        set: {
          status: 'Qualified',
          score: kind.value.score,
          qualificationReason: kind.value.reason,
        },
      };
    case 'disqualifyLead':
      return { set: { status: 'Disqualified', disqualificationCode: kind.value.reasonCode } };
    case 'assignOwner':
      if (!kind.value.ownerId) throw ConnectorError.permanent('INVALID_OWNER', 'owner id is empty');
      return { set: { ownerId: kind.value.ownerId } };
    case 'createTask':
      return { set: {}, activity: { kind: 'task', summary: kind.value.subject } };
    case 'sendEmail':
      return { set: {}, activity: { kind: 'email', summary: kind.value.subject } };
    case 'applyDiscount': {
      const pct = kind.value.discountPercent;
      if (!(pct > 0 && pct < 100))
        throw ConnectorError.permanent('INVALID_DISCOUNT', `discount ${pct}% is out of range`);
      return { set: { discountPercent: pct } };
    }
    case 'moveOpportunityStage': {
      const current = record.fields['stage'];
      if (kind.value.fromStage && current !== kind.value.fromStage)
        throw ConnectorError.conflict(
          'STAGE_CONFLICT',
          `opportunity is no longer in stage "${kind.value.fromStage}"`,
        );
      if (!kind.value.toStage) throw ConnectorError.permanent('INVALID_STAGE', 'to_stage is empty');
      return { set: { stage: kind.value.toStage } };
    }
    case 'replyToCase':
      return {
        set: { lastReplyPublic: kind.value.public },
        activity: {
          kind: kind.value.public ? 'public-reply' : 'internal-note',
          summary: 'case reply',
        },
      };
    case 'closeCase':
      return { set: { status: 'Closed', resolutionCode: kind.value.resolutionCode } };
  }
}

/** UpdateField carries strings; keep the stored type when the string is that type's rendering. */
function typedLike(current: unknown, value: string): unknown {
  if (typeof current === 'number' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  if (typeof current === 'boolean' && (value === 'true' || value === 'false'))
    return value === 'true';
  return value;
}
