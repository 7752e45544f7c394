import { ChangeType, CrmChangeEvent } from '@mandate/contracts';
import { triggersOf } from './triggers';

function change(
  objectType: string,
  changeType: ChangeType,
  snapshot: Record<string, unknown> = {},
  changedFields: string[] = [],
): CrmChangeEvent {
  return CrmChangeEvent.fromPartial({
    eventId: 'e',
    tenantId: 'acme',
    objectType,
    recordId: `${objectType}-1`,
    changeType,
    snapshot,
    changedFields,
  });
}

const agents = (e: CrmChangeEvent) =>
  triggersOf(e).map((t) => `${t.agent}@${t.target.objectType}/${t.target.recordId}`);
const { CHANGE_TYPE_CREATED: CREATED, CHANGE_TYPE_UPDATED: UPDATED } = ChangeType;

describe('triggersOf', () => {
  it('starts the lead agent on a new or re-opened lead only', () => {
    expect(agents(change('lead', CREATED))).toEqual(['lead-qualification@lead/lead-1']);
    expect(agents(change('lead', UPDATED, { status: 'New' }, ['status']))).toHaveLength(1);
    expect(agents(change('lead', UPDATED, { status: 'Qualified' }, ['status']))).toEqual([]);
    expect(agents(change('lead', UPDATED, { status: 'New' }, ['title']))).toEqual([]);
  });

  it('starts the deal desk on a new deal or new notes, not on its own discount', () => {
    expect(agents(change('opportunity', CREATED))).toEqual(['deal-desk@opportunity/opportunity-1']);
    expect(agents(change('opportunity', UPDATED, {}, ['notes']))).toHaveLength(1);
    expect(agents(change('opportunity', UPDATED, {}, ['discountPercent', 'amountMinor']))).toEqual(
      [],
    );
  });

  it('routes inbound email: deal → deal desk, case → triage of the case, else triage of the email', () => {
    const inbound = (relatedType: string, relatedId: string) =>
      agents(change('activity', CREATED, { kind: 'inbound_email', relatedType, relatedId }));
    expect(inbound('opportunity', 'opp-7')).toEqual(['deal-desk@opportunity/opp-7']);
    expect(inbound('case', 'case-3')).toEqual(['service-triage@case/case-3']);
    expect(inbound('contact', 'con-2')).toEqual(['service-triage@activity/activity-1']);
  });

  it('starts outreach after a meeting or call with a contact, never after an outbound email', () => {
    const act = (kind: string) =>
      agents(change('activity', CREATED, { kind, relatedType: 'contact', relatedId: 'con-9' }));
    expect(act('meeting')).toEqual(['outreach@contact/con-9']);
    expect(act('call')).toEqual(['outreach@contact/con-9']);
    expect(act('outbound_email')).toEqual([]);
    expect(act('email')).toEqual([]);
  });

  it('ignores updates to cases and unknown object types', () => {
    expect(agents(change('case', UPDATED, {}, ['priority']))).toEqual([]);
    expect(agents(change('case', CREATED))).toEqual(['service-triage@case/case-1']);
    expect(agents(change('invoice', CREATED))).toEqual([]);
  });
});
