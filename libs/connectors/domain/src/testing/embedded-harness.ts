import type { ConformanceHarness, InjectedFault } from '@mandate/connector-conformance';
import { CrmAction } from '@mandate/contracts';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { CRM_RECORDS } from '../collections';
import { EmbeddedCrmAdapter } from '../embedded-adapter';
import { EmbeddedCrm, type CrmRecordDoc } from '../embedded-crm';

const TENANT = tenantId('conformance');
let seq = 0;
const nextId = (type: string) => `${type}-conf-${++seq}`;
const action = (kind: CrmAction['kind']) => CrmAction.fromPartial({ kind } as Partial<CrmAction>);

/** The embedded CRM on a fresh in-memory store, for the conformance kit. */
export async function embeddedHarness(): Promise<ConformanceHarness> {
  const store = new InMemoryDocumentStore<CrmRecordDoc>(CRM_RECORDS);
  let writes = 0;
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'insert' || prop === 'update' || prop === 'upsert' || prop === 'insertMany')
        return async (...args: unknown[]) => {
          const r = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          writes++;
          return r;
        };
      return value.bind(target);
    },
  });
  const crm = new EmbeddedCrm(counted);
  return {
    tenantId: TENANT,
    adapter: new EmbeddedCrmAdapter(crm, TENANT),
    // A restarted connector: a new CRM facade and adapter on the same store.
    restartAdapter: async () => new EmbeddedCrmAdapter(new EmbeddedCrm(counted), TENANT),
    seed: async (objectType, fields) => {
      const id = nextId(objectType);
      await crm.create(TENANT, objectType, id, { ...fields });
      return id;
    },
    inspect: async (_objectType, recordId) => {
      const r = await store.get(TENANT, recordId);
      return r ? { ...r.fields, activityCount: r.activities.length } : undefined;
    },
    touch: async (objectType, recordId, fields) => {
      await crm.update(TENANT, objectType, recordId, { ...fields });
    },
    writeCount: async () => writes,
    injectFault: (fault: InjectedFault, times?: number) => crm.simulateFault(fault, times),
    samples: [
      {
        objectType: 'lead',
        seed: { name: 'Conformance Lead', status: 'New', industry: 'retail' },
        action: action({
          $case: 'updateField',
          value: { field: 'industry', value: 'logistics', previousValue: 'retail' },
        }),
        conflicting: action({
          $case: 'updateField',
          value: { field: 'industry', value: 'logistics', previousValue: 'software' },
        }),
        applied: (f) => f['industry'] === 'logistics',
      },
      {
        objectType: 'lead',
        seed: { name: 'Hot Lead', status: 'New' },
        action: action({
          $case: 'qualifyLead',
          value: { score: 82, reason: 'budget and timeline' },
        }),
        applied: (f) => f['status'] === 'Qualified' && f['score'] === 82,
      },
      {
        objectType: 'lead',
        seed: { name: 'Cold Lead', status: 'New' },
        action: action({
          $case: 'disqualifyLead',
          value: { reasonCode: 'NOT_A_FIT', reason: 'student' },
        }),
        applied: (f) => f['status'] === 'Disqualified',
      },
      {
        objectType: 'account',
        seed: { name: 'Conformance Co', ownerId: 'usr-0001' },
        action: action({
          $case: 'assignOwner',
          value: { ownerId: 'usr-0002', reason: 'territory' },
        }),
        applied: (f) => f['ownerId'] === 'usr-0002',
      },
      {
        objectType: 'lead',
        seed: { name: 'Task Lead', status: 'Working' },
        action: action({
          $case: 'createTask',
          value: { subject: 'Call back', ownerId: '', notes: '', dueAt: undefined },
        }),
        applied: (f) => f['activityCount'] === 1,
      },
      {
        objectType: 'contact',
        seed: { name: 'Consenting Contact', emailConsent: true, optedOut: false },
        action: action({
          $case: 'sendEmail',
          value: { toContactId: '', subject: 'Hello', body: 'Hi', templateId: '' },
        }),
        applied: (f) => f['activityCount'] === 1,
      },
      {
        objectType: 'opportunity',
        seed: {
          name: 'Conformance Deal',
          stage: 'proposal',
          amountMinor: 5_000_000,
          discountPercent: 0,
        },
        action: action({
          $case: 'applyDiscount',
          value: { discountPercent: 10, reason: 'multi-year', listAmount: undefined },
        }),
        applied: (f) => f['discountPercent'] === 10,
      },
      {
        objectType: 'opportunity',
        seed: { name: 'Moving Deal', stage: 'proposal' },
        action: action({
          $case: 'moveOpportunityStage',
          value: { fromStage: 'proposal', toStage: 'negotiation' },
        }),
        conflicting: action({
          $case: 'moveOpportunityStage',
          value: { fromStage: 'discovery', toStage: 'negotiation' },
        }),
        applied: (f) => f['stage'] === 'negotiation',
      },
      {
        objectType: 'case',
        seed: { subject: 'Login fails', status: 'Open' },
        action: action({ $case: 'replyToCase', value: { body: 'We are on it', public: true } }),
        applied: (f) => f['activityCount'] === 1,
      },
      {
        objectType: 'case',
        seed: { subject: 'Invoice copy', status: 'Open' },
        action: action({
          $case: 'closeCase',
          value: { resolutionCode: 'RESOLVED', summary: 'sent' },
        }),
        applied: (f) => f['status'] === 'Closed',
      },
    ],
    close: async () => undefined,
  };
}
