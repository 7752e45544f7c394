import {
  knownPersonalValues,
  outreachAllowed,
  promptFields,
  resolveCaseReference,
  resolveMention,
  selectFields,
  type ClassifiedSchema,
  type FieldSelection,
  type FieldValue,
  type KnownValue,
  type PseudonymVault,
  type RecordFields,
  type Resolution,
} from '@mandate/data-governance';
import { dataPolicyOf, type AgentDefinition } from './agent-definitions';
import type { ActivityItem, AgentContext, AgentInput, TenantRules } from './agent-input';

/**
 * Where an agent's context comes from: the tenant's CRM, through its connector. In the embedded
 * mode this is the in-process connector; in the distributed one, crm-connectors' gRPC
 * `GetRecord`/`FindRecords`. The service reads full records here (it needs the personal values
 * to scrub them out of free text); the model only ever sees what `prepareAgentInput` selects.
 */
export interface ContextRecord {
  readonly objectType: string;
  readonly id: string;
  readonly fields: RecordFields;
}

export interface FindOptions {
  readonly orderBy?: string;
  readonly descending?: boolean;
  readonly limit?: number;
}

export interface CrmContextSource {
  /** The connector's objects and field classifications for the tenant. */
  schema(tenantId: string): Promise<ClassifiedSchema>;
  get(tenantId: string, objectType: string, id: string): Promise<ContextRecord | undefined>;
  /** Records whose fields equal `equals` (string comparison), at most `limit`. */
  find(
    tenantId: string,
    objectType: string,
    equals: Readonly<Record<string, string>>,
    options?: FindOptions,
  ): Promise<ContextRecord[]>;
}

export interface PrepareOptions {
  readonly tenantId: string;
  /** ISO 8601: the time the agent is told and consent/quiet hours are checked against. */
  readonly now: string;
  /** IANA time zone of the tenant (quiet hours). */
  readonly timeZone: string;
  /** Tenant rules from configuration; the owners list is read from the CRM when absent. */
  readonly tenantRules?: TenantRules;
  /** Most activity items the agent reads (newest first); default 5. */
  readonly maxActivity?: number;
}

/** What the run read and withheld, per record (field names only, never values). */
export interface FieldReport {
  readonly objectType: string;
  readonly recordId: string;
  readonly read: readonly string[];
  readonly withheld: ReadonlyArray<{ readonly field: string; readonly reason: string }>;
}

export interface PreparedInput {
  readonly input: AgentInput;
  readonly fields: readonly FieldReport[];
  readonly activityIds: readonly string[];
  readonly relatedAccount?: string;
  /**
   * The pseudonym token of each personal field of the target (and, for outreach, the recipient
   * contact) that reached the model, with the record field it stands for: outbound texts that
   * quote a token are written back as merge fields (`⟦REF:contact/con-1/name⟧`) that only the
   * connector fills, after the decision.
   */
  readonly tokenSources: ReadonlyMap<
    string,
    { readonly objectType: string; readonly recordId: string; readonly field: string }
  >;
}

const DEFAULT_MAX_ACTIVITY = 5;

function report(selection: FieldSelection, recordId: string): FieldReport {
  return {
    objectType: selection.objectType,
    recordId,
    read: selection.fields.map((f) => f.name),
    withheld: selection.withheld.map((field) => ({
      field,
      reason: selection.withheldReasons[field],
    })),
  };
}

function str(v: FieldValue | undefined): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * Field selection, pseudonymisation and the code-side checks (consent, entity resolution) for one
 * step of `agent` on `target`, as the governance README prescribes. The vault keeps the mapping
 * in this process; the returned input holds tokens only.
 */
export async function prepareAgentInput(
  agent: AgentDefinition,
  target: ContextRecord,
  crm: CrmContextSource,
  vault: PseudonymVault,
  o: PrepareOptions,
): Promise<PreparedInput> {
  const policy = dataPolicyOf(agent);
  const schema = await crm.schema(o.tenantId);
  const source = declaredOnly(crm, schema);
  const fields: FieldReport[] = [];
  const known: KnownValue[] = knownPersonalValues(schema, target.objectType, target.fields);

  // The related account: its personal values (e.g. its name) are scrubbed from the text too.
  const accountId = str(target.fields['accountId']);
  const account = accountId ? await source.get(o.tenantId, 'account', accountId) : undefined;
  if (account) {
    known.push(...knownPersonalValues(schema, 'account', account.fields));
    fields.push(report(selectFields(policy, schema, 'account', account.fields), account.id));
  }

  // People the free text may name (the account's contacts, the tenant's users signing or being
  // greeted in emails): their names and addresses are scrubbed too, not only the target's.
  const contacts = accountId
    ? await source.find(o.tenantId, 'contact', { accountId }, { limit: 200 })
    : [];
  const users = await source.find(o.tenantId, 'user', {}, { limit: 200 });
  for (const person of [...contacts, ...users])
    known.push(...knownPersonalValues(schema, person.objectType, person.fields));

  const selection = selectFields(policy, schema, target.objectType, target.fields);
  fields.unshift(report(selection, target.id));
  const record: Record<string, FieldValue> = promptFields(selection, vault, known);
  const tokenSources = new Map<string, { objectType: string; recordId: string; field: string }>();
  for (const f of selection.fields)
    if (f.pseudonymise && typeof record[f.name] === 'string')
      tokenSources.set(record[f.name] as string, {
        objectType: target.objectType,
        recordId: target.id,
        field: f.name,
      });
  const email = target.fields['email'];
  if (agent.derived[target.objectType]?.includes('emailDomain') && typeof email === 'string')
    record['emailDomain'] = email.slice(email.lastIndexOf('@') + 1);

  const activities =
    target.objectType === 'activity'
      ? [target]
      : await activityOf(source, o, await relatedIdsOf(source, o.tenantId, target, accountId));
  const activity: ActivityItem[] = activities.map((a) => {
    const sel = selectFields(policy, schema, 'activity', a.fields);
    const f = promptFields(sel, vault, [
      ...known,
      ...knownPersonalValues(schema, 'activity', a.fields),
    ]);
    return {
      kind: String(f['kind']),
      subject: typeof f['subject'] === 'string' ? f['subject'] : undefined,
      body: typeof f['body'] === 'string' ? f['body'] : undefined,
      occurredAt: typeof f['occurredAt'] === 'string' ? f['occurredAt'] : undefined,
    };
  });

  const owners =
    o.tenantRules?.owners ??
    users
      .filter((r) => r.fields['role'] === 'account_executive' && r.fields['active'] === true)
      .map((r) => ({ ownerId: r.id, territory: String(r.fields['territory'] ?? '') }));

  const context: AgentContext = {
    tenantRules: { maxDiscountPercent: 20, ...o.tenantRules, owners },
    // The lead agent drafts a first-touch email only when this check allows it now.
    ...(agent.id === 'lead-qualification' && target.objectType === 'lead'
      ? {
          outreach: outreachAllowed(target.fields, new Date(o.now), o.timeZone),
          recipientContactId: target.id,
        }
      : {}),
    ...(agent.id === 'outreach'
      ? {
          outreach: outreachAllowed(target.fields, new Date(o.now), o.timeZone),
          recipientContactId: target.id,
          resolution: toContext(
            resolveMention(
              { name: String(target.fields['name'] ?? ''), accountId },
              accountId ? contacts : [target],
            ),
          ),
        }
      : {}),
    ...(agent.id === 'service-triage' && target.objectType === 'activity'
      ? { resolution: await caseResolution(source, o.tenantId, target) }
      : {}),
  };
  return {
    input: {
      tenantId: o.tenantId,
      target: { objectType: target.objectType, recordId: target.id },
      now: o.now,
      record,
      activity,
      context,
    },
    fields,
    activityIds: activities.map((a) => a.id),
    relatedAccount: account?.id,
    tokenSources,
  };
}

/**
 * Finds only on objects and fields the tenant's connector declares: a CRM that has no activity
 * or user objects (or does not expose a field) simply gives the agent less context, instead of a
 * request the connector must refuse. Gets pass through.
 */
function declaredOnly(source: CrmContextSource, schema: ClassifiedSchema): CrmContextSource {
  const declared = (objectType: string, fields: readonly string[]) => {
    const object = schema.objects.find((o) => o.objectType === objectType);
    return !!object && fields.every((f) => object.fields.some((d) => d.name === f));
  };
  return {
    schema: async () => schema,
    get: (tenantId, objectType, id) => source.get(tenantId, objectType, id),
    find: async (tenantId, objectType, equals, options) =>
      declared(objectType, [...Object.keys(equals), ...(options?.orderBy ? [options.orderBy] : [])])
        ? source.find(tenantId, objectType, equals, options)
        : [],
  };
}

async function activityOf(
  source: CrmContextSource,
  o: PrepareOptions,
  relatedIds: readonly string[],
): Promise<ContextRecord[]> {
  const max = o.maxActivity ?? DEFAULT_MAX_ACTIVITY;
  const all: ContextRecord[] = [];
  for (const relatedId of relatedIds)
    all.push(
      ...(await source.find(
        o.tenantId,
        'activity',
        { relatedId },
        { orderBy: 'occurredAt', descending: true, limit: max },
      )),
    );
  return all
    .sort((a, b) => String(b.fields['occurredAt']).localeCompare(String(a.fields['occurredAt'])))
    .slice(0, max);
}

/**
 * Records whose activity the agent reads: the target's own; for a contact also its account's and
 * the account's opportunities' and cases' (the latest conversation with that customer).
 */
async function relatedIdsOf(
  source: CrmContextSource,
  tenantId: string,
  target: ContextRecord,
  accountId: string | undefined,
): Promise<string[]> {
  if (target.objectType !== 'contact' || !accountId) return [target.id];
  const opportunities = await source.find(tenantId, 'opportunity', { accountId });
  const cases = await source.find(tenantId, 'case', { accountId });
  return [target.id, accountId, ...[...opportunities, ...cases].map((r) => r.id)];
}

function toContext(resolution: Resolution): AgentContext['resolution'] {
  if (resolution.kind === 'resolved') return { kind: 'resolved', id: resolution.id };
  if (resolution.kind === 'ambiguous')
    return {
      kind: 'ambiguous',
      candidates: resolution.candidates.map(({ id, why }) => ({ id, why })),
    };
  return { kind: 'none' };
}

/** Which case an inbound email means, among the sender's (or its account's) cases. */
async function caseResolution(
  source: CrmContextSource,
  tenantId: string,
  activity: ContextRecord,
): Promise<AgentContext['resolution']> {
  const relatedType = activity.fields['relatedType'];
  const relatedId = String(activity.fields['relatedId'] ?? '');
  if (relatedType === 'case') return { kind: 'resolved', id: relatedId };
  const contact =
    relatedType === 'contact' ? await source.get(tenantId, 'contact', relatedId) : undefined;
  const accountId =
    relatedType === 'account' ? relatedId : str(contact?.fields['accountId'] ?? undefined);
  const byId = new Map<string, ContextRecord>();
  if (relatedType === 'contact')
    for (const c of await source.find(tenantId, 'case', { contactId: relatedId }))
      byId.set(c.id, c);
  if (accountId)
    for (const c of await source.find(tenantId, 'case', { accountId })) byId.set(c.id, c);
  return toContext(resolveCaseReference(String(activity.fields['body'] ?? ''), [...byId.values()]));
}

/** A source over a fixed list of records (the CLI's demo dataset, tests). */
export class StaticContextSource implements CrmContextSource {
  constructor(
    private readonly classified: ClassifiedSchema,
    private readonly records: readonly ContextRecord[],
  ) {}

  async schema(): Promise<ClassifiedSchema> {
    return this.classified;
  }

  async get(_tenant: string, objectType: string, id: string): Promise<ContextRecord | undefined> {
    return this.records.find((r) => r.id === id && r.objectType === objectType);
  }

  async find(
    _tenant: string,
    objectType: string,
    equals: Readonly<Record<string, string>>,
    options: FindOptions = {},
  ): Promise<ContextRecord[]> {
    const matches = this.records.filter(
      (r) =>
        r.objectType === objectType &&
        Object.entries(equals).every(([k, v]) => r.fields[k] != null && String(r.fields[k]) === v),
    );
    if (options.orderBy) {
      const key = options.orderBy;
      const sign = options.descending ? -1 : 1;
      matches.sort((a, b) => sign * String(a.fields[key]).localeCompare(String(b.fields[key])));
    }
    return matches.slice(0, options.limit ?? 50);
  }
}
