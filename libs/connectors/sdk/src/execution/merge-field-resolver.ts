import {
  actionMergeFields,
  actionPseudonymTokens,
  actionTypeOf,
  fillActionMergeFields,
  type CrmAction,
  type MergeFieldRef,
} from '@mandate/contracts';
import type { ReadRequest, RecordData, RecordTarget } from '../adapter';
import { objectSpec, type ConnectorCapabilities } from '../capabilities';
import { ConnectorError } from '../errors';

/** What resolving merge fields needs of a connector: its declaration and its (managed) read. */
export interface MergeFieldReader {
  readonly capabilities: ConnectorCapabilities;
  read(request: ReadRequest): Promise<RecordData | null>;
}

/** Error codes of refused merge fields; all `permanent` (the same payload fails again). */
export const MERGE_FIELD_ERRORS = {
  /** A `⟦PERSON_1⟧`-style pseudonym is left in an outbound text: the orchestrator did not restore it. */
  pseudonym: 'PSEUDONYM_UNRESOLVED',
  /** A reference to a record other than the target or the email's recipient, or to an undeclared field. */
  notAllowed: 'MERGE_FIELD_NOT_ALLOWED',
  /** A referenced record does not exist in the CRM. */
  recordNotFound: 'MERGE_FIELD_RECORD_NOT_FOUND',
  /** A referenced field has no value on its record. */
  noValue: 'MERGE_FIELD_NO_VALUE',
} as const;

/** `contact/con-0006/firstName`: how a reference is named in messages (never its value). */
const nameOf = (r: MergeFieldRef) => `${r.objectType}/${r.recordId}/${r.field}`;
const recordKey = (t: RecordTarget) => `${t.objectType}/${t.recordId}`;

/** The records an action's merge fields may read: its target, and an email's recipient contact. */
function allowedRecords(target: RecordTarget, action: CrmAction): Set<string> {
  const allowed = new Set<string>();
  if (target.objectType && target.recordId) allowed.add(recordKey(target));
  const kind = action.kind;
  if (kind?.$case === 'sendEmail' && kind.value.toContactId)
    allowed.add(recordKey({ objectType: 'contact', recordId: kind.value.toContactId }));
  return allowed;
}

/** A CRM value as text; undefined when there is none (absent, null, blank) or it is not a scalar. */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * The action the adapter executes: `action` with the merge fields of its outbound texts filled
 * from the CRM. The action itself is not changed (the decision token, the execution record and
 * every event keep the references); only the adapter call sees the returned copy.
 *
 * Least privilege: a reference may name only a field of the target record, or of the email's
 * recipient contact (`sendEmail.toContactId`), that the connector declares for that object type.
 * Each referenced record is read once, through `reader.read`, for its referenced fields only.
 *
 * Throws a `permanent` ConnectorError, before any read where it can, naming the references
 * (object/id/field; never a value) when a pseudonym token is left in a text, a reference is not
 * allowed, a record is not found or a field has no value. Read errors are thrown as they come
 * (a retryable one is retried like an execute error).
 */
export async function resolveMergeFields(
  reader: MergeFieldReader,
  tenantId: string,
  target: RecordTarget,
  action: CrmAction,
): Promise<CrmAction> {
  const type = actionTypeOf(action) ?? 'action';
  const pseudonyms = actionPseudonymTokens(action);
  if (pseudonyms.length)
    throw ConnectorError.permanent(
      MERGE_FIELD_ERRORS.pseudonym,
      `${type} text carries pseudonym token(s) ${pseudonyms.join(', ')} that were not restored; nothing was sent`,
    );
  const refs = actionMergeFields(action);
  if (!refs.length) return action;

  const caps = reader.capabilities;
  const allowed = allowedRecords(target, action);
  const refused: string[] = [];
  for (const r of refs) {
    if (!allowed.has(recordKey(r)))
      refused.push(`${nameOf(r)} (not the target record or the email's recipient contact)`);
    else if (!objectSpec(caps, r.objectType)?.fields.some((f) => f.name === r.field))
      refused.push(`${nameOf(r)} (field not declared by ${caps.connector} for ${r.objectType})`);
  }
  if (refused.length)
    throw ConnectorError.permanent(
      MERGE_FIELD_ERRORS.notAllowed,
      `${type} references fields it may not read: ${refused.join(', ')}`,
    );

  const byRecord = new Map<string, { target: RecordTarget; fields: string[] }>();
  for (const r of refs) {
    const key = recordKey(r);
    const entry = byRecord.get(key) ?? {
      target: { objectType: r.objectType, recordId: r.recordId },
      fields: [],
    };
    if (!entry.fields.includes(r.field)) entry.fields.push(r.field);
    byRecord.set(key, entry);
  }
  const records = new Map<string, Readonly<Record<string, unknown>>>();
  const missing: string[] = [];
  for (const [key, { target: t, fields }] of byRecord) {
    const data = await reader.read({ tenantId, target: t, fields });
    if (data) records.set(key, data.fields);
    else missing.push(key);
  }
  if (missing.length)
    throw ConnectorError.permanent(
      MERGE_FIELD_ERRORS.recordNotFound,
      `${type} references record(s) not found in the CRM: ${missing.join(', ')}`,
    );

  const filled = fillActionMergeFields(action, (r) => {
    const fields = records.get(recordKey(r));
    return fields && Object.hasOwn(fields, r.field) ? textOf(fields[r.field]) : undefined;
  });
  if (filled.unresolved.length)
    throw ConnectorError.permanent(
      MERGE_FIELD_ERRORS.noValue,
      `${type} references field(s) with no value in the CRM: ${filled.unresolved.map(nameOf).join(', ')}`,
    );
  return filled.action;
}
