import { planCrmChange, PermanentActionError } from './crm-action.applier';

describe('planCrmChange', () => {
  const lead = { objectType: 'lead', fields: { status: 'New' } };

  it('qualifies a lead', () => {
    expect(
      planCrmChange(lead, { kind: { $case: 'qualifyLead', value: { score: 80, reason: 'fit' } } })
        .set,
    ).toMatchObject({
      status: 'Qualified',
      score: 80,
    });
  });

  it('refuses an action on the wrong object type as a permanent error', () => {
    expect(() =>
      planCrmChange(lead, {
        kind: { $case: 'closeCase', value: { resolutionCode: 'x', summary: '' } },
      }),
    ).toThrow(PermanentActionError);
  });

  it('refuses writes to protected fields', () => {
    expect(() =>
      planCrmChange(lead, {
        kind: { $case: 'updateField', value: { field: 'id', value: 'x', previousValue: '' } },
      }),
    ).toThrow(/cannot be written/);
  });

  it('detects a stage conflict instead of overwriting', () => {
    const opp = { objectType: 'opportunity', fields: { stage: 'Negotiation' } };
    expect(() =>
      planCrmChange(opp, {
        kind: {
          $case: 'moveOpportunityStage',
          value: { fromStage: 'Discovery', toStage: 'Proposal' },
        },
      }),
    ).toThrow(/STAGE_CONFLICT|not "Discovery"/);
  });
});
