import type {
  CedarValueJson,
  Context,
  EntityJson,
  EntityUidJson,
} from '@cedar-policy/cedar-wasm/nodejs';
import { actionTypeOf, type ActionProposal } from '@mandate/contracts';
import type { DecisionInput } from '../engine/decision-input';
import type { AttrShape, AttrType, SchemaModel } from './cedar-schema.model';
import { localClock } from './local-clock';
import { CEDAR_NAMESPACE } from './policy-bundle.model';
import { CedarReason, type CedarReasonCode } from './reason-codes';

/** CRM object type (RecordRef.object_type) → Cedar entity type in the Mandate namespace. */
export const RESOURCE_ENTITY_TYPES: Readonly<Record<string, string>> = {
  lead: 'Lead',
  contact: 'Contact',
  account: 'Account',
  opportunity: 'Opportunity',
  case: 'Case',
};

/** A request ready for `statefulIsAuthorized` (minus the preparsed ids). */
export interface CedarRequest {
  principal: EntityUidJson;
  action: EntityUidJson;
  resource: EntityUidJson;
  context: Context;
  entities: EntityJson[];
  actionType: string;
}

export type CedarRequestResult =
  { ok: true; request: CedarRequest } | { ok: false; reason: CedarReasonCode; detail: string };

const ns = (name: string) => `${CEDAR_NAMESPACE}::${name}`;
const TENANT_TYPE = ns('Tenant');
const AGENT_TYPE = ns('Agent');
const ACTION_TYPE = ns('Action');

/**
 * Maps a decision input onto a Cedar request, driven by the schema: only attributes the schema
 * declares are sent, typed as it declares them; a fact of the wrong type is dropped (so the
 * attribute is absent and policies, which must test `has`, fail closed), and a required
 * attribute that cannot be supplied denies with MISSING_ATTRIBUTE. Anything it cannot map
 * denies with a reason code; it never throws on bad input.
 *
 * Context, per action (see the default schema): tenant (Tenant entity of the proposal), localHour
 * (0..23) and weekday (ISO 1..7) in the tenant's time zone, fieldsTouched (record fields the
 * action writes), plus the action's parameters. Discounts are integer basis points
 * (`discountBps`: 12.5 % → 1250), rounded up so a fraction of a basis point never slips under a
 * ceiling.
 */
export function mapToCedarRequest(input: DecisionInput, schema: SchemaModel): CedarRequestResult {
  const proposal = input.proposal as ActionProposal | undefined;
  if (!proposal || typeof proposal !== 'object')
    return deny(CedarReason.MALFORMED_PROPOSAL, 'no proposal');
  const missing = [
    ['tenant_id', proposal.tenantId],
    ['agent_id', proposal.agentId],
    ['target.object_type', proposal.target?.objectType],
    ['target.record_id', proposal.target?.recordId],
  ]
    .filter(([, v]) => typeof v !== 'string' || !v)
    .map(([k]) => k);
  if (missing.length)
    return deny(CedarReason.MALFORMED_PROPOSAL, `proposal is missing ${missing.join(', ')}`);
  const target = proposal.target as NonNullable<ActionProposal['target']>;

  const actionType = actionTypeOf(proposal.action);
  const actionModel = actionType ? schema.actions.get(ns(actionType)) : undefined;
  if (!actionType || !actionModel || actionModel.principalTypes.length === 0)
    return deny(
      CedarReason.UNKNOWN_ACTION,
      actionType
        ? `action type "${actionType}" is not an action of the bundle's schema`
        : 'the action has no kind (unset or unknown to this build)',
    );

  const agent = input.agent;
  if (!agent) return deny(CedarReason.UNKNOWN_AGENT, `no profile for agent "${proposal.agentId}"`);
  if (agent.id !== proposal.agentId)
    return deny(
      CedarReason.UNKNOWN_AGENT,
      `profile "${agent.id}" does not belong to agent "${proposal.agentId}"`,
    );

  const facts = input.facts;
  if (!facts) return deny(CedarReason.FACTS_UNAVAILABLE, 'no facts about the target record');
  if (facts.objectType !== target.objectType || facts.recordId !== target.recordId)
    return deny(
      CedarReason.FACTS_MISMATCH,
      `facts describe ${facts.objectType} ${facts.recordId}, not the target ${target.objectType} ${target.recordId}`,
    );

  const cedarType = RESOURCE_ENTITY_TYPES[target.objectType];
  const resourceModel = cedarType ? schema.entityTypes.get(ns(cedarType)) : undefined;
  if (!cedarType || !resourceModel)
    return deny(
      CedarReason.UNKNOWN_RESOURCE_TYPE,
      `object type "${target.objectType}" has no entity type in the schema`,
    );
  if (!actionModel.resourceTypes.includes(ns(cedarType)))
    return deny(
      CedarReason.ACTION_NOT_APPLICABLE,
      `${actionType} does not apply to ${target.objectType} records`,
    );
  const agentModel = schema.entityTypes.get(AGENT_TYPE);
  if (!agentModel || !actionModel.principalTypes.includes(AGENT_TYPE))
    return deny(CedarReason.ACTION_NOT_APPLICABLE, `${actionType} does not apply to agents`);

  const clock = localClock(input.now, input.tenantTimeZone || 'UTC');
  if (!clock)
    return deny(
      CedarReason.INVALID_CLOCK,
      `cannot read the local time (time zone "${input.tenantTimeZone ?? 'UTC'}")`,
    );

  const params = actionParams(proposal);
  if ('malformed' in params) return deny(CedarReason.MALFORMED_PROPOSAL, params.malformed);

  // Principal: the agent, a member of each tenant it is deployed in ("*" = every tenant).
  const principal = { type: AGENT_TYPE, id: agent.id };
  const agentTenants = (agent.tenants ?? []).includes('*')
    ? [proposal.tenantId]
    : (agent.tenants ?? []).filter((t) => typeof t === 'string' && t);
  const agentAttrs = shapeValues(agentModel.shape, {
    purpose: agent.purpose,
    allowedFields: agent.allowedFields,
  });
  if ('missing' in agentAttrs)
    return deny(CedarReason.MISSING_ATTRIBUTE, `principal has no valid "${agentAttrs.missing}"`);

  // Resource: the target record with the facts read from the CRM, in the tenant that owns it.
  const resource = { type: ns(cedarType), id: target.recordId };
  // `tenant` is the owning tenant as the CRM reported it, never an attribute of the same name.
  const resourceAttrs = shapeValues(resourceModel.shape, {
    ...facts.attributes,
    tenant: facts.tenantId,
  });
  if ('missing' in resourceAttrs)
    return deny(
      CedarReason.MISSING_ATTRIBUTE,
      `${target.objectType} ${target.recordId} has no valid "${resourceAttrs.missing}"`,
    );

  const context = shapeValues(actionModel.context, {
    ...params.values,
    tenant: proposal.tenantId,
    localHour: clock.localHour,
    weekday: clock.weekday,
  });
  if ('missing' in context)
    return deny(CedarReason.MISSING_ATTRIBUTE, `context has no valid "${context.missing}"`);

  const inTenants = (type: EntityTypeLike, ids: string[]) =>
    type.memberOfTypes.includes(TENANT_TYPE) ? ids.map((id) => ({ type: TENANT_TYPE, id })) : [];
  return {
    ok: true,
    request: {
      principal,
      action: { type: ACTION_TYPE, id: actionType },
      resource,
      context: context.values,
      entities: [
        { uid: principal, attrs: agentAttrs.values, parents: inTenants(agentModel, agentTenants) },
        {
          uid: resource,
          attrs: resourceAttrs.values,
          parents: inTenants(resourceModel, [facts.tenantId]),
        },
      ],
      actionType,
    },
  };
}

type EntityTypeLike = { memberOfTypes: string[] };

function deny(reason: CedarReasonCode, detail: string): CedarRequestResult {
  return { ok: false, reason, detail };
}

/** The action's parameters and the record fields it writes (as the connectors apply it). */
function actionParams(
  proposal: ActionProposal,
): { values: Record<string, unknown> } | { malformed: string } {
  const kind = proposal.action?.kind;
  const v = (fieldsTouched: string[], params: Record<string, unknown>) => ({
    values: { ...params, fieldsTouched },
  });
  if (!kind || typeof kind.value !== 'object' || kind.value === null)
    return { malformed: 'the action has no kind or no parameters' };
  switch (kind.$case) {
    case 'updateField': {
      const { field, value, previousValue } = kind.value;
      if (typeof field !== 'string' || !field) return { malformed: 'update_field without a field' };
      const text = typeof value === 'string' ? value : '';
      return v([field], {
        field,
        value: text,
        valueLower: text.trim().toLowerCase(),
        previousValue: typeof previousValue === 'string' ? previousValue : '',
      });
    }
    case 'qualifyLead': {
      const score = kind.value.score;
      if (!Number.isInteger(score)) return { malformed: 'qualify_lead score is not an integer' };
      return v(['status', 'score', 'qualificationReason'], { score });
    }
    case 'disqualifyLead':
      return v(['status', 'disqualificationCode'], { reasonCode: kind.value.reasonCode });
    case 'assignOwner':
      return v(['ownerId'], { ownerId: kind.value.ownerId });
    case 'createTask':
      return v([], {
        subject: kind.value.subject,
        ownerId: kind.value.ownerId,
        hasDueDate: !!kind.value.dueAt,
      });
    case 'sendEmail': {
      const to = kind.value.toContactId;
      return v([], {
        to,
        subject: kind.value.subject,
        templateId: kind.value.templateId,
        recipientIsTarget: !!to && to === proposal.target?.recordId,
      });
    }
    case 'applyDiscount': {
      const pct = kind.value.discountPercent;
      if (typeof pct !== 'number' || !Number.isFinite(pct) || Math.abs(pct) > 1e6)
        return { malformed: 'apply_discount percent is not a finite number' };
      // Round away float noise (14.99 * 100 = 1498.9999…) before rounding up to whole bps.
      const discountBps = Math.ceil(Math.round(pct * 100 * 1e6) / 1e6);
      return v(['discountPercent'], { discountBps });
    }
    case 'moveOpportunityStage':
      return v(['stage'], { fromStage: kind.value.fromStage, toStage: kind.value.toStage });
    case 'replyToCase':
      return v([], { isPublic: kind.value.public === true });
    case 'closeCase':
      return v(['status', 'resolutionCode'], { resolutionCode: kind.value.resolutionCode });
    default:
      return { malformed: 'the action has no kind' };
  }
}

/**
 * The values of a shape: every declared attribute whose candidate converts to the declared type;
 * undeclared candidates are dropped. Reports the first required attribute that cannot be supplied.
 */
function shapeValues(
  shape: AttrShape,
  candidates: Readonly<Record<string, unknown>>,
): { values: Record<string, CedarValueJson> } | { missing: string } {
  const values: Record<string, CedarValueJson> = {};
  for (const [name, spec] of shape) {
    const value = Object.prototype.hasOwnProperty.call(candidates, name)
      ? toCedarValue(candidates[name], spec.type)
      : undefined;
    if (value !== undefined) values[name] = value;
    else if (spec.required) return { missing: name };
  }
  return { values };
}

const LONG_MAX = 9223372036854775807n;
const DECIMAL = /^-?\d{1,15}(\.\d{1,4})?$/;

/** Converts a value to the Cedar JSON of `type`, or undefined when it is not of that type. */
export function toCedarValue(value: unknown, type: AttrType): CedarValueJson | undefined {
  switch (type.kind) {
    case 'String':
      return typeof value === 'string' ? value : undefined;
    case 'Bool':
      if (typeof value === 'boolean') return value;
      // The CRM renders booleans as "true"/"false" (the contract's string rendering): lossless.
      return value === 'true' ? true : value === 'false' ? false : undefined;
    case 'Long': {
      if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
      if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) {
        const big = BigInt(value);
        if (big > LONG_MAX || big < -LONG_MAX - 1n) return undefined;
        // Beyond 2^53 a JS number would round: drop rather than compare a wrong amount.
        return Number.isSafeInteger(Number(big)) ? Number(big) : undefined;
      }
      return undefined;
    }
    case 'decimal': {
      const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
      if (typeof text !== 'string' || !DECIMAL.test(text)) return undefined;
      return { __extn: { fn: 'decimal', arg: text.includes('.') ? text : `${text}.0` } };
    }
    case 'Set': {
      if (!Array.isArray(value)) return undefined;
      const items = value.map((item) => toCedarValue(item, type.element));
      return items.every((i) => i !== undefined) ? (items as CedarValueJson[]) : undefined;
    }
    case 'Entity':
      return typeof value === 'string' && value
        ? { __entity: { type: type.name, id: value } }
        : undefined;
    case 'Record': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      const record = shapeValues(type.shape, value as Record<string, unknown>);
      return 'values' in record ? record.values : undefined;
    }
    case 'unsupported':
      return undefined;
  }
}
