import { DataClassification, type GetCapabilitiesResponse } from '@mandate/contracts';
import type { KnownValue, PseudonymKind, PseudonymVault } from './pseudonymiser';

/** Sensitivity of a field, as connectors declare it (same names as `@mandate/connector-sdk`). */
export type Classification = 'public' | 'internal' | 'confidential' | 'personal' | 'sensitive';

export const CLASSIFICATIONS: readonly Classification[] = [
  'public',
  'internal',
  'confidential',
  'personal',
  'sensitive',
];

/** Classifications whose values never reach a prompt in clear: they are pseudonymised. */
export const PSEUDONYMISED_CLASSIFICATIONS: readonly Classification[] = ['personal', 'sensitive'];

/** A scalar CRM field value (records are flat). */
export type FieldValue = string | number | boolean | null;

/** A CRM record's fields, as a connector returns them. */
export type RecordFields = Readonly<Record<string, FieldValue | undefined>>;

/**
 * Field classifications per object type. A connector's `ConnectorCapabilities` has this shape
 * (pass it as is); for the gRPC answer use `classifiedSchemaFromCapabilities`.
 */
export interface ClassifiedSchema {
  readonly objects: ReadonlyArray<{
    readonly objectType: string;
    readonly fields: ReadonlyArray<{ readonly name: string; readonly classification: string }>;
  }>;
}

/**
 * What one agent may read, for one purpose. Explicit field lists only: no wildcards, and a field
 * missing from the list is not readable.
 */
export interface AgentDataPolicy {
  readonly agentId: string;
  /** Why the agent reads CRM data, e.g. "lead-qualification"; recorded with every selection. */
  readonly purpose: string;
  /** Readable field names per object type, e.g. `{ lead: ['company', 'title', 'industry'] }`. */
  readonly readable: Readonly<Record<string, readonly string[]>>;
}

/** Why a field of the record was not given to the agent. */
export type WithheldReason =
  /** The agent's purpose does not cover the field (or the object type). */
  | 'NOT_ALLOWED_FOR_PURPOSE'
  /** The connector declares no (valid) classification: treated as sensitive, never read. */
  | 'UNCLASSIFIED';

/** One field the agent may read. */
export interface SelectedField {
  readonly name: string;
  readonly value: FieldValue;
  readonly classification: Classification;
  /** True for personal and sensitive fields: the value must be pseudonymised before any prompt. */
  readonly pseudonymise: boolean;
}

/** The result of `selectFields`. */
export interface FieldSelection {
  readonly agentId: string;
  readonly purpose: string;
  readonly objectType: string;
  /** The readable fields present in the record, in record order. */
  readonly fields: readonly SelectedField[];
  /** Names of the record's fields the agent does not get, sorted (for the explainability record). */
  readonly withheld: readonly string[];
  /** Why each withheld field was withheld. */
  readonly withheldReasons: Readonly<Record<string, WithheldReason>>;
}

function isClassification(value: string): value is Classification {
  return (CLASSIFICATIONS as readonly string[]).includes(value);
}

/** The declared classification of a field; undefined when undeclared or invalid (fail closed). */
export function classificationOf(
  schema: ClassifiedSchema,
  objectType: string,
  field: string,
): Classification | undefined {
  const declared = schema.objects
    .find((o) => o.objectType === objectType)
    ?.fields.find((f) => f.name === field)?.classification;
  return declared !== undefined && isClassification(declared) ? declared : undefined;
}

/**
 * The fields of `record` that `policy` lets its agent read: allowed for the purpose AND declared
 * with a valid classification (an unclassified field counts as sensitive and is never read, even
 * when the policy lists it). Personal and sensitive fields come back marked `pseudonymise`.
 * Everything else is listed in `withheld`, with the reason, and its value is not in the result.
 */
export function selectFields(
  policy: AgentDataPolicy,
  schema: ClassifiedSchema,
  objectType: string,
  record: RecordFields,
): FieldSelection {
  const allowed = new Set(
    Object.prototype.hasOwnProperty.call(policy.readable, objectType)
      ? policy.readable[objectType]
      : [],
  );
  const fields: SelectedField[] = [];
  const withheldReasons: Record<string, WithheldReason> = {};
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    const classification = classificationOf(schema, objectType, name);
    if (classification === undefined) withheldReasons[name] = 'UNCLASSIFIED';
    else if (!allowed.has(name)) withheldReasons[name] = 'NOT_ALLOWED_FOR_PURPOSE';
    else
      fields.push({
        name,
        value,
        classification,
        pseudonymise: PSEUDONYMISED_CLASSIFICATIONS.includes(classification),
      });
  }
  return {
    agentId: policy.agentId,
    purpose: policy.purpose,
    objectType,
    fields,
    withheld: Object.keys(withheldReasons).sort(),
    withheldReasons,
  };
}

/**
 * Mistakes in a data policy, as sentences; empty when it is sound. A listed field the connector
 * does not declare, or declares without a valid classification, would silently never be read:
 * check at start-up and refuse the policy instead.
 */
export function dataPolicyProblems(policy: AgentDataPolicy, schema: ClassifiedSchema): string[] {
  const problems: string[] = [];
  if (!policy.agentId) problems.push('data policy has no agent id');
  if (!policy.purpose) problems.push(`data policy of "${policy.agentId}" has no purpose`);
  for (const [objectType, names] of Object.entries(policy.readable)) {
    if (!schema.objects.some((o) => o.objectType === objectType)) {
      problems.push(`object "${objectType}" is not declared by the connector`);
      continue;
    }
    for (const name of names)
      if (classificationOf(schema, objectType, name) === undefined)
        problems.push(`field "${objectType}.${name}" is not declared with a valid classification`);
  }
  return problems;
}

const FROM_PROTO: ReadonlyMap<DataClassification, Classification> = new Map([
  [DataClassification.DATA_CLASSIFICATION_PUBLIC, 'public'],
  [DataClassification.DATA_CLASSIFICATION_INTERNAL, 'internal'],
  [DataClassification.DATA_CLASSIFICATION_CONFIDENTIAL, 'confidential'],
  [DataClassification.DATA_CLASSIFICATION_PERSONAL, 'personal'],
  [DataClassification.DATA_CLASSIFICATION_SENSITIVE, 'sensitive'],
]);

/**
 * The schema from a connector's gRPC `GetCapabilities` answer. UNSPECIFIED (and unknown) values
 * become "unclassified", which `selectFields` never reads.
 */
export function classifiedSchemaFromCapabilities(
  response: Pick<GetCapabilitiesResponse, 'objects'>,
): ClassifiedSchema {
  return {
    objects: response.objects.map((o) => ({
      objectType: o.objectType,
      fields: o.fields.map((f) => ({
        name: f.name,
        classification: FROM_PROTO.get(f.classification) ?? 'unclassified',
      })),
    })),
  };
}

/** The pseudonym kind for a personal field, from its name ("email" → email, "phone" → phone). */
export function pseudonymKindForField(field: string): PseudonymKind {
  const name = field.toLowerCase();
  if (name.includes('email') || name === 'fromaddress' || name === 'toaddress') return 'email';
  if (name.includes('phone') || name.includes('mobile') || name === 'fax') return 'phone';
  if (name === 'name' || /(first|last|full|middle|given|family|sur)name$/.test(name))
    return 'person';
  if (name.includes('company') || name.includes('organi')) return 'org';
  return 'other';
}

/**
 * The personal and sensitive string values of a record, INCLUDING fields withheld from the agent,
 * for `PseudonymVault.scrubText`: a withheld name must not reach the prompt through a note that
 * mentions it. Never put this list itself in a prompt.
 */
export function knownPersonalValues(
  schema: ClassifiedSchema,
  objectType: string,
  record: RecordFields,
): KnownValue[] {
  const known: KnownValue[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (typeof value !== 'string' || value.trim().length < 3) continue;
    const classification = classificationOf(schema, objectType, name);
    if (classification === undefined || PSEUDONYMISED_CLASSIFICATIONS.includes(classification))
      known.push({ value, kind: pseudonymKindForField(name) });
  }
  return known;
}

/**
 * The selected fields as the model may see them: values marked `pseudonymise` become tokens;
 * other strings go through `scrubText` with `knownValues` (notes and subjects quote names,
 * emails and phone numbers). Free-text fields still need `untrustedBlock` when they come from
 * outside (emails, notes, web forms).
 */
export function promptFields(
  selection: FieldSelection,
  vault: PseudonymVault,
  knownValues: readonly KnownValue[] = [],
): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const field of selection.fields) {
    if (field.pseudonymise && field.value !== null)
      out[field.name] = vault.pseudonymise(field.value, pseudonymKindForField(field.name));
    else if (typeof field.value === 'string')
      out[field.name] = vault.scrubText(field.value, knownValues);
    else out[field.name] = field.value;
  }
  return out;
}
