import { CrmAction } from '@mandate/contracts';
import type { ActionSample, ConformanceHarness } from '@mandate/connector-conformance';
import { TASK_KEY_FIELD } from '../actions';
import type { SalesforceConfig } from '../config';
import { toId18 } from '../ids';
import { DEFAULT_SALESFORCE_MAPPING, SalesforceMapping } from '../mapping';
import { ACTION_FIELDS, ACTION_OBJECT, SalesforceAdapter } from '../salesforce.adapter';
import { FakeSalesforce, type FakeSalesforceOptions, type SfRecord } from './fake-salesforce';

/** Two users of the fake org, for owner changes. */
export const FAKE_USERS = {
  alice: toId18('0055g00000AliceA'.slice(0, 15)),
  bob: toId18('0055g00000BobbyB'.slice(0, 15)),
} as const;

/** A contact that exists in every harness' org: the recipient of the send_email sample. */
export const RECIPIENT_CONTACT_ID = toId18('0035g00000Recip');

/**
 * The fields of the fake org's objects: the default mapping's, plus what the adapter writes on
 * Task, CaseComment and Mandate_Action__c. Anything else answers INVALID_FIELD, as in an org.
 */
export function fakeSchema(): Record<string, string[]> {
  const schema: Record<string, string[]> = {};
  for (const m of Object.values(DEFAULT_SALESFORCE_MAPPING))
    schema[m.crmObject] = [...Object.values(m.fields), 'FirstName', 'LastName'];
  schema['Task'] = [
    'Subject',
    'Description',
    'ActivityDate',
    'OwnerId',
    'Status',
    'Priority',
    'WhoId',
    'WhatId',
    'TaskSubtype',
    TASK_KEY_FIELD,
  ];
  schema['CaseComment'] = ['ParentId', 'CommentBody', 'IsPublished'];
  schema[ACTION_OBJECT] = ['Name', ...Object.values(ACTION_FIELDS)];
  return schema;
}

export interface SalesforceHarness extends ConformanceHarness {
  readonly adapter: SalesforceAdapter;
  /** The fake org, for tests that look beyond the kit's interface. */
  readonly fake: FakeSalesforce;
  readonly config: SalesforceConfig;
  restartAdapter(): Promise<SalesforceAdapter>;
}

export interface SalesforceHarnessOptions {
  readonly fake?: FakeSalesforceOptions;
  /** Overrides of the adapter configuration (the connection settings come from the fake). */
  readonly config?: Partial<SalesforceConfig>;
}

const action = (a: Parameters<typeof CrmAction.fromPartial>[0]) => CrmAction.fromPartial(a);

/** One sample per supported action, each on a record the kit seeds fresh. */
export const SALESFORCE_SAMPLES: readonly ActionSample[] = [
  {
    objectType: 'lead',
    seed: {
      company: 'Acme Corp',
      industry: 'Retail',
      name: 'Ada Lovelace',
      status: 'Open - Not Contacted',
    },
    action: action({
      kind: {
        $case: 'updateField',
        value: { field: 'industry', value: 'Technology', previousValue: 'Retail' },
      },
    }),
    applied: (f) => f['industry'] === 'Technology',
    conflicting: action({
      kind: {
        $case: 'updateField',
        value: { field: 'industry', value: 'Technology', previousValue: 'Manufacturing' },
      },
    }),
  },
  {
    objectType: 'lead',
    seed: { company: 'Initech', status: 'Open - Not Contacted', score: 10 },
    action: action({
      kind: { $case: 'qualifyLead', value: { score: 85, reason: 'Budget confirmed' } },
    }),
    applied: (f) => f['status'] === 'Qualified' && f['score'] === 85,
  },
  {
    objectType: 'lead',
    seed: { company: 'Hooli', status: 'Open - Not Contacted' },
    action: action({
      kind: {
        $case: 'disqualifyLead',
        value: { reasonCode: 'NO_BUDGET', reason: 'No budget this year' },
      },
    }),
    applied: (f) => f['status'] === 'Unqualified' && f['disqualificationCode'] === 'NO_BUDGET',
  },
  {
    objectType: 'account',
    seed: { name: 'Globex', industry: 'Energy', ownerId: FAKE_USERS.alice },
    action: action({
      kind: { $case: 'assignOwner', value: { ownerId: FAKE_USERS.bob, reason: 'territory' } },
    }),
    applied: (f) => f['ownerId'] === FAKE_USERS.bob,
  },
  {
    objectType: 'opportunity',
    seed: {
      name: 'Renewal 2025',
      stage: 'Prospecting',
      amountMinor: 1250000,
      ownerId: FAKE_USERS.alice,
    },
    action: action({
      kind: {
        $case: 'createTask',
        value: {
          subject: 'Call back about renewal',
          dueAt: '2025-02-01T09:00:00.000Z',
          ownerId: '',
          notes: 'Bring pricing',
        },
      },
    }),
    applied: (f) =>
      activities(f).some((a) => a['type'] === 'Task' && a['subject'] === 'Call back about renewal'),
  },
  {
    objectType: 'account',
    seed: { name: 'Umbrella', industry: 'Pharma' },
    action: action({
      kind: {
        $case: 'sendEmail',
        value: {
          toContactId: RECIPIENT_CONTACT_ID,
          subject: 'Your quote',
          body: 'Please find the quote attached.',
          templateId: 'quote-v1',
        },
      },
    }),
    applied: (f) =>
      activities(f).some(
        (a) => a['type'] === 'Task' && a['subtype'] === 'Email' && a['subject'] === 'Your quote',
      ),
  },
  {
    objectType: 'opportunity',
    seed: {
      name: 'Big Deal',
      stage: 'Negotiation/Review',
      amountMinor: 5000000,
      discountPercent: 0,
    },
    action: action({
      kind: {
        $case: 'applyDiscount',
        value: {
          discountPercent: 12.5,
          reason: 'multi-year',
          listAmount: { currencyCode: 'USD', amountMinor: '5000000' },
        },
      },
    }),
    applied: (f) => f['discountPercent'] === 12.5,
  },
  {
    objectType: 'opportunity',
    seed: { name: 'Pipeline Deal', stage: 'Prospecting', amountMinor: 990000 },
    action: action({
      kind: {
        $case: 'moveOpportunityStage',
        value: { fromStage: 'Prospecting', toStage: 'Qualification' },
      },
    }),
    applied: (f) => f['stage'] === 'Qualification',
    conflicting: action({
      kind: {
        $case: 'moveOpportunityStage',
        value: { fromStage: 'Id. Decision Makers', toStage: 'Qualification' },
      },
    }),
  },
  {
    objectType: 'case',
    seed: { subject: 'Cannot log in', status: 'New', priority: 'High' },
    action: action({
      kind: { $case: 'replyToCase', value: { body: 'We reset your password.', public: true } },
    }),
    applied: (f) =>
      activities(f).some(
        (a) =>
          a['type'] === 'CaseComment' &&
          a['public'] === true &&
          a['body'] === 'We reset your password.',
      ),
  },
  {
    objectType: 'case',
    seed: { subject: 'Invoice wrong', status: 'Working', priority: 'Medium' },
    action: action({
      kind: {
        $case: 'closeCase',
        value: { resolutionCode: 'RESOLVED', summary: 'Credit note issued' },
      },
    }),
    applied: (f) => f['status'] === 'Closed' && f['resolutionCode'] === 'RESOLVED',
  },
];

function activities(fields: Readonly<Record<string, unknown>>): Array<Record<string, unknown>> {
  const a = fields['activities'];
  return Array.isArray(a) ? (a as Array<Record<string, unknown>>) : [];
}

/**
 * The conformance harness: a fresh fake org and an adapter connected to it through the OAuth
 * refresh flow (no access token at start: the first call gets a session first).
 *
 * `inspect` returns the record's mapped fields (canonical names, empty fields left out) plus,
 * under `activities`, what hangs off it in Salesforce — Tasks (WhatId/WhoId) and CaseComments
 * (ParentId) — so create_task, send_email and reply_to_case have a visible effect.
 */
export async function salesforceHarness(
  options: SalesforceHarnessOptions = {},
): Promise<SalesforceHarness> {
  const fake = await FakeSalesforce.start({ schema: fakeSchema(), ...(options.fake ?? {}) });
  const tenantId = 'tenant-salesforce-conformance';
  const config: SalesforceConfig = {
    tenantId,
    loginUrl: fake.url,
    instanceUrl: fake.url,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    refreshToken: fake.refreshToken,
    apiVersion: '62.0',
    pollLagSeconds: 0,
    ...(options.config ?? {}),
  };
  const mapping = new SalesforceMapping(config.fieldMapping, config.minorUnitDigits ?? 2);
  fake.seed(
    'Contact',
    { FirstName: 'Rita', LastName: 'Recipient', Name: 'Rita Recipient', HasOptedOutOfEmail: false },
    { id: RECIPIENT_CONTACT_ID },
  );
  const adapters: SalesforceAdapter[] = [];
  const newAdapter = () => {
    const a = new SalesforceAdapter(config);
    adapters.push(a);
    return a;
  };
  const adapter = newAdapter();

  const crm = (objectType: string, fields: Readonly<Record<string, unknown>>): SfRecord =>
    mapping.toCrm(objectType, fields);

  return {
    adapter,
    tenantId,
    fake,
    config,
    samples: SALESFORCE_SAMPLES,
    restartAdapter: async () => newAdapter(),
    seed: async (objectType, fields) => {
      const record = crm(objectType, fields);
      // Lead/Contact Name is compound: seed its parts too, as Salesforce would hold them.
      const crmObject = mapping.crmObject(objectType);
      if ((crmObject === 'Lead' || crmObject === 'Contact') && typeof record['Name'] === 'string')
        record['LastName'] = record['Name'];
      return fake.seed(crmObject, record);
    },
    inspect: async (objectType, recordId) => {
      const crmObject = mapping.crmObject(objectType);
      const record = fake.get(crmObject, recordId);
      if (!record || record['IsDeleted'] === true) return undefined;
      const fields = mapping.fromCrm(objectType, record, { omitNull: true });
      const related = [
        ...fake
          .find('Task', (t) => t['WhatId'] === recordId || t['WhoId'] === recordId)
          .map((t) => ({
            type: 'Task',
            subject: t['Subject'],
            subtype: t['TaskSubtype'] ?? null,
            status: t['Status'],
          })),
        ...fake
          .find('CaseComment', (c) => c['ParentId'] === recordId)
          .map((c) => ({
            type: 'CaseComment',
            body: c['CommentBody'],
            public: c['IsPublished'] === true,
          })),
      ];
      return related.length ? { ...fields, activities: related } : fields;
    },
    touch: async (objectType, recordId, fields) =>
      fake.touch(mapping.crmObject(objectType), recordId, crm(objectType, fields)),
    writeCount: async () => fake.writeCount(),
    injectFault: (fault, times) => fake.injectFault(fault, times),
    close: async () => {
      await Promise.all(adapters.map((a) => a.close()));
      await fake.close();
    },
  };
}
