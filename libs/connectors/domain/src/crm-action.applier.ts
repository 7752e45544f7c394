import { CrmAction } from '@mandate/contracts';

/** A CRM record as the embedded CRM keeps it. */
export interface CrmRecord {
  id: string;
  objectType: string;
  fields: Record<string, unknown>;
  /** Idempotency keys of the actions already applied to this record (at most once per key). */
  appliedActions: string[];
  /** Activities (emails, replies, tasks) logged against the record. */
  activities: Array<{ kind: string; at: string; summary: string; idempotencyKey: string }>;
}

/** A CRM refused an action for a reason a retry will not fix. */
export class PermanentActionError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentActionError';
  }
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

export interface AppliedChange {
  set: Record<string, unknown>;
  activity?: { kind: string; summary: string };
}

/** Computes what an action changes on a record. Pure: the caller writes it atomically. */
export function planCrmChange(
  record: Pick<CrmRecord, 'objectType' | 'fields'>,
  action: CrmAction,
): AppliedChange {
  const kind = action.kind;
  if (!kind) throw new PermanentActionError('UNKNOWN_ACTION', 'action has no kind');
  const target = TARGETS[kind.$case];
  if (target !== '*' && target !== record.objectType) {
    throw new PermanentActionError(
      'WRONG_OBJECT_TYPE',
      `${kind.$case} applies to ${target}, not ${record.objectType}`,
    );
  }
  switch (kind.$case) {
    case 'updateField': {
      const { field, value } = kind.value;
      if (!field || PROTECTED_FIELDS.has(field))
        throw new PermanentActionError('FIELD_NOT_WRITABLE', `field "${field}" cannot be written`);
      return { set: { [field]: value } };
    }
    case 'qualifyLead':
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
      if (!kind.value.ownerId) throw new PermanentActionError('INVALID_OWNER', 'owner id is empty');
      return { set: { ownerId: kind.value.ownerId } };
    case 'createTask':
      return { set: {}, activity: { kind: 'task', summary: kind.value.subject } };
    case 'sendEmail':
      return { set: {}, activity: { kind: 'email', summary: kind.value.subject } };
    case 'applyDiscount': {
      const pct = kind.value.discountPercent;
      if (!(pct > 0 && pct < 100))
        throw new PermanentActionError('INVALID_DISCOUNT', `discount ${pct}% is out of range`);
      return { set: { discountPercent: pct } };
    }
    case 'moveOpportunityStage': {
      const current = record.fields['stage'];
      if (kind.value.fromStage && current !== kind.value.fromStage) {
        throw new PermanentActionError(
          'STAGE_CONFLICT',
          `opportunity is in stage "${String(current)}", not "${kind.value.fromStage}"`,
        );
      }
      return { set: { stage: kind.value.toStage } };
    }
    case 'replyToCase':
      return {
        set: { lastReplyAt: 'now' },
        activity: {
          kind: kind.value.public ? 'public-reply' : 'internal-note',
          summary: 'case reply',
        },
      };
    case 'closeCase':
      return { set: { status: 'Closed', resolutionCode: kind.value.resolutionCode } };
  }
}
