// Names of CrmAction cases. The canonical "action type" (trust is tracked per action type;
// GetCapabilitiesResponse.supported_actions, AuditRecord attributes and Cedar use it) is the
// proto field name of the oneof case, e.g. "apply_discount"; in TS the case is camelCase
// (`kind.$case === 'applyDiscount'`).
import { CrmAction } from './gen/mandate/v1/action';

/** The TS `$case` of a CrmAction, e.g. 'applyDiscount'. */
export type CrmActionCase = NonNullable<CrmAction['kind']>['$case'];

// A Record over CrmActionCase: adding a oneof case to proto/ fails typecheck here until it is named.
const ACTION_TYPES: Readonly<Record<CrmActionCase, string>> = {
  updateField: 'update_field',
  qualifyLead: 'qualify_lead',
  disqualifyLead: 'disqualify_lead',
  assignOwner: 'assign_owner',
  createTask: 'create_task',
  sendEmail: 'send_email',
  applyDiscount: 'apply_discount',
  moveOpportunityStage: 'move_opportunity_stage',
  replyToCase: 'reply_to_case',
  closeCase: 'close_case',
};

/** Every CrmAction case, in proto field-number order. */
export const CRM_ACTION_CASES: readonly CrmActionCase[] = Object.keys(
  ACTION_TYPES,
) as CrmActionCase[];

/** Every canonical action type (proto field names), in proto field-number order. */
export const CRM_ACTION_TYPES: readonly string[] = Object.values(ACTION_TYPES);

/** The canonical action type of an action, e.g. "apply_discount"; undefined when no case is set (malformed). */
export function actionTypeOf(action: CrmAction | undefined): string | undefined {
  const kind = action?.kind;
  return kind ? ACTION_TYPES[kind.$case] : undefined;
}

/** The TS case for a canonical action type, or undefined for an unknown type. */
export function actionCaseOf(actionType: string): CrmActionCase | undefined {
  return CRM_ACTION_CASES.find((c) => ACTION_TYPES[c] === actionType);
}
