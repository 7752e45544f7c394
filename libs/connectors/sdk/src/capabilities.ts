import {
  CRM_ACTION_TYPES,
  DataClassification,
  GetCapabilitiesResponse,
  actionTypeOf,
  type CrmAction,
} from '@mandate/contracts';

/** Sensitivity of a field; drives redaction before the model and which fields agents may read. */
export type Classification = 'public' | 'internal' | 'confidential' | 'personal' | 'sensitive';

export const CLASSIFICATIONS: readonly Classification[] = [
  'public',
  'internal',
  'confidential',
  'personal',
  'sensitive',
];

/** One field of a CRM object, by its canonical name (the name agents, policy and events use). */
export interface FieldSpec {
  readonly name: string;
  readonly classification: Classification;
  /** True when actions may write it (default false: read-only for agents). */
  readonly writable?: boolean;
}

/** One CRM object type the adapter exposes, e.g. "lead". */
export interface ObjectSpec {
  /** Canonical object type, lower snake case. */
  readonly objectType: string;
  readonly fields: readonly FieldSpec[];
}

/** How CRM changes reach Mandate. */
export type ChangeFeedKind = 'polling' | 'webhook' | 'none';

/**
 * What an adapter declares about itself. The conformance kit checks that the declaration is
 * well formed and that the adapter implements what it declares.
 */
export interface ConnectorCapabilities {
  /** Connector name: "embedded", "salesforce", "hubspot", ... (lower case, no spaces). */
  readonly connector: string;
  readonly objects: readonly ObjectSpec[];
  /** Canonical action types it executes (proto field names: "apply_discount", ...). */
  readonly actions: readonly string[];
  /** Action types `compensate` can undo (a subset of `actions`). */
  readonly reversibleActions: readonly string[];
  /** `polling`: implements `pollChanges`; `webhook`: implements `parseWebhook`. */
  readonly changeFeed: ChangeFeedKind;
  /**
   * True when the CRM itself deduplicates by idempotency key (an external-id upsert, a record of
   * applied keys): a retry after a crash between the CRM write and the executor's bookkeeping
   * cannot apply the action twice. False: the executor's durable record is the only guard.
   */
  readonly crmSideIdempotency: boolean;
  /** The CRM's documented request limit, per tenant (org/portal). */
  readonly rateLimit: { readonly requestsPerSecond: number; readonly burst: number };
}

const TO_PROTO: Record<Classification, DataClassification> = {
  public: DataClassification.DATA_CLASSIFICATION_PUBLIC,
  internal: DataClassification.DATA_CLASSIFICATION_INTERNAL,
  confidential: DataClassification.DATA_CLASSIFICATION_CONFIDENTIAL,
  personal: DataClassification.DATA_CLASSIFICATION_PERSONAL,
  sensitive: DataClassification.DATA_CLASSIFICATION_SENSITIVE,
};

/** The gRPC `GetCapabilities` answer for a declaration. */
export function toCapabilitiesResponse(c: ConnectorCapabilities): GetCapabilitiesResponse {
  return GetCapabilitiesResponse.fromPartial({
    connector: c.connector,
    objects: c.objects.map((o) => ({
      objectType: o.objectType,
      fields: o.fields.map((f) => ({
        name: f.name,
        classification: TO_PROTO[f.classification],
      })),
    })),
    supportedActions: [...c.actions],
  });
}

/**
 * Problems with a declaration, as sentences; empty when it is well formed. Checked by the
 * conformance kit and when a connector is registered (a malformed one is refused at start-up).
 */
export function capabilityProblems(c: ConnectorCapabilities): string[] {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(c.connector ?? ''))
    problems.push(`connector name "${c.connector}" must be lower case letters, digits or "-"`);
  if (!c.objects?.length) problems.push('declares no objects');
  const seenObjects = new Set<string>();
  for (const o of c.objects ?? []) {
    if (!/^[a-z][a-z0-9_]*$/.test(o.objectType))
      problems.push(`object type "${o.objectType}" must be lower snake case`);
    if (seenObjects.has(o.objectType)) problems.push(`object "${o.objectType}" declared twice`);
    seenObjects.add(o.objectType);
    if (!o.fields?.length) problems.push(`object "${o.objectType}" declares no fields`);
    const seenFields = new Set<string>();
    for (const f of o.fields ?? []) {
      if (!f.name) problems.push(`object "${o.objectType}" has a field without a name`);
      if (seenFields.has(f.name)) problems.push(`field "${o.objectType}.${f.name}" declared twice`);
      seenFields.add(f.name);
      if (!CLASSIFICATIONS.includes(f.classification))
        problems.push(
          `field "${o.objectType}.${f.name}" has no valid classification (${CLASSIFICATIONS.join(', ')})`,
        );
    }
  }
  for (const a of c.actions ?? [])
    if (!CRM_ACTION_TYPES.includes(a)) problems.push(`unknown action type "${a}"`);
  for (const a of c.reversibleActions ?? [])
    if (!(c.actions ?? []).includes(a))
      problems.push(`reversible action "${a}" is not among the supported actions`);
  if (!['polling', 'webhook', 'none'].includes(c.changeFeed))
    problems.push(`change feed "${c.changeFeed}" must be polling, webhook or none`);
  const rl = c.rateLimit;
  if (!rl || !(rl.requestsPerSecond > 0) || !(rl.burst >= 1))
    problems.push('rate limit must have requestsPerSecond > 0 and burst >= 1');
  return problems;
}

/** The declared object, or undefined. */
export function objectSpec(c: ConnectorCapabilities, objectType: string): ObjectSpec | undefined {
  return c.objects.find((o) => o.objectType === objectType);
}

/** True when the adapter declares it executes this action. */
export function supportsAction(c: ConnectorCapabilities, action: CrmAction | undefined): boolean {
  const type = actionTypeOf(action);
  return type !== undefined && c.actions.includes(type);
}
