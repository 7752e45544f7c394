import { actionTypeOf, type CrmAction } from '@mandate/contracts';
import { ConnectorError } from '@mandate/connector-sdk';
import { isSalesforceId } from './ids';
import { SALESFORCE_REVERSIBLE_ACTIONS, fieldSpec, type SalesforceMapping } from './mapping';

/** Task field holding the idempotency key (unique external id): tasks are upserted by it. */
export const TASK_KEY_FIELD = 'Mandate_Idempotency_Key__c';

/** A record the action creates, in the same composite request as everything else. */
export interface CreateSpec {
  /** Composite referenceId. */
  readonly referenceId: 'task' | 'comment';
  readonly sobject: 'Task' | 'CaseComment';
  /**
   * Task: upserted by TASK_KEY_FIELD (`PATCH /sobjects/Task/Mandate_Idempotency_Key__c/{key}`).
   * CaseComment supports no custom fields, so it is inserted; the Mandate_Action__c row in the
   * same all-or-none request is what keeps it at most once.
   */
  readonly upsertKey?: string;
  readonly body: Record<string, unknown>;
}

/** An optimistic-concurrency expectation on the target, checked before anything is written. */
export interface Expectation {
  readonly field: string;
  readonly crmField: string;
  readonly expected: string;
  readonly code: string;
}

/** What executing an action means in Salesforce, computed before any call. */
export interface ActionPlan {
  readonly actionType: string;
  readonly reversible: boolean;
  /** Salesforce fields set on the target (typed values). */
  readonly set: Readonly<Record<string, unknown>>;
  /** Target fields to read first: those set (for undo), those checked, those creates need. */
  readonly read: readonly string[];
  readonly checks: readonly Expectation[];
  /** send_email: the recipient whose opt-out is checked at execution. */
  readonly recipientId?: string;
  /** Records created, given the target's current fields. */
  creates(current: Readonly<Record<string, unknown>>): CreateSpec[];
}

export interface PlanContext {
  readonly objectType: string;
  readonly crmObject: string;
  readonly recordId: string;
  readonly externalKey: string;
  readonly mapping: SalesforceMapping;
  readonly leadQualifiedStatus: string;
  readonly leadDisqualifiedStatus: string;
  readonly caseClosedStatus: string;
  readonly now: () => Date;
}

/** Objects each action applies to (canonical types); absent = any mapped object. */
const TARGETS: Readonly<Record<string, string>> = {
  qualify_lead: 'lead',
  disqualify_lead: 'lead',
  apply_discount: 'opportunity',
  move_opportunity_stage: 'opportunity',
  reply_to_case: 'case',
  close_case: 'case',
};

/** Objects whose records are Task "Who"s (people); any other record is a "What". */
const WHO_OBJECTS = new Set(['Lead', 'Contact']);

const bad = (code: string, message: string) => ConnectorError.permanent(code, message);

/**
 * Plans an action on a target. Throws a permanent ConnectorError for what no retry fixes: an
 * unknown action, the wrong object type, an unmapped or read-only field, an invalid value.
 */
export function planAction(action: CrmAction, c: PlanContext): ActionPlan {
  const actionType = actionTypeOf(action);
  const kind = action.kind;
  if (!kind || !actionType) throw bad('UNKNOWN_ACTION', 'the action has no kind');
  const target = TARGETS[actionType];
  if (target && target !== c.objectType)
    throw bad('WRONG_OBJECT_TYPE', `${actionType} applies to ${target}, not ${c.objectType}`);
  const field = (f: string) => c.mapping.crmField(c.objectType, f);
  const reversible = (SALESFORCE_REVERSIBLE_ACTIONS as readonly string[]).includes(actionType);
  const plan = (
    set: Record<string, unknown>,
    extra: Partial<Pick<ActionPlan, 'checks' | 'read' | 'recipientId' | 'creates'>> = {},
  ): ActionPlan => {
    const checks = extra.checks ?? [];
    return {
      actionType,
      reversible,
      set,
      checks,
      recipientId: extra.recipientId,
      read: [
        ...new Set([...Object.keys(set), ...checks.map((x) => x.crmField), ...(extra.read ?? [])]),
      ],
      creates: extra.creates ?? (() => []),
    };
  };
  const link = (): Record<string, unknown> =>
    WHO_OBJECTS.has(c.crmObject) ? { WhoId: c.recordId } : { WhatId: c.recordId };

  switch (kind.$case) {
    case 'updateField': {
      const { field: name, value, previousValue } = kind.value;
      if (!name) throw bad('FIELD_NOT_WRITABLE', 'update_field names no field');
      const crm = field(name);
      if (!fieldSpec(c.objectType, name).writable)
        throw bad(
          'FIELD_NOT_WRITABLE',
          `field "${c.objectType}.${name}" cannot be written by agents`,
        );
      const typed = c.mapping.parseUpdateValue(c.objectType, name, value);
      // proto3 cannot tell an unset previous_value from an empty one: empty disables the check.
      const checks = previousValue
        ? [{ field: name, crmField: crm, expected: previousValue, code: 'PREVIOUS_VALUE_MISMATCH' }]
        : [];
      return plan({ [crm]: typed }, { checks });
    }
    case 'qualifyLead': {
      const { score, reason } = kind.value;
      if (!Number.isInteger(score) || score < 0 || score > 100)
        throw bad('INVALID_SCORE', 'lead score must be an integer from 0 to 100');
      return plan({
        [field('status')]: c.leadQualifiedStatus,
        [field('score')]: score,
        [field('qualificationReason')]: reason || null,
      });
    }
    case 'disqualifyLead': {
      if (!kind.value.reasonCode)
        throw bad('INVALID_REASON', 'disqualify_lead needs a reason code');
      return plan({
        [field('status')]: c.leadDisqualifiedStatus,
        [field('disqualificationCode')]: kind.value.reasonCode,
      });
    }
    case 'assignOwner': {
      const owner = kind.value.ownerId;
      if (!owner || !isSalesforceId(owner))
        throw bad('INVALID_OWNER', 'owner id must be a Salesforce user or queue id');
      return plan({ [field('ownerId')]: owner });
    }
    case 'applyDiscount': {
      const pct = kind.value.discountPercent;
      if (!(Number.isFinite(pct) && pct > 0 && pct <= 100))
        throw bad('INVALID_DISCOUNT', 'discount must be more than 0 and at most 100 percent');
      return plan({ [field('discountPercent')]: pct });
    }
    case 'moveOpportunityStage': {
      const { fromStage, toStage } = kind.value;
      if (!toStage) throw bad('INVALID_STAGE', 'move_opportunity_stage needs a target stage');
      const stage = field('stage');
      const checks = fromStage
        ? [{ field: 'stage', crmField: stage, expected: fromStage, code: 'STAGE_MISMATCH' }]
        : [];
      return plan({ [stage]: toStage }, { checks });
    }
    case 'closeCase': {
      const { resolutionCode, summary } = kind.value;
      if (!resolutionCode) throw bad('INVALID_RESOLUTION', 'close_case needs a resolution code');
      return plan(
        { [field('status')]: c.caseClosedStatus, [field('resolutionCode')]: resolutionCode },
        {
          creates: () =>
            summary
              ? [
                  {
                    referenceId: 'comment',
                    sobject: 'CaseComment',
                    body: { ParentId: c.recordId, CommentBody: summary, IsPublished: false },
                  },
                ]
              : [],
        },
      );
    }
    case 'createTask': {
      const { subject, dueAt, ownerId, notes } = kind.value;
      if (!subject) throw bad('INVALID_TASK', 'create_task needs a subject');
      if (ownerId && !isSalesforceId(ownerId))
        throw bad('INVALID_OWNER', 'task owner id must be a Salesforce user or queue id');
      const due = dueAt ? new Date(dueAt) : undefined;
      if (due && !Number.isFinite(due.getTime())) throw bad('INVALID_TASK', 'due date is invalid');
      // Empty owner: the target's owner (when the object has one mapped), else the API user.
      const targetOwner = ownerId ? undefined : optionalField(c, 'ownerId');
      return plan(
        {},
        {
          read: targetOwner ? [targetOwner] : [],
          creates: (current) => {
            const owner = ownerId || (targetOwner ? current[targetOwner] : undefined);
            return [
              {
                referenceId: 'task',
                sobject: 'Task',
                upsertKey: c.externalKey,
                body: {
                  Subject: subject,
                  ...(notes ? { Description: notes } : {}),
                  ...(due ? { ActivityDate: due.toISOString().slice(0, 10) } : {}),
                  ...(typeof owner === 'string' && owner ? { OwnerId: owner } : {}),
                  Status: 'Not Started',
                  Priority: 'Normal',
                  ...link(),
                },
              },
            ];
          },
        },
      );
    }
    case 'sendEmail': {
      const { toContactId, subject, body } = kind.value;
      if (!toContactId || !isSalesforceId(toContactId))
        throw bad('INVALID_RECIPIENT', 'send_email needs the recipient contact or lead id');
      if (!subject || !body) throw bad('INVALID_EMAIL', 'send_email needs a subject and a body');
      return plan(
        {},
        {
          recipientId: toContactId,
          creates: () => [
            {
              referenceId: 'task',
              sobject: 'Task',
              upsertKey: c.externalKey,
              body: {
                Subject: subject,
                Description: body,
                TaskSubtype: 'Email',
                Status: 'Completed',
                ActivityDate: c.now().toISOString().slice(0, 10),
                WhoId: toContactId,
                // A person target other than the recipient cannot be linked too (one Who).
                ...(WHO_OBJECTS.has(c.crmObject) ? {} : { WhatId: c.recordId }),
              },
            },
          ],
        },
      );
    }
    case 'replyToCase': {
      const { body, public: isPublic } = kind.value;
      if (!body) throw bad('INVALID_REPLY', 'reply_to_case needs a body');
      return plan(
        {},
        {
          creates: () => [
            {
              referenceId: 'comment',
              sobject: 'CaseComment',
              body: { ParentId: c.recordId, CommentBody: body, IsPublished: isPublic === true },
            },
          ],
        },
      );
    }
  }
}

function optionalField(c: PlanContext, f: string): string | undefined {
  return c.mapping.canonicalFields(c.objectType).includes(f)
    ? c.mapping.crmField(c.objectType, f)
    : undefined;
}

/**
 * Whether a value read from Salesforce matches the value an agent saw (rendered as in
 * `update_field`): same text, same number (`15` vs `15.0`), or the same instant.
 */
export function renderedMatch(actual: string, expected: string): boolean {
  if (actual === expected) return true;
  const num = /^-?\d+(\.\d+)?$/;
  if (num.test(actual.trim()) && num.test(expected.trim()))
    return Number(actual) === Number(expected);
  if (actual.includes('T') && expected.includes('T')) {
    const a = Date.parse(actual.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    const b = Date.parse(expected.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    return Number.isFinite(a) && a === b;
  }
  return false;
}

/** Whether two Salesforce values are the same (what was written vs what is there now). */
export function crmValuesMatch(actual: unknown, written: unknown): boolean {
  const norm = (v: unknown) => (v === undefined || v === '' ? null : v);
  const a = norm(actual);
  const w = norm(written);
  if (a === null || w === null) return a === w;
  if (typeof a === 'number' && typeof w === 'number') return a === w;
  if (typeof a === 'string' && typeof w === 'string') return renderedMatch(a, w);
  return JSON.stringify(a) === JSON.stringify(w);
}
