import { CrmAction } from '@mandate/contracts';
import { crmValuesMatch, planAction, renderedMatch, type PlanContext } from './actions';
import { SalesforceMapping } from './mapping';

const mapping = new SalesforceMapping(undefined, 2);

describe('SalesforceMapping values', () => {
  it('converts amountMinor to Amount in major units and back, per minor-unit digits', () => {
    expect(mapping.toCrm('opportunity', { amountMinor: 1999, stage: 'Prospecting' })).toEqual({
      Amount: 19.99,
      StageName: 'Prospecting',
    });
    expect(
      mapping.fromCrm(
        'opportunity',
        { Amount: 19.99, StageName: null, Foo__c: 1 },
        { omitNull: true },
      ),
    ).toEqual({
      amountMinor: 1999,
    });
    expect(new SalesforceMapping(undefined, 0).toCrm('opportunity', { amountMinor: 500 })).toEqual({
      Amount: 500,
    });
  });

  it('parses update_field strings by field type; empty clears', () => {
    expect(mapping.parseUpdateValue('lead', 'employees', '250')).toBe(250);
    expect(mapping.parseUpdateValue('lead', 'industry', 'Retail')).toBe('Retail');
    expect(mapping.parseUpdateValue('opportunity', 'amountMinor', '125000')).toBe(1250);
    expect(mapping.parseUpdateValue('lead', 'optedOut', 'true')).toBe(true);
    expect(mapping.parseUpdateValue('lead', 'industry', '')).toBeNull();
    for (const [object, field, value] of [
      ['lead', 'employees', '12 people'],
      ['lead', 'optedOut', 'yes'],
      ['opportunity', 'amountMinor', '12.5'],
    ])
      expect(() => mapping.parseUpdateValue(object, field, value)).toThrow(
        expect.objectContaining({
          kind: 'permanent',
          code: 'INVALID_VALUE',
          message: expect.not.stringContaining(value),
        }),
      );
  });

  it('renders Salesforce values as update_field strings and compares them leniently but exactly', () => {
    expect(mapping.render('lead', 'score', 15)).toBe('15');
    expect(mapping.render('lead', 'optedOut', false)).toBe('false');
    expect(mapping.render('lead', 'industry', null)).toBe('');
    expect(mapping.render('opportunity', 'amountMinor', 12.5)).toBe('1250');
    expect(renderedMatch('15', '15.0')).toBe(true);
    expect(renderedMatch('2025-01-01T00:00:00.000+0000', '2025-01-01T00:00:00Z')).toBe(true);
    expect(renderedMatch('Retail', 'retail')).toBe(false);
    expect(crmValuesMatch(null, '')).toBe(true);
    expect(crmValuesMatch(12.5, 12.5)).toBe(true);
    expect(crmValuesMatch('A', 'B')).toBe(false);
  });
});

describe('planAction', () => {
  const ctx: PlanContext = {
    objectType: 'opportunity',
    crmObject: 'Opportunity',
    recordId: '0065g0000000001AAA',
    externalKey: 'k',
    mapping,
    leadQualifiedStatus: 'Qualified',
    leadDisqualifiedStatus: 'Unqualified',
    caseClosedStatus: 'Closed',
    now: () => new Date('2025-05-06T07:08:09Z'),
  };
  const plan = (
    action: Parameters<typeof CrmAction.fromPartial>[0],
    c: Partial<PlanContext> = {},
  ) => planAction(CrmAction.fromPartial(action), { ...ctx, ...c });

  it('sets the mapped fields and reads what it sets and checks', () => {
    const p = plan({
      kind: {
        $case: 'moveOpportunityStage',
        value: { fromStage: 'Prospecting', toStage: 'Closed Won' },
      },
    });
    expect(p).toMatchObject({
      actionType: 'move_opportunity_stage',
      reversible: true,
      set: { StageName: 'Closed Won' },
      read: ['StageName'],
      checks: [
        { field: 'stage', crmField: 'StageName', expected: 'Prospecting', code: 'STAGE_MISMATCH' },
      ],
    });
    expect(
      plan({ kind: { $case: 'moveOpportunityStage', value: { toStage: 'Closed Won' } } }).checks,
    ).toEqual([]);
  });

  it('links tasks to people as Who and to other records as What', () => {
    const task = {
      kind: {
        $case: 'createTask' as const,
        value: { subject: 'Call', ownerId: '0055g0000000001AAA' },
      },
    };
    expect(plan(task).creates({})[0].body).toMatchObject({
      WhatId: ctx.recordId,
      OwnerId: '0055g0000000001AAA',
    });
    expect(
      plan(task, { objectType: 'lead', crmObject: 'Lead', recordId: '00Q5g0000000001AAA' }).creates(
        {},
      )[0].body,
    ).toMatchObject({ WhoId: '00Q5g0000000001AAA' });
    const email = plan({
      kind: {
        $case: 'sendEmail',
        value: { toContactId: '0035g0000000001AAA', subject: 's', body: 'b' },
      },
    });
    expect(email.recipientId).toBe('0035g0000000001AAA');
    expect(email.creates({})[0]).toMatchObject({
      sobject: 'Task',
      upsertKey: 'k',
      body: {
        WhoId: '0035g0000000001AAA',
        WhatId: ctx.recordId,
        TaskSubtype: 'Email',
        ActivityDate: '2025-05-06',
      },
    });
  });

  it.each([
    [{ kind: { $case: 'applyDiscount', value: { discountPercent: 0 } } }, 'INVALID_DISCOUNT'],
    [{ kind: { $case: 'applyDiscount', value: { discountPercent: 120 } } }, 'INVALID_DISCOUNT'],
    [{ kind: { $case: 'assignOwner', value: { ownerId: 'bob' } } }, 'INVALID_OWNER'],
    [{ kind: { $case: 'createTask', value: { subject: '' } } }, 'INVALID_TASK'],
    [
      { kind: { $case: 'sendEmail', value: { toContactId: '', subject: 's', body: 'b' } } },
      'INVALID_RECIPIENT',
    ],
    [{ kind: { $case: 'qualifyLead', value: { score: 50 } } }, 'WRONG_OBJECT_TYPE'],
    [
      { kind: { $case: 'updateField', value: { field: 'name', value: 'x' } } },
      'FIELD_NOT_WRITABLE',
    ],
    [{ kind: { $case: 'updateField', value: { field: 'colour', value: 'x' } } }, 'UNMAPPED_FIELD'],
  ] as const)('refuses %j with %s', (action, code) => {
    expect(() => plan(action as Parameters<typeof CrmAction.fromPartial>[0])).toThrow(
      expect.objectContaining({ kind: 'permanent', code }),
    );
  });
});
