// Merge fields: references to CRM fields written into outbound texts instead of personal values.
//
// Agents never see personal data (the orchestrator pseudonymises it before the model). When an
// agent drafts an outbound text, the orchestrator writes a reference to the CRM field in place of
// each personal value, e.g. `Hello ⟦REF:contact/con-0006/firstName⟧,`. Policy decides on that
// payload, and the decision token is bound to it; only the connector, after verifying the token
// and right before the CRM call, fills the references from the CRM record. Personal values thus
// never travel on Kafka, in the ledger or to the model, and what was approved (the template and
// its references) is exactly what the token covers.
import type { CrmAction } from './gen/mandate/v1/action';
import type { CrmActionCase } from './crm-action';

/** One reference to a CRM field, as found in a text. */
export interface MergeFieldRef {
  /** Canonical object type, e.g. "contact". */
  readonly objectType: string;
  /** The CRM's id of the record. */
  readonly recordId: string;
  /** Canonical field name, e.g. "firstName". */
  readonly field: string;
  /** The reference exactly as written in the text: `⟦REF:contact/con-0006/firstName⟧`. */
  readonly token: string;
}

const OBJECT_TYPE = '[a-z][a-z_]{0,39}';
const RECORD_ID = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
const FIELD = '[A-Za-z][A-Za-z0-9_]{0,63}';

/** Opening of a merge field (`⟦` is U+27E6); it closes with `⟧` (U+27E7). */
export const MERGE_FIELD_OPEN = '⟦REF:';
export const MERGE_FIELD_CLOSE = '⟧';

/** One well-formed merge field (no flags; use `mergeFieldsIn` to find them all). */
export const MERGE_FIELD_PATTERN = new RegExp(`⟦REF:(${OBJECT_TYPE})/(${RECORD_ID})/(${FIELD})⟧`);

const OBJECT_TYPE_EXACT = new RegExp(`^${OBJECT_TYPE}$`);
const RECORD_ID_EXACT = new RegExp(`^${RECORD_ID}$`);
const FIELD_EXACT = new RegExp(`^${FIELD}$`);

/**
 * A pseudonym token as the orchestrator's pseudonymiser writes it (`⟦PERSON_1⟧`, `⟦EMAIL_3⟧`).
 * It is NOT a merge field: one left in an outbound text is a pseudonym the orchestrator failed to
 * restore (or the model made up), and the connector must refuse to send it rather than send the
 * token or guess a value.
 */
export const PSEUDONYM_TOKEN_PATTERN = /⟦[A-Z]{2,10}_\d{1,6}⟧/;

/**
 * The merge field for one CRM field: `⟦REF:<objectType>/<recordId>/<field>⟧`. Throws an Error
 * naming the invalid part when one does not have the allowed shape.
 */
export function mergeField(objectType: string, recordId: string, field: string): string {
  const problems: string[] = [];
  if (!OBJECT_TYPE_EXACT.test(objectType))
    problems.push(
      `object type "${objectType}" must be lower case letters or "_", starting with a letter, at most 40 characters`,
    );
  if (!RECORD_ID_EXACT.test(recordId))
    problems.push(
      `record id "${recordId}" must be letters, digits, ".", "_" or "-", starting with a letter or digit, at most 128 characters`,
    );
  if (!FIELD_EXACT.test(field))
    problems.push(
      `field "${field}" must be letters, digits or "_", starting with a letter, at most 64 characters`,
    );
  if (problems.length) throw new Error(`invalid merge field: ${problems.join('; ')}`);
  return `${MERGE_FIELD_OPEN}${objectType}/${recordId}/${field}${MERGE_FIELD_CLOSE}`;
}

/** The distinct merge fields of a text, in order of first appearance. Malformed ones are ignored. */
export function mergeFieldsIn(text: string): MergeFieldRef[] {
  const seen = new Map<string, MergeFieldRef>();
  for (const m of text.matchAll(new RegExp(MERGE_FIELD_PATTERN.source, 'g')))
    if (!seen.has(m[0]))
      seen.set(m[0], { objectType: m[1], recordId: m[2], field: m[3], token: m[0] });
  return [...seen.values()];
}

/** The result of `fillMergeFields`. */
export interface FilledText {
  readonly text: string;
  /** Distinct references `resolve` had no value for; they are left in place in `text`. */
  readonly unresolved: MergeFieldRef[];
}

/**
 * Replaces every merge field of `text` by what `resolve` returns for it. A reference it returns
 * undefined for stays as written and is reported in `unresolved`. Filled values are not scanned
 * again (a value that looks like a merge field is inserted as is).
 */
export function fillMergeFields(
  text: string,
  resolve: (ref: MergeFieldRef) => string | undefined,
): FilledText {
  const unresolved = new Map<string, MergeFieldRef>();
  const filled = text.replace(
    new RegExp(MERGE_FIELD_PATTERN.source, 'g'),
    (token: string, objectType: string, recordId: string, field: string) => {
      const ref: MergeFieldRef = { objectType, recordId, field, token };
      const value = resolve(ref);
      if (value !== undefined) return value;
      unresolved.set(token, ref);
      return token;
    },
  );
  return { text: filled, unresolved: [...unresolved.values()] };
}

/** The distinct pseudonym tokens (`⟦PERSON_1⟧`) of a text, in order of first appearance. */
export function pseudonymTokensIn(text: string): string[] {
  return [
    ...new Set(
      Array.from(text.matchAll(new RegExp(PSEUDONYM_TOKEN_PATTERN.source, 'g')), (m) => m[0]),
    ),
  ];
}

type CaseValue<C extends CrmActionCase> = Extract<
  NonNullable<CrmAction['kind']>,
  { $case: C }
>['value'];

/**
 * The CrmAction cases and text fields that may carry merge fields (outbound texts). References
 * anywhere else are not filled: they reach the CRM as written.
 */
export const MERGE_FIELD_TEXT_FIELDS = {
  sendEmail: ['subject', 'body'],
  replyToCase: ['body'],
} as const satisfies { readonly [C in CrmActionCase]?: readonly (keyof CaseValue<C>)[] };

/** The texts of an action that may carry merge fields, by field name. */
function textsOf(
  action: CrmAction | undefined,
): { fields: readonly string[]; value: Readonly<Record<string, unknown>> } | undefined {
  const kind = action?.kind;
  if (!kind || !(kind.$case in MERGE_FIELD_TEXT_FIELDS)) return undefined;
  const fields: readonly string[] =
    MERGE_FIELD_TEXT_FIELDS[kind.$case as keyof typeof MERGE_FIELD_TEXT_FIELDS];
  return { fields, value: kind.value as unknown as Readonly<Record<string, unknown>> };
}

function textOf(value: Readonly<Record<string, unknown>>, field: string): string {
  const text = value[field];
  return typeof text === 'string' ? text : '';
}

function distinct(refs: Iterable<MergeFieldRef>): MergeFieldRef[] {
  const seen = new Map<string, MergeFieldRef>();
  for (const r of refs) if (!seen.has(r.token)) seen.set(r.token, r);
  return [...seen.values()];
}

/** The distinct merge fields of an action's text fields (`MERGE_FIELD_TEXT_FIELDS`), in order. */
export function actionMergeFields(action: CrmAction | undefined): MergeFieldRef[] {
  const t = textsOf(action);
  return t ? distinct(t.fields.flatMap((f) => mergeFieldsIn(textOf(t.value, f)))) : [];
}

/** The distinct pseudonym tokens left in an action's text fields (`MERGE_FIELD_TEXT_FIELDS`). */
export function actionPseudonymTokens(action: CrmAction | undefined): string[] {
  const t = textsOf(action);
  return t ? [...new Set(t.fields.flatMap((f) => pseudonymTokensIn(textOf(t.value, f))))] : [];
}

/**
 * A copy of the action with the merge fields of its text fields filled by `resolve` (the action
 * itself is not changed). Unresolved references stay in place and are reported.
 */
export function fillActionMergeFields(
  action: CrmAction,
  resolve: (ref: MergeFieldRef) => string | undefined,
): { action: CrmAction; unresolved: MergeFieldRef[] } {
  const unresolved: MergeFieldRef[] = [];
  const fill = (text: string): string => {
    const filled = fillMergeFields(text, resolve);
    unresolved.push(...filled.unresolved);
    return filled.text;
  };
  // One branch per case of MERGE_FIELD_TEXT_FIELDS (the spec checks they agree).
  const kind = action.kind;
  switch (kind?.$case) {
    case 'sendEmail':
      return {
        action: {
          ...action,
          kind: {
            $case: 'sendEmail',
            value: {
              ...kind.value,
              subject: fill(kind.value.subject),
              body: fill(kind.value.body),
            },
          },
        },
        unresolved: distinct(unresolved),
      };
    case 'replyToCase':
      return {
        action: {
          ...action,
          kind: { $case: 'replyToCase', value: { ...kind.value, body: fill(kind.value.body) } },
        },
        unresolved: distinct(unresolved),
      };
    default:
      return { action, unresolved: [] };
  }
}
