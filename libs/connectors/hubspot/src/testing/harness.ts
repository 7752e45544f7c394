import { CrmAction } from '@mandate/contracts';
import type { ActionSample, ConformanceHarness } from '@mandate/connector-conformance';
import { HubSpotAdapter } from '../hubspot.adapter';
import { effectiveFieldMapping, parseHubSpotConfig, type HubSpotConfig } from '../hubspot.config';
import { HubSpotSchema } from '../hubspot.mapping';
import { FakeHubSpot, type FakeHubSpotOptions } from './fake-hubspot';

export interface HubSpotTestBed {
  readonly fake: FakeHubSpot;
  readonly config: HubSpotConfig;
  readonly schema: HubSpotSchema;
  /** A new adapter on the fake (same configuration, no state carried over). */
  newAdapter(overrides?: Partial<HubSpotConfig>): HubSpotAdapter;
  /** Creates a record in the fake from canonical fields; returns its id. */
  seed(objectType: string, fields: Readonly<Record<string, unknown>>): string;
  /** The record in canonical names, with its associated tasks/emails/notes as `activities`. */
  inspect(objectType: string, recordId: string): Record<string, unknown> | undefined;
}

/** A fake HubSpot and the configuration of an OAuth-app adapter on it. */
export async function hubspotTestBed(
  options: FakeHubSpotOptions & { tenantId?: string } = {},
): Promise<HubSpotTestBed> {
  const fake = await FakeHubSpot.start(options);
  const config = parseHubSpotConfig({
    tenantId: options.tenantId ?? 'tenant-hubspot-test',
    portalId: fake.portalId,
    basePath: fake.basePath,
    accessToken: fake.issueAccessToken(),
    oauth: {
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      refreshToken: fake.currentRefreshToken,
    },
    webhookClientSecret: fake.clientSecret,
  });
  const schema = new HubSpotSchema(effectiveFieldMapping(config));
  return {
    fake,
    config,
    schema,
    newAdapter: (overrides = {}) =>
      new HubSpotAdapter(parseHubSpotConfig({ ...config, ...overrides })),
    seed: (objectType, fields) =>
      fake.seed(schema.apiObject(objectType), schema.toHubSpot(objectType, fields)),
    inspect: (objectType, recordId) => {
      const apiObject = schema.apiObject(objectType);
      const o = fake.get(apiObject, recordId);
      if (!o) return undefined;
      const fields = schema.fromHubSpot(objectType, o.properties);
      if (schema.fields(objectType).some((s) => s.name === 'accountId')) {
        const company = fake.associated(apiObject, recordId, 'companies')[0];
        if (company) fields['accountId'] = company;
      }
      return { ...fields, activities: fake.activities(apiObject, recordId) };
    },
  };
}

type Activity = { kind: string; subject?: string; body?: string };
const activities = (f: Readonly<Record<string, unknown>>): Activity[] =>
  Array.isArray(f['activities']) ? (f['activities'] as Activity[]) : [];

/** One sample per supported action, against the fake's default pipelines and properties. */
export function hubspotSamples(recipientContactId: string): ActionSample[] {
  const lead = {
    industry: 'Software',
    status: 'NEW',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    lifecycleStage: 'lead',
    ownerId: '101',
  };
  const deal = {
    name: 'Acme renewal',
    stage: 'qualifiedtobuy',
    amountMinor: 1_250_000,
    currencyCode: 'EUR',
    ownerId: '101',
  };
  const ticket = { subject: 'Printer on fire', status: '1', priority: 'HIGH', ownerId: '101' };
  return [
    {
      objectType: 'lead',
      seed: lead,
      action: CrmAction.fromPartial({
        kind: {
          $case: 'updateField',
          value: { field: 'industry', value: 'Manufacturing', previousValue: 'Software' },
        },
      }),
      applied: (f) => f['industry'] === 'Manufacturing',
      conflicting: CrmAction.fromPartial({
        kind: {
          $case: 'updateField',
          value: { field: 'industry', value: 'Manufacturing', previousValue: 'Retail' },
        },
      }),
    },
    {
      objectType: 'lead',
      seed: lead,
      action: CrmAction.fromPartial({
        kind: {
          $case: 'qualifyLead',
          value: { score: 82, reason: 'budget and timeline confirmed' },
        },
      }),
      applied: (f) => f['lifecycleStage'] === 'salesqualifiedlead' && f['score'] === 82,
    },
    {
      objectType: 'lead',
      seed: lead,
      action: CrmAction.fromPartial({
        kind: { $case: 'disqualifyLead', value: { reasonCode: 'NO_BUDGET', reason: 'no budget' } },
      }),
      applied: (f) => f['status'] === 'UNQUALIFIED',
    },
    {
      objectType: 'opportunity',
      seed: deal,
      action: CrmAction.fromPartial({
        kind: { $case: 'assignOwner', value: { ownerId: '202', reason: 'territory' } },
      }),
      applied: (f) => f['ownerId'] === '202',
    },
    {
      objectType: 'lead',
      seed: lead,
      action: CrmAction.fromPartial({
        kind: {
          $case: 'createTask',
          value: {
            subject: 'Call back about the pilot',
            dueAt: '2030-01-15T09:00:00.000Z',
            ownerId: '',
            notes: 'Ask about the timeline',
          },
        },
      }),
      applied: (f) =>
        activities(f).some((a) => a.kind === 'task' && a.subject === 'Call back about the pilot'),
    },
    {
      objectType: 'lead',
      seed: lead,
      action: CrmAction.fromPartial({
        kind: {
          $case: 'sendEmail',
          value: {
            toContactId: recipientContactId,
            subject: 'Your pilot',
            body: 'Hello, here is the pilot plan.',
            templateId: 'tpl-pilot',
          },
        },
      }),
      applied: (f) => activities(f).some((a) => a.kind === 'email' && a.subject === 'Your pilot'),
    },
    {
      objectType: 'opportunity',
      seed: deal,
      action: CrmAction.fromPartial({
        kind: {
          $case: 'applyDiscount',
          value: {
            discountPercent: 12.5,
            reason: 'multi-year',
            listAmount: { currencyCode: 'EUR', amountMinor: '1250000' },
          },
        },
      }),
      applied: (f) => f['discountPercent'] === 12.5,
    },
    {
      objectType: 'opportunity',
      seed: deal,
      action: CrmAction.fromPartial({
        kind: {
          $case: 'moveOpportunityStage',
          value: { fromStage: 'qualifiedtobuy', toStage: 'contractsent' },
        },
      }),
      applied: (f) => f['stage'] === 'contractsent',
      conflicting: CrmAction.fromPartial({
        kind: {
          $case: 'moveOpportunityStage',
          value: { fromStage: 'appointmentscheduled', toStage: 'contractsent' },
        },
      }),
    },
    {
      objectType: 'case',
      seed: ticket,
      action: CrmAction.fromPartial({
        kind: {
          $case: 'replyToCase',
          value: { body: 'Checked the logs: firmware issue.', public: false },
        },
      }),
      applied: (f) =>
        activities(f).some(
          (a) => a.kind === 'note' && a.body === 'Checked the logs: firmware issue.',
        ),
    },
    {
      objectType: 'case',
      seed: ticket,
      action: CrmAction.fromPartial({
        kind: { $case: 'closeCase', value: { resolutionCode: 'RESOLVED', summary: 'Replaced' } },
      }),
      applied: (f) => f['status'] === '4' && f['resolutionCode'] === 'RESOLVED',
    },
  ];
}

/** The conformance harness: the fake HubSpot and an OAuth-app adapter on it. */
export async function hubspotHarness(): Promise<ConformanceHarness> {
  const bed = await hubspotTestBed({ tenantId: 'tenant-hubspot-conformance' });
  const recipient = bed.seed('contact', {
    name: 'Grace Hopper',
    email: 'grace@example.com',
    lifecycleStage: 'lead',
  });
  bed.fake.takeWebhooks(); // the recipient's creation is not part of any check
  return {
    adapter: bed.newAdapter(),
    tenantId: bed.config.tenantId,
    restartAdapter: async () => bed.newAdapter(),
    seed: async (objectType, fields) => bed.seed(objectType, fields),
    inspect: async (objectType, recordId) => bed.inspect(objectType, recordId),
    touch: async (objectType, recordId, fields) =>
      bed.fake.touch(
        bed.schema.apiObject(objectType),
        recordId,
        bed.schema.toHubSpot(objectType, fields),
      ),
    writeCount: async () => bed.fake.writeCount,
    injectFault: (fault, times) => bed.fake.injectFault(fault, times),
    takeWebhooks: async () => bed.fake.takeWebhooks(),
    samples: hubspotSamples(recipient),
    close: () => bed.fake.close(),
  };
}
